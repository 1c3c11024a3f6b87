CREATE TABLE "lifecycle_defaults" (
	"name" text PRIMARY KEY NOT NULL,
	"version" integer NOT NULL,
	"set_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "lifecycle_definitions" ADD COLUMN "deprecated_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "parts" ADD COLUMN "roles" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "lifecycle_defaults" ADD CONSTRAINT "lifecycle_defaults_name_version_lifecycle_definitions_name_version_fk" FOREIGN KEY ("name","version") REFERENCES "public"."lifecycle_definitions"("name","version") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Until now the default was the latest version: keep it so for every lifecycle already published.
INSERT INTO "lifecycle_defaults" ("name", "version", "set_by")
SELECT "name", max("version"), 'migration' FROM "lifecycle_definitions" GROUP BY "name";
