CREATE TABLE "app_management"."message_retention" (
	"source" text NOT NULL,
	"merchant_id" uuid NOT NULL,
	"purged_through" bigint NOT NULL,
	"last_occurred_at" timestamp (3) with time zone NOT NULL,
	"purged_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "message_retention_source_merchant_id_pk" PRIMARY KEY("source","merchant_id")
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "outbox_events_occurred_idx" ON "app_management"."outbox_events" USING btree ("occurred_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "message_records_occurred_idx" ON "app_management"."message_records" USING btree ("occurred_at");