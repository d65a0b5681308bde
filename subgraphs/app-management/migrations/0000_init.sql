CREATE SCHEMA "app_management";
--> statement-breakpoint
CREATE TABLE "app_management"."apps" (
	"id" uuid PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"name" text NOT NULL,
	"developer_id" uuid NOT NULL,
	"status" text DEFAULT 'SANDBOX' NOT NULL,
	"redirect_uris" text[] DEFAULT '{}'::text[] NOT NULL,
	"ip_allow_list" text[] DEFAULT '{}'::text[] NOT NULL,
	"secret_hash" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "apps_key_unique" UNIQUE("key"),
	CONSTRAINT "apps_status_check" CHECK ("app_management"."apps"."status" in ('SANDBOX', 'LIVE', 'SUSPENDED'))
);
--> statement-breakpoint
CREATE TABLE "app_management"."developers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"email" text NOT NULL,
	"verification_status" text DEFAULT 'PENDING' NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "developers_kind_check" CHECK ("app_management"."developers"."kind" in ('INDIVIDUAL', 'COMPANY')),
	CONSTRAINT "developers_verification_check" CHECK ("app_management"."developers"."verification_status" in ('PENDING', 'VERIFIED', 'REJECTED'))
);
--> statement-breakpoint
CREATE TABLE "app_management"."outbox_events" (
	"position" bigserial PRIMARY KEY NOT NULL,
	"id" uuid NOT NULL,
	"merchant_id" uuid,
	"aggregate_type" text NOT NULL,
	"aggregate_id" text NOT NULL,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "outbox_events_id_unique" UNIQUE("id")
);
--> statement-breakpoint
CREATE TABLE "app_management"."permission_packages" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text NOT NULL,
	"tier" text NOT NULL,
	"scopes" text[] NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "permission_packages_name_unique" UNIQUE("name"),
	CONSTRAINT "permission_packages_tier_check" CHECK ("app_management"."permission_packages"."tier" in ('FREE', 'PAID'))
);
--> statement-breakpoint
CREATE TABLE "app_management"."scopes" (
	"name" text PRIMARY KEY NOT NULL,
	"description" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "app_management"."apps" ADD CONSTRAINT "apps_developer_id_developers_id_fk" FOREIGN KEY ("developer_id") REFERENCES "app_management"."developers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "developers_email_key" ON "app_management"."developers" USING btree (lower("email"));--> statement-breakpoint
CREATE INDEX "outbox_events_merchant_position_idx" ON "app_management"."outbox_events" USING btree ("merchant_id","position");