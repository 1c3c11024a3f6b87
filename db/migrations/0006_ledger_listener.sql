-- The ledger listener becomes the only writer of the mirror, in chain order and hash-chained. What
-- earlier versions mirrored from receipts is dropped here (TRUNCATE also locks out writers of the
-- old version until the new columns exist) and read again from the chain, from the contract's
-- deployment block: SQL is a rebuildable mirror.
TRUNCATE "ledger_events", "ownership", "part_links", "certificates";--> statement-breakpoint
UPDATE "parts" SET "owner_id" = NULL, "decommissioned_at" = NULL;--> statement-breakpoint
CREATE TABLE "event_subscriptions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"owner_id" text NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"filter" jsonb NOT NULL,
	"cursor" bigint NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"url" text,
	"secret" text,
	"failures" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_cursors" (
	"chain_id" integer NOT NULL,
	"address" text NOT NULL,
	"start_block" bigint NOT NULL,
	"block_number" bigint NOT NULL,
	"block_hash" text,
	"head_block" bigint,
	"last_error" text,
	"last_error_at" timestamp with time zone,
	"failures" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ledger_cursors_chain_id_address_pk" PRIMARY KEY("chain_id","address")
);
--> statement-breakpoint
CREATE TABLE "ledger_reorgs" (
	"id" serial PRIMARY KEY NOT NULL,
	"chain_id" integer NOT NULL,
	"address" text NOT NULL,
	"from_block" bigint NOT NULL,
	"to_block" bigint NOT NULL,
	"removed_events" integer NOT NULL,
	"removed" jsonb NOT NULL,
	"detected_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" serial PRIMARY KEY NOT NULL,
	"subscription_id" uuid NOT NULL,
	"event_seq" integer NOT NULL,
	"attempt" integer NOT NULL,
	"status_code" integer,
	"error" text,
	"duration_ms" integer NOT NULL,
	"delivered" boolean NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ledger_events" ADD COLUMN "address" text NOT NULL;--> statement-breakpoint
ALTER TABLE "ledger_events" ADD COLUMN "block_hash" text NOT NULL;--> statement-breakpoint
ALTER TABLE "ledger_events" ADD COLUMN "topics" text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "ledger_events" ADD COLUMN "data" text NOT NULL;--> statement-breakpoint
ALTER TABLE "ledger_events" ADD COLUMN "participant_ids" text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "ledger_events" ADD COLUMN "prev_hash" text NOT NULL;--> statement-breakpoint
ALTER TABLE "ledger_events" ADD COLUMN "hash" text NOT NULL;--> statement-breakpoint
ALTER TABLE "ledger_events" ADD COLUMN "mirrored_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "event_subscriptions" ADD CONSTRAINT "event_subscriptions_owner_id_participants_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_subscription_id_event_subscriptions_id_fk" FOREIGN KEY ("subscription_id") REFERENCES "public"."event_subscriptions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "event_subscriptions_owner_name_idx" ON "event_subscriptions" USING btree ("owner_id","name");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_subscription_idx" ON "webhook_deliveries" USING btree ("subscription_id","id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_event_idx" ON "webhook_deliveries" USING btree ("subscription_id","event_seq");--> statement-breakpoint
CREATE INDEX "ledger_events_participants_idx" ON "ledger_events" USING gin ("participant_ids");--> statement-breakpoint
CREATE INDEX "ledger_events_contract_block_idx" ON "ledger_events" USING btree ("chain_id","address","block_number");