CREATE TABLE "idempotency_keys" (
	"participant_id" text NOT NULL,
	"key" text NOT NULL,
	"fingerprint" text NOT NULL,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_participant_id_key_pk" PRIMARY KEY("participant_id","key")
);
