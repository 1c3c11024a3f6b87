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
CREATE UNIQUE INDEX "mirror_anchors_seq_idx" ON "mirror_anchors" USING btree ("chain_id","address","seq");