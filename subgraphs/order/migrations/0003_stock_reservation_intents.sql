CREATE TABLE "order"."stock_reservation_intents" (
	"reservation_key" text PRIMARY KEY NOT NULL,
	"merchant_id" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"claimed_at" timestamp (3) with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
CREATE INDEX "stock_reservation_intents_merchant_created_idx" ON "order"."stock_reservation_intents" USING btree ("merchant_id","created_at");