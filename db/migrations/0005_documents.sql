CREATE TABLE "documents" (
	"id" uuid PRIMARY KEY NOT NULL,
	"seq" serial NOT NULL,
	"owner" text NOT NULL,
	"folder" text NOT NULL,
	"name" text NOT NULL,
	"version" integer NOT NULL,
	"kind" text NOT NULL,
	"hash" text NOT NULL,
	"size" bigint NOT NULL,
	"stored_size" bigint NOT NULL,
	"content_type" text NOT NULL,
	"recipients" jsonb NOT NULL,
	"blob_name" text NOT NULL,
	"verified_etag" text,
	"signed_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"deleted_by" text,
	CONSTRAINT "documents_seq_unique" UNIQUE("seq")
);
--> statement-breakpoint
ALTER TABLE "documents" ADD CONSTRAINT "documents_owner_participants_id_fk" FOREIGN KEY ("owner") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "documents_path_version_idx" ON "documents" USING btree ("owner","folder","name","version");--> statement-breakpoint
CREATE INDEX "documents_hash_idx" ON "documents" USING btree ("hash");--> statement-breakpoint
CREATE INDEX "documents_recipients_idx" ON "documents" USING gin ("recipients");--> statement-breakpoint
CREATE INDEX "certificates_document_hash_idx" ON "certificates" USING btree ("document_hash");