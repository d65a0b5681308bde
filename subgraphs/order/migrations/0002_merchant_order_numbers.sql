CREATE TABLE "order"."merchant_order_numbers" (
	"merchant_id" uuid PRIMARY KEY NOT NULL,
	"last_number" bigint NOT NULL
);
--> statement-breakpoint
-- Each merchant goes on from the highest number its orders have (numbered from the global sequence until now).
INSERT INTO "order"."merchant_order_numbers" ("merchant_id", "last_number")
SELECT "merchant_id", max(substring("number" from 3)::bigint) FROM "order"."orders" WHERE "number" ~ '^SO[0-9]{1,18}$' GROUP BY "merchant_id";--> statement-breakpoint
ALTER TABLE "order"."orders" DROP CONSTRAINT "orders_number_unique";--> statement-breakpoint
ALTER TABLE "order"."orders" ADD CONSTRAINT "orders_merchant_number" UNIQUE("merchant_id","number");--> statement-breakpoint
DROP SEQUENCE "order"."order_number_seq";