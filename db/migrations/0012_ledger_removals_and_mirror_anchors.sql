CREATE TABLE "ledger_removals" (
	"id" integer PRIMARY KEY DEFAULT nextval('ledger_events_id_seq') NOT NULL,
	"chain_id" integer NOT NULL,
	"address" text NOT NULL,
	"removed_seq" integer NOT NULL,
	"reorg_id" integer NOT NULL,
	"block_number" bigint NOT NULL,
	"block_hash" text NOT NULL,
	"log_index" integer NOT NULL,
	"tx_hash" text NOT NULL,
	"name" text NOT NULL,
	"part_ids" text[] NOT NULL,
	"participant_ids" text[] NOT NULL,
	"args" jsonb NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"removed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "mirror_anchors" (
	"id" serial PRIMARY KEY NOT NULL,
	"chain_id" integer NOT NULL,
	"address" text NOT NULL,
	"seq" integer NOT NULL,
	"head" text NOT NULL,
	"tx_hash" text,
	"block_number" bigint,
	"anchored_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ledger_removals" ADD CONSTRAINT "ledger_removals_reorg_id_ledger_reorgs_id_fk" FOREIGN KEY ("reorg_id") REFERENCES "public"."ledger_reorgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ledger_removals_contract_idx" ON "ledger_removals" USING btree ("chain_id","address","id");--> statement-breakpoint
CREATE UNIQUE INDEX "mirror_anchors_seq_idx" ON "mirror_anchors" USING btree ("chain_id","address","seq");