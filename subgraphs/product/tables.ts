/** Tables of the product subgraph, in its own Postgres schema `product`. */
import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgSchema, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { outboxTable } from '../../messages/outbox.js';

export const productSchema = pgSchema('product');

export const products = productSchema.table(
  'products',
  {
    id: uuid('id').primaryKey(),
    merchantId: uuid('merchant_id').notNull(),
    title: text('title').notNull(),
    description: text('description'),
    category: text('category'),
    status: text('status', { enum: ['DRAFT', 'ON_SHELF', 'OFF_SHELF'] }).notNull().default('DRAFT'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('products_merchant_created_idx').on(t.merchantId, t.createdAt, t.id),
    index('products_merchant_updated_idx').on(t.merchantId, t.updatedAt, t.id),
    check('products_status_check', sql`${t.status} in ('DRAFT', 'ON_SHELF', 'OFF_SHELF')`),
  ],
);

export interface SkuAttribute {
  name: string;
  value: string;
}

export const skus = productSchema.table(
  'skus',
  {
    id: uuid('id').primaryKey(),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id),
    merchantId: uuid('merchant_id').notNull(),
    code: text('code').notNull(),
    attributes: jsonb('attributes').$type<SkuAttribute[]>().notNull().default([]),
    priceAmount: bigint('price_amount', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    stock: integer('stock').notNull().default(0),
    position: integer('position').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    unique('skus_merchant_code_key').on(t.merchantId, t.code),
    index('skus_product_idx').on(t.productId, t.position),
    check('skus_stock_nonnegative', sql`${t.stock} >= 0`),
    check('skus_price_nonnegative', sql`${t.priceAmount} >= 0`),
  ],
);

/** Every stock change keyed by the caller's idempotency key, so a retried adjustment is applied once. */
export const stockAdjustments = productSchema.table(
  'stock_adjustments',
  {
    id: uuid('id').primaryKey(),
    merchantId: uuid('merchant_id').notNull(),
    skuId: uuid('sku_id')
      .notNull()
      .references(() => skus.id),
    idempotencyKey: text('idempotency_key').notNull(),
    delta: integer('delta').notNull(),
    stockBefore: integer('stock_before').notNull(),
    stockAfter: integer('stock_after').notNull(),
    reason: text('reason'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [unique('stock_adjustments_merchant_key').on(t.merchantId, t.idempotencyKey)],
);

/** Stock taken for orders, per reservation key; released at most once. */
export const stockReservations = productSchema.table(
  'stock_reservations',
  {
    merchantId: uuid('merchant_id').notNull(),
    reservationKey: text('reservation_key').notNull(),
    skuId: uuid('sku_id')
      .notNull()
      .references(() => skus.id),
    quantity: integer('quantity').notNull(),
    releasedAt: timestamp('released_at', { withTimezone: true, precision: 3 }),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [unique('stock_reservations_key').on(t.merchantId, t.reservationKey, t.skuId)],
);

export const outboxEvents = outboxTable(productSchema);

export type ProductRow = typeof products.$inferSelect;
export type SkuRow = typeof skus.$inferSelect;
