CREATE TABLE "order"."after_sale_case_lines" (
	"case_id" uuid NOT NULL,
	"order_line_id" uuid NOT NULL,
	"merchant_id" uuid NOT NULL,
	"quantity" integer NOT NULL,
	CONSTRAINT "after_sale_case_lines_pkey" PRIMARY KEY("case_id","order_line_id"),
	CONSTRAINT "after_sale_case_lines_quantity_positive" CHECK ("order"."after_sale_case_lines"."quantity" > 0)
);
--> statement-breakpoint
CREATE TABLE "order"."after_sale_cases" (
	"id" uuid PRIMARY KEY NOT NULL,
	"merchant_id" uuid NOT NULL,
	"order_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"status" text NOT NULL,
	"reason" text NOT NULL,
	"evidence" text,
	"currency" text NOT NULL,
	"requested_amount" bigint NOT NULL,
	"approved_amount" bigint,
	"refunded_amount" bigint DEFAULT 0 NOT NULL,
	"rejection_reason" text,
	"close_reason" text,
	"open_key" text NOT NULL,
	"approve_key" text,
	"receive_key" text,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"closed_at" timestamp (3) with time zone,
	CONSTRAINT "after_sale_cases_merchant_open_key" UNIQUE("merchant_id","open_key"),
	CONSTRAINT "after_sale_cases_kind_check" CHECK (kind in ('REFUND_ONLY', 'RETURN_AND_REFUND')),
	CONSTRAINT "after_sale_cases_status_check" CHECK (status in ('OPEN', 'AWAITING_RETURN', 'RETURN_SHIPPED', 'REFUNDED', 'REJECTED', 'CLOSED')),
	CONSTRAINT "after_sale_cases_amounts" CHECK ("order"."after_sale_cases"."requested_amount" > 0 and coalesce("order"."after_sale_cases"."approved_amount", 0) >= 0 and coalesce("order"."after_sale_cases"."approved_amount", 0) <= "order"."after_sale_cases"."requested_amount" and "order"."after_sale_cases"."refunded_amount" >= 0 and "order"."after_sale_cases"."refunded_amount" <= coalesce("order"."after_sale_cases"."approved_amount", 0))
);
--> statement-breakpoint
CREATE TABLE "order"."pending_stock_returns" (
	"case_id" uuid PRIMARY KEY NOT NULL,
	"merchant_id" uuid NOT NULL,
	"lines" jsonb NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "order"."shipment_lines" (
	"shipment_id" uuid NOT NULL,
	"order_line_id" uuid NOT NULL,
	"merchant_id" uuid NOT NULL,
	"quantity" integer NOT NULL,
	CONSTRAINT "shipment_lines_pkey" PRIMARY KEY("shipment_id","order_line_id"),
	CONSTRAINT "shipment_lines_quantity_positive" CHECK ("order"."shipment_lines"."quantity" > 0)
);
--> statement-breakpoint
CREATE TABLE "order"."shipments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"merchant_id" uuid NOT NULL,
	"order_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"case_id" uuid,
	"carrier" text NOT NULL,
	"tracking_number" text NOT NULL,
	"status" text NOT NULL,
	"idempotency_key" text,
	"shipped_at" timestamp (3) with time zone NOT NULL,
	"delivered_at" timestamp (3) with time zone,
	"updated_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "shipments_merchant_idempotency_key" UNIQUE("merchant_id","idempotency_key"),
	CONSTRAINT "shipments_kind_check" CHECK (kind in ('OUTBOUND', 'RETURN')),
	CONSTRAINT "shipments_status_check" CHECK (status in ('IN_TRANSIT', 'DELIVERED'))
);
--> statement-breakpoint
CREATE TABLE "order"."tracking_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"shipment_id" uuid NOT NULL,
	"merchant_id" uuid NOT NULL,
	"status" text NOT NULL,
	"location" text,
	"description" text,
	"occurred_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "order"."order_lines" ADD COLUMN "shipped_quantity" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "order"."order_lines" ADD COLUMN "returned_quantity" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "order"."order_lines" ADD COLUMN "refunded_amount" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "order"."orders" ADD COLUMN "paid_amount" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "order"."orders" ADD COLUMN "refunded_amount" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "order"."after_sale_case_lines" ADD CONSTRAINT "after_sale_case_lines_case_id_after_sale_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "order"."after_sale_cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order"."after_sale_case_lines" ADD CONSTRAINT "after_sale_case_lines_order_line_id_order_lines_id_fk" FOREIGN KEY ("order_line_id") REFERENCES "order"."order_lines"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order"."after_sale_cases" ADD CONSTRAINT "after_sale_cases_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "order"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order"."pending_stock_returns" ADD CONSTRAINT "pending_stock_returns_case_id_after_sale_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "order"."after_sale_cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order"."shipment_lines" ADD CONSTRAINT "shipment_lines_shipment_id_shipments_id_fk" FOREIGN KEY ("shipment_id") REFERENCES "order"."shipments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order"."shipment_lines" ADD CONSTRAINT "shipment_lines_order_line_id_order_lines_id_fk" FOREIGN KEY ("order_line_id") REFERENCES "order"."order_lines"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order"."shipments" ADD CONSTRAINT "shipments_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "order"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order"."tracking_events" ADD CONSTRAINT "tracking_events_shipment_id_shipments_id_fk" FOREIGN KEY ("shipment_id") REFERENCES "order"."shipments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "after_sale_cases_one_open_per_order" ON "order"."after_sale_cases" USING btree ("order_id") WHERE status in ('OPEN', 'AWAITING_RETURN', 'RETURN_SHIPPED');--> statement-breakpoint
CREATE INDEX "after_sale_cases_merchant_updated_idx" ON "order"."after_sale_cases" USING btree ("merchant_id","updated_at","id");--> statement-breakpoint
CREATE INDEX "after_sale_cases_order_idx" ON "order"."after_sale_cases" USING btree ("order_id","created_at");--> statement-breakpoint
CREATE INDEX "shipments_order_idx" ON "order"."shipments" USING btree ("order_id","shipped_at");--> statement-breakpoint
CREATE INDEX "shipments_case_idx" ON "order"."shipments" USING btree ("case_id");--> statement-breakpoint
CREATE INDEX "tracking_events_shipment_idx" ON "order"."tracking_events" USING btree ("shipment_id","id");--> statement-breakpoint
ALTER TABLE "order"."order_lines" ADD CONSTRAINT "order_lines_shipped_within_quantity" CHECK ("order"."order_lines"."shipped_quantity" >= 0 and "order"."order_lines"."shipped_quantity" <= "order"."order_lines"."quantity");--> statement-breakpoint
ALTER TABLE "order"."order_lines" ADD CONSTRAINT "order_lines_returned_within_shipped" CHECK ("order"."order_lines"."returned_quantity" >= 0 and "order"."order_lines"."returned_quantity" <= "order"."order_lines"."shipped_quantity");--> statement-breakpoint
ALTER TABLE "order"."order_lines" ADD CONSTRAINT "order_lines_refunded_within_total" CHECK ("order"."order_lines"."refunded_amount" >= 0 and "order"."order_lines"."refunded_amount" <= "order"."order_lines"."total_amount");--> statement-breakpoint
ALTER TABLE "order"."orders" ADD CONSTRAINT "orders_paid_within_total" CHECK ("order"."orders"."paid_amount" >= 0 and "order"."orders"."paid_amount" <= "order"."orders"."total_amount");--> statement-breakpoint
ALTER TABLE "order"."orders" ADD CONSTRAINT "orders_refunded_within_paid" CHECK ("order"."orders"."refunded_amount" >= 0 and "order"."orders"."refunded_amount" <= "order"."orders"."paid_amount");--> statement-breakpoint
-- Orders paid before shipments and after-sales existed: what they paid is their total.
UPDATE "order"."orders" o SET "paid_amount" = o."total_amount" WHERE EXISTS (SELECT 1 FROM "order"."order_status_history" h WHERE h."order_id" = o."id" AND h."to_status" = 'PAID');--> statement-breakpoint
-- Orders refunded before: refunded in full, line by line.
UPDATE "order"."orders" SET "refunded_amount" = "paid_amount" WHERE "status" = 'REFUNDED';--> statement-breakpoint
UPDATE "order"."order_lines" l SET "refunded_amount" = l."total_amount" FROM "order"."orders" o WHERE o."id" = l."order_id" AND o."status" = 'REFUNDED' AND o."paid_amount" > 0;--> statement-breakpoint
-- Orders shipped before: one outbound shipment of every line (ids derived from the order's, so the upgrade is deterministic), delivered when the order was.
INSERT INTO "order"."shipments" ("id", "merchant_id", "order_id", "kind", "carrier", "tracking_number", "status", "shipped_at", "delivered_at", "updated_at")
SELECT md5(o."id"::text || ':shipment')::uuid, o."merchant_id", o."id", 'OUTBOUND', o."carrier", o."tracking_number",
  CASE WHEN d."at" IS NULL THEN 'IN_TRANSIT' ELSE 'DELIVERED' END, o."shipped_at", d."at", coalesce(d."at", o."shipped_at")
FROM "order"."orders" o
LEFT JOIN LATERAL (SELECT min(h."occurred_at") AS "at" FROM "order"."order_status_history" h WHERE h."order_id" = o."id" AND h."to_status" = 'DELIVERED') d ON true
WHERE o."carrier" IS NOT NULL AND o."tracking_number" IS NOT NULL AND o."shipped_at" IS NOT NULL;--> statement-breakpoint
INSERT INTO "order"."shipment_lines" ("shipment_id", "order_line_id", "merchant_id", "quantity")
SELECT s."id", l."id", l."merchant_id", l."quantity" FROM "order"."shipments" s JOIN "order"."order_lines" l ON l."order_id" = s."order_id";--> statement-breakpoint
UPDATE "order"."order_lines" l SET "shipped_quantity" = l."quantity" WHERE EXISTS (SELECT 1 FROM "order"."shipments" s WHERE s."order_id" = l."order_id" AND s."kind" = 'OUTBOUND');
