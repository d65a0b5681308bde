CREATE TABLE "app_management"."live_subscriptions" (
	"gateway_id" text NOT NULL,
	"app_key" text NOT NULL,
	"merchant_id" text NOT NULL,
	"subscriptions" integer NOT NULL,
	"reported_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "live_subscriptions_gateway_id_app_key_merchant_id_pk" PRIMARY KEY("gateway_id","app_key","merchant_id")
);
--> statement-breakpoint
CREATE TABLE "app_management"."operator_sessions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"token_hash" text NOT NULL,
	"operator_id" uuid NOT NULL,
	"stage" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"revoked_at" timestamp (3) with time zone,
	CONSTRAINT "operator_sessions_token_hash_unique" UNIQUE("token_hash"),
	CONSTRAINT "operator_sessions_stage_check" CHECK ("app_management"."operator_sessions"."stage" in ('PENDING_SECOND_FACTOR', 'ACTIVE'))
);
--> statement-breakpoint
ALTER TABLE "app_management"."announcements" ADD COLUMN "withdrawn_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "app_management"."operators" ADD COLUMN "totp_secret_sealed" text;--> statement-breakpoint
ALTER TABLE "app_management"."operators" ADD COLUMN "totp_enrolled_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "app_management"."operators" ADD COLUMN "totp_last_step" bigint;--> statement-breakpoint
ALTER TABLE "app_management"."operators" ADD COLUMN "recovery_code_hashes" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "app_management"."operators" ADD COLUMN "disabled_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "app_management"."operator_sessions" ADD CONSTRAINT "operator_sessions_operator_id_operators_id_fk" FOREIGN KEY ("operator_id") REFERENCES "app_management"."operators"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "operator_sessions_operator_idx" ON "app_management"."operator_sessions" USING btree ("operator_id");