CREATE TABLE "operator_actions" (
	"id" serial PRIMARY KEY NOT NULL,
	"request_id" text NOT NULL,
	"part_id" text NOT NULL,
	"step_id" text,
	"action" text NOT NULL,
	"actor" text NOT NULL,
	"reason" text,
	"before" jsonb NOT NULL,
	"after" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "operator_actions_request_id_unique" UNIQUE("request_id")
);
--> statement-breakpoint
ALTER TABLE "chain_txs" ADD COLUMN "part_id" text;--> statement-breakpoint
ALTER TABLE "chain_txs" ADD COLUMN "step_id" text;--> statement-breakpoint
ALTER TABLE "step_runs" ADD COLUMN "last_tx_hash" text;--> statement-breakpoint
ALTER TABLE "operator_actions" ADD CONSTRAINT "operator_actions_part_id_parts_id_fk" FOREIGN KEY ("part_id") REFERENCES "public"."parts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "operator_actions_part_idx" ON "operator_actions" USING btree ("part_id","id");--> statement-breakpoint
CREATE INDEX "chain_txs_step_idx" ON "chain_txs" USING btree ("part_id","step_id");--> statement-breakpoint
CREATE INDEX "step_runs_failed_idx" ON "step_runs" USING btree ("finished_at","part_id") WHERE status = 'failed';