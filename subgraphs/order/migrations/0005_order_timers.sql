CREATE TABLE "order"."timers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"subject_id" uuid NOT NULL,
	"merchant_id" uuid NOT NULL,
	"due_at" timestamp (3) with time zone NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"fired_at" timestamp (3) with time zone,
	"cancelled_at" timestamp (3) with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
CREATE UNIQUE INDEX "timers_pending_key" ON "order"."timers" USING btree ("kind","subject_id") WHERE "order"."timers"."fired_at" is null and "order"."timers"."cancelled_at" is null;--> statement-breakpoint
CREATE INDEX "timers_due_idx" ON "order"."timers" USING btree ("due_at") WHERE "order"."timers"."fired_at" is null and "order"."timers"."cancelled_at" is null;