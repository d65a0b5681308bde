CREATE TABLE "app_management"."audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"target_type" text NOT NULL,
	"target_id" text NOT NULL,
	"reason" text,
	"details" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "app_management"."operators" (
	"id" uuid PRIMARY KEY NOT NULL,
	"email" text NOT NULL,
	"name" text NOT NULL,
	"password_hash" text NOT NULL,
	"failed_sign_ins" integer DEFAULT 0 NOT NULL,
	"locked_until" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "app_management"."package_grants" (
	"id" uuid PRIMARY KEY NOT NULL,
	"app_id" uuid NOT NULL,
	"package_id" uuid NOT NULL,
	"granted_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"granted_by" text NOT NULL,
	"reason" text NOT NULL,
	"revoked_at" timestamp (3) with time zone,
	"revoked_by" text,
	"revoke_reason" text
);
--> statement-breakpoint
CREATE TABLE "app_management"."package_requests" (
	"id" uuid PRIMARY KEY NOT NULL,
	"app_id" uuid NOT NULL,
	"package_id" uuid NOT NULL,
	"message" text,
	"status" text DEFAULT 'PENDING' NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"decided_at" timestamp (3) with time zone,
	"decided_by" text,
	"decision_reason" text,
	CONSTRAINT "package_requests_status_check" CHECK ("app_management"."package_requests"."status" in ('PENDING', 'APPROVED', 'REJECTED'))
);
--> statement-breakpoint
ALTER TABLE "app_management"."package_grants" ADD CONSTRAINT "package_grants_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "app_management"."apps"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "app_management"."package_grants" ADD CONSTRAINT "package_grants_package_id_permission_packages_id_fk" FOREIGN KEY ("package_id") REFERENCES "app_management"."permission_packages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "app_management"."package_requests" ADD CONSTRAINT "package_requests_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "app_management"."apps"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "app_management"."package_requests" ADD CONSTRAINT "package_requests_package_id_permission_packages_id_fk" FOREIGN KEY ("package_id") REFERENCES "app_management"."permission_packages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_target_idx" ON "app_management"."audit_log" USING btree ("target_type","target_id");--> statement-breakpoint
CREATE UNIQUE INDEX "operators_email_key" ON "app_management"."operators" USING btree (lower("email"));--> statement-breakpoint
CREATE UNIQUE INDEX "package_grants_active_key" ON "app_management"."package_grants" USING btree ("app_id","package_id") WHERE "app_management"."package_grants"."revoked_at" is null;--> statement-breakpoint
CREATE INDEX "package_grants_app_idx" ON "app_management"."package_grants" USING btree ("app_id");--> statement-breakpoint
CREATE UNIQUE INDEX "package_requests_pending_key" ON "app_management"."package_requests" USING btree ("app_id","package_id") WHERE "app_management"."package_requests"."status" = 'PENDING';