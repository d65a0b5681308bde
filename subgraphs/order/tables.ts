/** Tables of the order subgraph, in its own Postgres schema `order`. */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, check, index, integer, jsonb, pgSchema, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { outboxTable } from '../../messages/outbox.js';

export const orderSchema = pgSchema('order');

export const ORDER_STATUSES = ['PENDING_PAYMENT', 'PAID', 'SHIPPED', 'DELIVERED', 'COMPLETED', 'CANCELLED', 'REFUNDING', 'REFUNDED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * Order numbers count per merchant (SO100001, SO100002, ... for each merchant, without gaps), so a
 * number tells nobody how many orders other merchants took: the platform's volume stays private.
 * A merchant's row is locked by the transaction that inserts its order and takes the next number.
 */
export const merchantOrderNumbers = orderSchema.table('merchant_order_numbers', {
  merchantId: uuid('merchant_id').primaryKey(),
  lastNumber: bigint('last_number', { mode: 'number' }).notNull(),
});

/** A merchant's first order number; the numbers of orders from before per-merchant numbering stay as they were. */
export const FIRST_ORDER_NUMBER = 100001;

export interface Address {
  name: string;
  phone: string | null;
  line1: string;
  line2: string | null;
  city: string;
  region: string | null;
  postalCode: string | null;
  country: string;
}

export const orders = orderSchema.table(
  'orders',
  {
    id: uuid('id').primaryKey(),
    merchantId: uuid('merchant_id').notNull(),
    number: text('number').notNull(),
    buyerId: uuid('buyer_id'),
    status: text('status', { enum: ORDER_STATUSES }).notNull(),
    currency: text('currency').notNull(),
    totalAmount: bigint('total_amount', { mode: 'number' }).notNull(),
    shippingAddress: jsonb('shipping_address').$type<Address>(),
    carrier: text('carrier'),
    trackingNumber: text('tracking_number'),
    shippedAt: timestamp('shipped_at', { withTimezone: true, precision: 3 }),
    /** The caller's key for placeOrder: a retry returns the same order. */
    idempotencyKey: text('idempotency_key'),
    /** The product service's stock reservation this order holds, given back on cancellation. */
    stockReservationKey: text('stock_reservation_key'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    unique('orders_merchant_idempotency_key').on(t.merchantId, t.idempotencyKey),
    unique('orders_merchant_number').on(t.merchantId, t.number),
    index('orders_merchant_created_idx').on(t.merchantId, t.createdAt, t.id),
    index('orders_merchant_updated_idx').on(t.merchantId, t.updatedAt, t.id),
    index('orders_merchant_status_created_idx').on(t.merchantId, t.status, t.createdAt),
    check('orders_status_check', sql.raw(`status in (${ORDER_STATUSES.map((s) => `'${s}'`).join(', ')})`)),
    check('orders_total_nonnegative', sql`${t.totalAmount} >= 0`),
  ],
);

export const orderLines = orderSchema.table(
  'order_lines',
  {
    id: uuid('id').primaryKey(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    merchantId: uuid('merchant_id').notNull(),
    lineNo: integer('line_no').notNull(),
    productId: uuid('product_id').notNull(),
    skuId: uuid('sku_id').notNull(),
    productTitle: text('product_title').notNull(),
    skuCode: text('sku_code').notNull(),
    quantity: integer('quantity').notNull(),
    unitPriceAmount: bigint('unit_price_amount', { mode: 'number' }).notNull(),
    totalAmount: bigint('total_amount', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
  },
  (t) => [index('order_lines_order_idx').on(t.orderId, t.lineNo), check('order_lines_quantity_positive', sql`${t.quantity} > 0`)],
);

export const orderStatusHistory = orderSchema.table(
  'order_status_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    merchantId: uuid('merchant_id').notNull(),
    fromStatus: text('from_status', { enum: ORDER_STATUSES }),
    toStatus: text('to_status', { enum: ORDER_STATUSES }).notNull(),
    reason: text('reason'),
    occurredAt: timestamp('occurred_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('order_status_history_order_idx').on(t.orderId, t.id)],
);

/**
 * Stock a cancelled order still has to give back. Written in the cancellation's transaction and
 * removed once the product service confirmed the release, so a failed call is never forgotten.
 */
export const pendingStockReleases = orderSchema.table('pending_stock_releases', {
  orderId: uuid('order_id')
    .primaryKey()
    .references(() => orders.id),
  merchantId: uuid('merchant_id').notNull(),
  reservationKey: text('reservation_key').notNull(),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

/**
 * Stock reserved for an order not committed yet. Written before the product service is asked to
 * reserve and deleted in the transaction that commits the order, so stock reserved for an order
 * that never committed (the order database failed, and giving the stock back failed too) is never
 * forgotten: once older than any request can take, no order holds it, and it is given back. A row
 * being given back is claimed (`claimedAt`); a retry of that order waits until it is gone.
 */
export const stockReservationIntents = orderSchema.table(
  'stock_reservation_intents',
  {
    reservationKey: text('reservation_key').primaryKey(),
    merchantId: uuid('merchant_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    claimedAt: timestamp('claimed_at', { withTimezone: true, precision: 3 }),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
  },
  (t) => [index('stock_reservation_intents_merchant_created_idx').on(t.merchantId, t.createdAt)],
);

/**
 * Durable timers of the order lifecycle (complete a delivered order, approve a case the merchant
 * left unanswered, close a return the buyer never shipped). A timer fires in the same transaction
 * as the change it makes, which also sets `firedAt`, so a crash either leaves it pending (to fire
 * after the restart) or fired with its change: never lost, never fired twice. A process claims due
 * timers with `FOR UPDATE SKIP LOCKED`, so several order processes share the work.
 */
export const orderTimers = orderSchema.table(
  'timers',
  {
    id: uuid('id').primaryKey(),
    /** What fires: for example COMPLETE_ORDER, APPROVE_AFTER_SALE, CLOSE_UNSHIPPED_RETURN. */
    kind: text('kind').notNull(),
    /** The order or after-sales case it acts on. */
    subjectId: uuid('subject_id').notNull(),
    merchantId: uuid('merchant_id').notNull(),
    dueAt: timestamp('due_at', { withTimezone: true, precision: 3 }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    /** Set in the transaction of the change the timer made. */
    firedAt: timestamp('fired_at', { withTimezone: true, precision: 3 }),
    /** Set when what it waited for happened first (the merchant answered, an after-sales case opened). */
    cancelledAt: timestamp('cancelled_at', { withTimezone: true, precision: 3 }),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
  },
  (t) => [
    // One pending timer of a kind per subject: scheduling again moves it.
    uniqueIndex('timers_pending_key').on(t.kind, t.subjectId).where(sql`${t.firedAt} is null and ${t.cancelledAt} is null`),
    index('timers_due_idx').on(t.dueAt).where(sql`${t.firedAt} is null and ${t.cancelledAt} is null`),
  ],
);

export const outboxEvents = outboxTable(orderSchema);

export type OrderRow = typeof orders.$inferSelect;
export type OrderLineRow = typeof orderLines.$inferSelect;
export type OrderStatusChangeRow = typeof orderStatusHistory.$inferSelect;
