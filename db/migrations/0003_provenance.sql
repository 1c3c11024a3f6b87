CREATE TABLE "api_keys" (
	"id" serial PRIMARY KEY NOT NULL,
	"participant_id" text NOT NULL,
	"key_hash" text NOT NULL,
	"prefix" text NOT NULL,
	"label" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_key_hash_unique" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "certificates" (
	"part_id" text NOT NULL,
	"document_hash" text NOT NULL,
	"kind" text NOT NULL,
	"issuer_address" text NOT NULL,
	"issuer_id" text,
	"valid_until" timestamp with time zone,
	"tx_hash" text NOT NULL,
	"attached_at" timestamp with time zone NOT NULL,
	CONSTRAINT "certificates_part_id_document_hash_pk" PRIMARY KEY("part_id","document_hash")
);
--> statement-breakpoint
CREATE TABLE "ledger_events" (
	"id" serial PRIMARY KEY NOT NULL,
	"chain_id" integer NOT NULL,
	"block_number" bigint NOT NULL,
	"log_index" integer NOT NULL,
	"tx_hash" text NOT NULL,
	"name" text NOT NULL,
	"part_ids" text[] NOT NULL,
	"args" jsonb NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "part_links" (
	"id" serial PRIMARY KEY NOT NULL,
	"parent_id" text NOT NULL,
	"child_id" text NOT NULL,
	"kind" text NOT NULL,
	"linked_tx" text NOT NULL,
	"linked_at" timestamp with time zone NOT NULL,
	"unlinked_tx" text,
	"unlinked_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "ownership" DROP CONSTRAINT "ownership_part_id_parts_id_fk";
--> statement-breakpoint
ALTER TABLE "ownership" ALTER COLUMN "to_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "ownership" ADD COLUMN "from_address" text;--> statement-breakpoint
ALTER TABLE "ownership" ADD COLUMN "to_address" text;--> statement-breakpoint
ALTER TABLE "ownership" ADD COLUMN "at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "participants" ADD COLUMN "document_key_ref" text;--> statement-breakpoint
ALTER TABLE "participants" ADD COLUMN "document_public_key" text;--> statement-breakpoint
ALTER TABLE "parts" ADD COLUMN "created_by" text;--> statement-breakpoint
ALTER TABLE "parts" ADD COLUMN "decommissioned_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_participant_id_participants_id_fk" FOREIGN KEY ("participant_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "certificates" ADD CONSTRAINT "certificates_issuer_id_participants_id_fk" FOREIGN KEY ("issuer_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_participant_idx" ON "api_keys" USING btree ("participant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_events_log_idx" ON "ledger_events" USING btree ("chain_id","tx_hash","log_index");--> statement-breakpoint
CREATE INDEX "ledger_events_parts_idx" ON "ledger_events" USING gin ("part_ids");--> statement-breakpoint
CREATE UNIQUE INDEX "part_links_link_idx" ON "part_links" USING btree ("parent_id","child_id","kind","linked_tx");--> statement-breakpoint
CREATE INDEX "part_links_child_idx" ON "part_links" USING btree ("child_id");