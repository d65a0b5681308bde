CREATE TABLE "app_management"."message_cursors" (
	"app_key" text NOT NULL,
	"merchant_id" uuid NOT NULL,
	"source" text NOT NULL,
	"acked_position" bigint NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "message_cursors_app_key_merchant_id_source_pk" PRIMARY KEY("app_key","merchant_id","source")
);
--> statement-breakpoint
CREATE TABLE "app_management"."message_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"app_key" text NOT NULL,
	"merchant_id" uuid NOT NULL,
	"source" text NOT NULL,
	"position" bigint NOT NULL,
	"connection_id" text NOT NULL,
	"transport" text NOT NULL,
	"reason" text NOT NULL,
	"attempt" integer NOT NULL,
	"key_version" integer NOT NULL,
	"pushed" text NOT NULL,
	"pushed_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "app_management"."message_keys" (
	"app_key" text NOT NULL,
	"version" integer NOT NULL,
	"kek_id" text NOT NULL,
	"wrapped_key" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "message_keys_app_key_version_pk" PRIMARY KEY("app_key","version")
);
--> statement-breakpoint
CREATE TABLE "app_management"."message_records" (
	"app_key" text NOT NULL,
	"merchant_id" uuid NOT NULL,
	"source" text NOT NULL,
	"position" bigint NOT NULL,
	"event_id" uuid NOT NULL,
	"type" text NOT NULL,
	"occurred_at" timestamp (3) with time zone NOT NULL,
	"key_version" integer NOT NULL,
	"payload" text NOT NULL,
	"first_pushed_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"acknowledged_at" timestamp (3) with time zone,
	"redeliver_requested_at" timestamp (3) with time zone,
	CONSTRAINT "message_records_app_key_merchant_id_source_position_pk" PRIMARY KEY("app_key","merchant_id","source","position")
);
--> statement-breakpoint
CREATE INDEX "message_deliveries_message_idx" ON "app_management"."message_deliveries" USING btree ("app_key","merchant_id","source","position");--> statement-breakpoint
CREATE INDEX "message_records_event_idx" ON "app_management"."message_records" USING btree ("app_key","event_id");--> statement-breakpoint
CREATE INDEX "message_records_redeliver_idx" ON "app_management"."message_records" USING btree ("app_key","merchant_id") WHERE "app_management"."message_records"."redeliver_requested_at" is not null;--> statement-breakpoint
CREATE INDEX "message_records_pushed_idx" ON "app_management"."message_records" USING btree ("app_key","merchant_id","first_pushed_at");--> statement-breakpoint
CREATE INDEX "outbox_events_merchant_occurred_idx" ON "app_management"."outbox_events" USING btree ("merchant_id","occurred_at");