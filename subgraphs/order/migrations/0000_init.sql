CREATE SCHEMA "order";
--> statement-breakpoint
CREATE SEQUENCE "order"."order_number_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 100001 CACHE 1;--> statement-breakpoint
CREATE TABLE "order"."order_lines" (
	"id" uuid PRIMARY KEY NOT NULL,
	"order_id" uuid NOT NULL,
	"merchant_id" uuid NOT NULL,
	"line_no" integer NOT NULL,
	"product_id" uuid NOT NULL,
	"sku_id" uuid NOT NULL,
	"product_title" text NOT NULL,
	"sku_code" text NOT NULL,
	"quantity" integer NOT NULL,
	"unit_price_amount" bigint NOT NULL,
	"total_amount" bigint NOT NULL,
	"currency" text NOT NULL,
	CONSTRAINT "order_lines_quantity_positive" CHECK ("order"."order_lines"."quantity" > 0)
);
--> statement-breakpoint
CREATE TABLE "order"."order_status_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"order_id" uuid NOT NULL,
	"merchant_id" uuid NOT NULL,
	"from_status" text,
	"to_status" text NOT NULL,
	"reason" text,
	"occurred_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "order"."orders" (
	"id" uuid PRIMARY KEY NOT NULL,
	"merchant_id" uuid NOT NULL,
	"number" text NOT NULL,
	"buyer_id" uuid,
	"status" text NOT NULL,
	"currency" text NOT NULL,
	"total_amount" bigint NOT NULL,
	"shipping_address" jsonb,
	"carrier" text,
	"tracking_number" text,
	"shipped_at" timestamp (3) with time zone,
	"idempotency_key" text,
	"stock_reservation_key" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "orders_number_unique" UNIQUE("number"),
	CONSTRAINT "orders_merchant_idempotency_key" UNIQUE("merchant_id","idempotency_key"),
	CONSTRAINT "orders_status_check" CHECK (status in ('PENDING_PAYMENT', 'PAID', 'SHIPPED', 'DELIVERED', 'COMPLETED', 'CANCELLED', 'REFUNDING', 'REFUNDED')),
	CONSTRAINT "orders_total_nonnegative" CHECK ("order"."orders"."total_amount" >= 0)
);
--> statement-breakpoint
CREATE TABLE "order"."outbox_events" (
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
CREATE TABLE "order"."pending_stock_releases" (
	"order_id" uuid PRIMARY KEY NOT NULL,
	"merchant_id" uuid NOT NULL,
	"reservation_key" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "order"."order_lines" ADD CONSTRAINT "order_lines_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "order"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order"."order_status_history" ADD CONSTRAINT "order_status_history_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "order"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order"."pending_stock_releases" ADD CONSTRAINT "pending_stock_releases_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "order"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "order_lines_order_idx" ON "order"."order_lines" USING btree ("order_id","line_no");--> statement-breakpoint
CREATE INDEX "order_status_history_order_idx" ON "order"."order_status_history" USING btree ("order_id","id");--> statement-breakpoint
CREATE INDEX "orders_merchant_created_idx" ON "order"."orders" USING btree ("merchant_id","created_at","id");--> statement-breakpoint
CREATE INDEX "orders_merchant_updated_idx" ON "order"."orders" USING btree ("merchant_id","updated_at","id");--> statement-breakpoint
CREATE INDEX "orders_merchant_status_created_idx" ON "order"."orders" USING btree ("merchant_id","status","created_at");--> statement-breakpoint
CREATE INDEX "outbox_events_merchant_position_idx" ON "order"."outbox_events" USING btree ("merchant_id","position");