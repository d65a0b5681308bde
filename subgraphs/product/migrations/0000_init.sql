CREATE SCHEMA "product";
--> statement-breakpoint
CREATE TABLE "product"."outbox_events" (
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
CREATE TABLE "product"."products" (
	"id" uuid PRIMARY KEY NOT NULL,
	"merchant_id" uuid NOT NULL,
	"title" text NOT NULL,
	"description" text,
	"category" text,
	"status" text DEFAULT 'DRAFT' NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "products_status_check" CHECK ("product"."products"."status" in ('DRAFT', 'ON_SHELF', 'OFF_SHELF'))
);
--> statement-breakpoint
CREATE TABLE "product"."skus" (
	"id" uuid PRIMARY KEY NOT NULL,
	"product_id" uuid NOT NULL,
	"merchant_id" uuid NOT NULL,
	"code" text NOT NULL,
	"attributes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"price_amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"stock" integer DEFAULT 0 NOT NULL,
	"position" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "skus_merchant_code_key" UNIQUE("merchant_id","code"),
	CONSTRAINT "skus_stock_nonnegative" CHECK ("product"."skus"."stock" >= 0),
	CONSTRAINT "skus_price_nonnegative" CHECK ("product"."skus"."price_amount" >= 0)
);
--> statement-breakpoint
CREATE TABLE "product"."stock_adjustments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"merchant_id" uuid NOT NULL,
	"sku_id" uuid NOT NULL,
	"idempotency_key" text NOT NULL,
	"delta" integer NOT NULL,
	"stock_before" integer NOT NULL,
	"stock_after" integer NOT NULL,
	"reason" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stock_adjustments_merchant_key" UNIQUE("merchant_id","idempotency_key")
);
--> statement-breakpoint
CREATE TABLE "product"."stock_reservations" (
	"merchant_id" uuid NOT NULL,
	"reservation_key" text NOT NULL,
	"sku_id" uuid NOT NULL,
	"quantity" integer NOT NULL,
	"released_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stock_reservations_key" UNIQUE("merchant_id","reservation_key","sku_id")
);
--> statement-breakpoint
ALTER TABLE "product"."skus" ADD CONSTRAINT "skus_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "product"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "product"."stock_adjustments" ADD CONSTRAINT "stock_adjustments_sku_id_skus_id_fk" FOREIGN KEY ("sku_id") REFERENCES "product"."skus"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "product"."stock_reservations" ADD CONSTRAINT "stock_reservations_sku_id_skus_id_fk" FOREIGN KEY ("sku_id") REFERENCES "product"."skus"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "outbox_events_merchant_position_idx" ON "product"."outbox_events" USING btree ("merchant_id","position");--> statement-breakpoint
CREATE INDEX "products_merchant_created_idx" ON "product"."products" USING btree ("merchant_id","created_at","id");--> statement-breakpoint
CREATE INDEX "products_merchant_updated_idx" ON "product"."products" USING btree ("merchant_id","updated_at","id");--> statement-breakpoint
CREATE INDEX "skus_product_idx" ON "product"."skus" USING btree ("product_id","position");