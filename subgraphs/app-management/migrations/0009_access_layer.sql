CREATE TABLE "app_management"."app_status_changes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"app_id" uuid NOT NULL,
	"from_status" text NOT NULL,
	"to_status" text NOT NULL,
	"actor" text NOT NULL,
	"reason" text NOT NULL,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "app_management"."app_violations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"app_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"note" text NOT NULL,
	"evidence" text,
	"penalty" text NOT NULL,
	"flow_limit_percent" integer,
	"penalty_ends_at" timestamp (3) with time zone,
	"recorded_by" text NOT NULL,
	"recorded_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "app_violations_penalty_check" CHECK ("app_management"."app_violations"."penalty" in ('WARNING', 'FLOW_LIMIT_REDUCTION', 'SUSPENSION')),
	CONSTRAINT "app_violations_percent_check" CHECK ("app_management"."app_violations"."flow_limit_percent" is null or ("app_management"."app_violations"."flow_limit_percent" between 1 and 99))
);
--> statement-breakpoint
CREATE TABLE "app_management"."call_reports" (
	"minute" timestamp (3) with time zone NOT NULL,
	"app_id" uuid NOT NULL,
	"merchant_id" text NOT NULL,
	"operation_name" text NOT NULL,
	"document_hash" text NOT NULL,
	"outcome" text NOT NULL,
	"calls" integer NOT NULL,
	"latency_ms_sum" double precision NOT NULL,
	"latency_buckets" integer[] NOT NULL,
	"requested_cost" bigint NOT NULL,
	"actual_cost" bigint NOT NULL,
	CONSTRAINT "call_reports_pkey" PRIMARY KEY("minute","app_id","merchant_id","operation_name","document_hash","outcome")
);
--> statement-breakpoint
CREATE TABLE "app_management"."offline_apis" (
	"id" uuid PRIMARY KEY NOT NULL,
	"coordinate" text NOT NULL,
	"app_ids" uuid[],
	"reason" text NOT NULL,
	"starts_at" timestamp (3) with time zone NOT NULL,
	"ends_at" timestamp (3) with time zone,
	"taken_by" text NOT NULL,
	"taken_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"restored_at" timestamp (3) with time zone,
	"restored_by" text,
	"restore_reason" text
);
--> statement-breakpoint
CREATE TABLE "app_management"."tier_limits" (
	"tier" text PRIMARY KEY NOT NULL,
	"bucket_size" integer NOT NULL,
	"restore_rate" integer NOT NULL,
	"daily_quota" integer NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_by" text NOT NULL,
	CONSTRAINT "tier_limits_tier_check" CHECK ("app_management"."tier_limits"."tier" in ('FREE', 'PAID'))
);
--> statement-breakpoint
ALTER TABLE "app_management"."apps" ADD COLUMN "secret_sealed" text;--> statement-breakpoint
ALTER TABLE "app_management"."apps" ADD COLUMN "previous_secret_sealed" text;--> statement-breakpoint
ALTER TABLE "app_management"."apps" ADD COLUMN "signing_public_key" text;--> statement-breakpoint
ALTER TABLE "app_management"."apps" ADD COLUMN "signature_required" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "app_management"."apps" ADD COLUMN "status_before_suspension" text;--> statement-breakpoint
ALTER TABLE "app_management"."apps" ADD COLUMN "bucket_size_override" integer;--> statement-breakpoint
ALTER TABLE "app_management"."apps" ADD COLUMN "restore_rate_override" integer;--> statement-breakpoint
ALTER TABLE "app_management"."apps" ADD COLUMN "daily_quota_override" integer;--> statement-breakpoint
ALTER TABLE "app_management"."app_status_changes" ADD CONSTRAINT "app_status_changes_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "app_management"."apps"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "app_management"."app_violations" ADD CONSTRAINT "app_violations_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "app_management"."apps"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "app_management"."call_reports" ADD CONSTRAINT "call_reports_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "app_management"."apps"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "app_status_changes_app_idx" ON "app_management"."app_status_changes" USING btree ("app_id","at");--> statement-breakpoint
CREATE INDEX "app_violations_app_idx" ON "app_management"."app_violations" USING btree ("app_id","recorded_at");--> statement-breakpoint
CREATE INDEX "call_reports_app_minute_idx" ON "app_management"."call_reports" USING btree ("app_id","minute");--> statement-breakpoint
CREATE INDEX "offline_apis_open_idx" ON "app_management"."offline_apis" USING btree ("coordinate") WHERE "app_management"."offline_apis"."restored_at" is null;--> statement-breakpoint
-- Starting limits, as the large platforms' public tiers (Shopify's 1,000-point bucket restored at 50 a second for the free tier, twice that for paid); operators change them with setTierLimits.
INSERT INTO "app_management"."tier_limits" ("tier", "bucket_size", "restore_rate", "daily_quota", "updated_by") VALUES ('FREE', 1000, 50, 10000, 'migration'), ('PAID', 2000, 100, 1000000, 'migration');
