CREATE TABLE "chain_intents" (
	"key" text PRIMARY KEY NOT NULL,
	"chain_id" integer NOT NULL,
	"signer" text NOT NULL,
	"to_address" text NOT NULL,
	"data" text NOT NULL,
	"value" text DEFAULT '0' NOT NULL,
	"part_id" text,
	"step_id" text,
	"status" text NOT NULL,
	"tx_key" text,
	"item_index" integer,
	"error" jsonb,
	"attempts" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "chain_txs" ADD COLUMN "block_hash" text;--> statement-breakpoint
ALTER TABLE "chain_txs" ADD COLUMN "items" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "chain_txs" ADD COLUMN "attempts" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "chain_txs" ADD COLUMN "max_fee_per_gas" text;--> statement-breakpoint
ALTER TABLE "chain_txs" ADD COLUMN "max_priority_fee_per_gas" text;--> statement-breakpoint
ALTER TABLE "chain_txs" ADD COLUMN "sent_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "chain_txs" ADD COLUMN "replaced_by" text;--> statement-breakpoint
CREATE INDEX "chain_intents_queue_idx" ON "chain_intents" USING btree ("chain_id","signer","status","created_at");--> statement-breakpoint
CREATE INDEX "chain_intents_tx_idx" ON "chain_intents" USING btree ("tx_key");--> statement-breakpoint
CREATE INDEX "chain_intents_step_idx" ON "chain_intents" USING btree ("part_id","step_id");--> statement-breakpoint
CREATE INDEX "chain_txs_sender_idx" ON "chain_txs" USING btree ("chain_id","from_address","nonce");--> statement-breakpoint
CREATE INDEX "chain_txs_status_idx" ON "chain_txs" USING btree ("status");