CREATE TABLE "account"."merchant_authorizations" (
	"grant_id" text PRIMARY KEY NOT NULL,
	"merchant_id" uuid NOT NULL,
	"app_key" text NOT NULL,
	"scopes" text[] NOT NULL,
	"authorized_by" uuid,
	"authorized_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp (3) with time zone,
	"revoked_by" text
);
--> statement-breakpoint
CREATE TABLE "account"."merchant_staff" (
	"id" uuid PRIMARY KEY NOT NULL,
	"merchant_id" uuid NOT NULL,
	"email" text NOT NULL,
	"name" text NOT NULL,
	"password_hash" text NOT NULL,
	"failed_sign_ins" integer DEFAULT 0 NOT NULL,
	"locked_until" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "account"."oauth_store" (
	"model" text NOT NULL,
	"id" text NOT NULL,
	"payload" jsonb NOT NULL,
	"grant_id" text,
	"uid" text,
	"user_code" text,
	"expires_at" timestamp (3) with time zone,
	"consumed_at" timestamp (3) with time zone,
	CONSTRAINT "oauth_store_model_id_pk" PRIMARY KEY("model","id")
);
--> statement-breakpoint
ALTER TABLE "account"."merchant_authorizations" ADD CONSTRAINT "merchant_authorizations_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "account"."merchants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "account"."merchant_staff" ADD CONSTRAINT "merchant_staff_merchant_id_merchants_id_fk" FOREIGN KEY ("merchant_id") REFERENCES "account"."merchants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "merchant_authorizations_merchant_idx" ON "account"."merchant_authorizations" USING btree ("merchant_id","app_key");--> statement-breakpoint
CREATE UNIQUE INDEX "merchant_staff_email_key" ON "account"."merchant_staff" USING btree (lower("email"));--> statement-breakpoint
CREATE INDEX "oauth_store_grant_idx" ON "account"."oauth_store" USING btree ("grant_id");--> statement-breakpoint
CREATE INDEX "oauth_store_uid_idx" ON "account"."oauth_store" USING btree ("uid");