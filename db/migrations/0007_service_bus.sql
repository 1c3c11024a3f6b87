CREATE TABLE "intake_messages" (
	"message_id" text PRIMARY KEY NOT NULL,
	"type" text,
	"part_id" text,
	"participant_id" text,
	"status" text NOT NULL,
	"reason" text,
	"description" text,
	"result" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "topic_cursors" (
	"topic" text PRIMARY KEY NOT NULL,
	"cursor" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "intake_messages_part_idx" ON "intake_messages" USING btree ("part_id");