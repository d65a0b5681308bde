DROP INDEX "app_management"."message_records_event_idx";--> statement-breakpoint
ALTER TABLE "app_management"."message_records" ADD COLUMN "connection_id" text;--> statement-breakpoint
ALTER TABLE "app_management"."message_records" ADD COLUMN "transport" text;--> statement-breakpoint
ALTER TABLE "app_management"."message_records" ADD COLUMN "reason" text;--> statement-breakpoint
ALTER TABLE "app_management"."message_records" ADD COLUMN "attempt" integer;--> statement-breakpoint
ALTER TABLE "app_management"."message_records" ADD COLUMN "pushed" text;