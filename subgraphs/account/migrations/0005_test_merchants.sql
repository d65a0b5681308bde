ALTER TABLE "account"."merchants" ADD COLUMN "is_test" boolean DEFAULT false NOT NULL;--> statement-breakpoint
-- The demo's three merchants (demo/seed.ts, ids from uuidv5 of their names) are test merchants: the
-- demo app is in SANDBOX, which acts for test merchants only. A demo seeded before this migration keeps working.
UPDATE "account"."merchants" SET "is_test" = true WHERE "id" IN ('5d02f9b2-13aa-5031-9255-7310e8a807d1', 'eadfc403-658e-571d-99de-1896348e3c4c', 'b3147372-9bda-5d54-80af-aae927b0f48e');
