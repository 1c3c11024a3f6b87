CREATE TABLE "deployments" (
	"chain_id" integer PRIMARY KEY NOT NULL,
	"part_registry" text NOT NULL,
	"registry_bytecode_hash" text,
	"schema_tag" text NOT NULL,
	"participants_hash" text NOT NULL,
	"lifecycles_hash" text NOT NULL,
	"version" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
