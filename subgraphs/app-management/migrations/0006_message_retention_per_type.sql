ALTER TABLE "app_management"."message_retention" ADD COLUMN "type" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "app_management"."message_retention" DROP CONSTRAINT "message_retention_source_merchant_id_pk";--> statement-breakpoint
ALTER TABLE "app_management"."message_retention" ADD CONSTRAINT "message_retention_source_merchant_id_type_pk" PRIMARY KEY("source","merchant_id","type");
