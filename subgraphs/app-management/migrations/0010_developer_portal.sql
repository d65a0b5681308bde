CREATE TABLE "app_management"."announcements" (
	"id" uuid PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"body" text NOT NULL,
	"package_ids" uuid[],
	"publish_at" timestamp (3) with time zone,
	"emailed_at" timestamp (3) with time zone,
	"created_by" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "app_management"."app_reviews" (
	"id" uuid PRIMARY KEY NOT NULL,
	"app_id" uuid NOT NULL,
	"notes" text DEFAULT '' NOT NULL,
	"status" text DEFAULT 'PENDING' NOT NULL,
	"submitted_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"decided_at" timestamp (3) with time zone,
	"decided_by" text,
	"decision_reason" text,
	CONSTRAINT "app_reviews_status_check" CHECK ("app_management"."app_reviews"."status" in ('PENDING', 'APPROVED', 'REJECTED', 'WITHDRAWN'))
);
--> statement-breakpoint
CREATE TABLE "app_management"."developer_email_tokens" (
	"id" uuid PRIMARY KEY NOT NULL,
	"developer_id" uuid NOT NULL,
	"purpose" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"used_at" timestamp (3) with time zone,
	CONSTRAINT "developer_email_tokens_token_hash_unique" UNIQUE("token_hash"),
	CONSTRAINT "developer_email_tokens_purpose_check" CHECK ("app_management"."developer_email_tokens"."purpose" in ('VERIFY_EMAIL', 'RESET_PASSWORD'))
);
--> statement-breakpoint
CREATE TABLE "app_management"."developer_sessions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"token_hash" text NOT NULL,
	"developer_id" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"last_seen_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp (3) with time zone,
	CONSTRAINT "developer_sessions_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "app_management"."local_mailbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"to" text NOT NULL,
	"subject" text NOT NULL,
	"text" text NOT NULL,
	"html" text,
	"sent_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "app_management"."package_requests" DROP CONSTRAINT "package_requests_status_check";--> statement-breakpoint
ALTER TABLE "app_management"."apps" ADD COLUMN "description" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "app_management"."apps" ADD COLUMN "sandbox_merchant_id" uuid;--> statement-breakpoint
ALTER TABLE "app_management"."apps" ADD COLUMN "sandbox_state" text DEFAULT 'NONE' NOT NULL;--> statement-breakpoint
ALTER TABLE "app_management"."apps" ADD COLUMN "sandbox_error" text;--> statement-breakpoint
ALTER TABLE "app_management"."apps" ADD COLUMN "sandbox_reset_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "app_management"."developers" ADD COLUMN "company_name" text;--> statement-breakpoint
ALTER TABLE "app_management"."developers" ADD COLUMN "password_hash" text;--> statement-breakpoint
ALTER TABLE "app_management"."developers" ADD COLUMN "failed_sign_ins" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "app_management"."developers" ADD COLUMN "locked_until" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "app_management"."developers" ADD COLUMN "email_verified_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "app_management"."developers" ADD COLUMN "verification_reason" text;--> statement-breakpoint
ALTER TABLE "app_management"."developers" ADD COLUMN "announcement_emails" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "app_management"."developers" ADD COLUMN "disabled_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "app_management"."app_reviews" ADD CONSTRAINT "app_reviews_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "app_management"."apps"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "app_management"."developer_email_tokens" ADD CONSTRAINT "developer_email_tokens_developer_id_developers_id_fk" FOREIGN KEY ("developer_id") REFERENCES "app_management"."developers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "app_management"."developer_sessions" ADD CONSTRAINT "developer_sessions_developer_id_developers_id_fk" FOREIGN KEY ("developer_id") REFERENCES "app_management"."developers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "announcements_publish_idx" ON "app_management"."announcements" USING btree ("publish_at");--> statement-breakpoint
CREATE UNIQUE INDEX "app_reviews_pending_key" ON "app_management"."app_reviews" USING btree ("app_id") WHERE "app_management"."app_reviews"."status" = 'PENDING';--> statement-breakpoint
CREATE INDEX "developer_email_tokens_developer_idx" ON "app_management"."developer_email_tokens" USING btree ("developer_id");--> statement-breakpoint
CREATE INDEX "developer_sessions_developer_idx" ON "app_management"."developer_sessions" USING btree ("developer_id");--> statement-breakpoint
CREATE INDEX "apps_developer_idx" ON "app_management"."apps" USING btree ("developer_id");--> statement-breakpoint
ALTER TABLE "app_management"."apps" ADD CONSTRAINT "apps_sandbox_state_check" CHECK ("app_management"."apps"."sandbox_state" in ('NONE', 'PROVISIONING', 'READY', 'FAILED'));--> statement-breakpoint
ALTER TABLE "app_management"."package_requests" ADD CONSTRAINT "package_requests_status_check" CHECK ("app_management"."package_requests"."status" in ('PENDING', 'APPROVED', 'REJECTED', 'WITHDRAWN'));