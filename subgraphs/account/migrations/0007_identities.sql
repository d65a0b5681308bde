CREATE TABLE "account"."app_openids" (
	"openid" text PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"app_key" text NOT NULL,
	"developer_id" text NOT NULL,
	"retired_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "account"."buyer_accounts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"email" text NOT NULL,
	"name" text NOT NULL,
	"password_hash" text NOT NULL,
	"failed_sign_ins" integer DEFAULT 0 NOT NULL,
	"locked_until" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"email_verified_at" timestamp (3) with time zone,
	"verification_hash" text,
	"verification_expires_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "account"."developer_unionids" (
	"unionid" text PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"developer_id" text NOT NULL,
	"retired_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "account"."guest_ids" (
	"app_key" text NOT NULL,
	"guest_id" text NOT NULL,
	"user_id" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "guest_ids_app_key_guest_id_pk" PRIMARY KEY("app_key","guest_id")
);
--> statement-breakpoint
CREATE TABLE "account"."user_merchants" (
	"user_id" uuid NOT NULL,
	"merchant_id" uuid NOT NULL,
	CONSTRAINT "user_merchants_user_id_merchant_id_pk" PRIMARY KEY("user_id","merchant_id")
);
--> statement-breakpoint
CREATE TABLE "account"."user_merges" (
	"id" uuid PRIMARY KEY NOT NULL,
	"merged_user_id" uuid NOT NULL,
	"surviving_user_id" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"repointed_at" timestamp (3) with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "user_merges_merged_user_id_unique" UNIQUE("merged_user_id")
);
--> statement-breakpoint
ALTER TABLE "account"."users" ADD COLUMN "is_virtual" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "account"."users" ADD COLUMN "merged_into" uuid;--> statement-breakpoint
ALTER TABLE "account"."app_openids" ADD CONSTRAINT "app_openids_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "account"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "account"."buyer_accounts" ADD CONSTRAINT "buyer_accounts_id_users_id_fk" FOREIGN KEY ("id") REFERENCES "account"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "account"."developer_unionids" ADD CONSTRAINT "developer_unionids_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "account"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "account"."guest_ids" ADD CONSTRAINT "guest_ids_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "account"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "account"."user_merchants" ADD CONSTRAINT "user_merchants_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "account"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "account"."user_merges" ADD CONSTRAINT "user_merges_merged_user_id_users_id_fk" FOREIGN KEY ("merged_user_id") REFERENCES "account"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "account"."user_merges" ADD CONSTRAINT "user_merges_surviving_user_id_users_id_fk" FOREIGN KEY ("surviving_user_id") REFERENCES "account"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "app_openids_user_app_key" ON "account"."app_openids" USING btree ("user_id","app_key") WHERE retired_at is null;--> statement-breakpoint
CREATE UNIQUE INDEX "buyer_accounts_email_key" ON "account"."buyer_accounts" USING btree (lower("email"));--> statement-breakpoint
CREATE UNIQUE INDEX "developer_unionids_user_developer_key" ON "account"."developer_unionids" USING btree ("user_id","developer_id") WHERE retired_at is null;--> statement-breakpoint
CREATE INDEX "guest_ids_user_idx" ON "account"."guest_ids" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "user_merges_pending_idx" ON "account"."user_merges" USING btree ("next_attempt_at") WHERE repointed_at is null;--> statement-breakpoint
CREATE INDEX "users_merged_into_idx" ON "account"."users" USING btree ("merged_into");