/** Tables of the order subgraph, in its own Postgres schema `order`. */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, check, index, integer, jsonb, pgSchema, primaryKey, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
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
    /** What the buyer paid (the total, once PAID): refunds never exceed it. */
    paidAmount: bigint('paid_amount', { mode: 'number' }).notNull().default(0),
    /** The sum of the lines' refunds. */
    refundedAmount: bigint('refunded_amount', { mode: 'number' }).notNull().default(0),
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
    // Money adds up in the database too, whatever the code: paid ≤ total, 0 ≤ refunded ≤ paid.
    check('orders_paid_within_total', sql`${t.paidAmount} >= 0 and ${t.paidAmount} <= ${t.totalAmount}`),
    check('orders_refunded_within_paid', sql`${t.refundedAmount} >= 0 and ${t.refundedAmount} <= ${t.paidAmount}`),
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
    /** Units in outbound shipments. */
    shippedQuantity: integer('shipped_quantity').notNull().default(0),
    /** Units the merchant received back from the buyer. */
    returnedQuantity: integer('returned_quantity').notNull().default(0),
    /** Money refunded for this line. */
    refundedAmount: bigint('refunded_amount', { mode: 'number' }).notNull().default(0),
  },
  (t) => [
    index('order_lines_order_idx').on(t.orderId, t.lineNo),
    check('order_lines_quantity_positive', sql`${t.quantity} > 0`),
    check('order_lines_shipped_within_quantity', sql`${t.shippedQuantity} >= 0 and ${t.shippedQuantity} <= ${t.quantity}`),
    check('order_lines_returned_within_shipped', sql`${t.returnedQuantity} >= 0 and ${t.returnedQuantity} <= ${t.shippedQuantity}`),
    check('order_lines_refunded_within_total', sql`${t.refundedAmount} >= 0 and ${t.refundedAmount} <= ${t.totalAmount}`),
  ],
);

export const SHIPMENT_KINDS = ['OUTBOUND', 'RETURN'] as const;
export type ShipmentKind = (typeof SHIPMENT_KINDS)[number];
export const SHIPMENT_STATUSES = ['IN_TRANSIT', 'DELIVERED'] as const;
export type ShipmentStatus = (typeof SHIPMENT_STATUSES)[number];
export const TRACKING_STATUSES = ['IN_TRANSIT', 'OUT_FOR_DELIVERY', 'DELIVERED', 'EXCEPTION'] as const;
export type TrackingStatus = (typeof TRACKING_STATUSES)[number];

/**
 * A parcel: of the merchant to the buyer (OUTBOUND, some lines of an order) or of the buyer back to
 * the merchant (RETURN, the goods of an after-sales case).
 */
export const shipments = orderSchema.table(
  'shipments',
  {
    id: uuid('id').primaryKey(),
    merchantId: uuid('merchant_id').notNull(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    kind: text('kind', { enum: SHIPMENT_KINDS }).notNull(),
    /** The after-sales case a RETURN belongs to. */
    caseId: uuid('case_id'),
    carrier: text('carrier').notNull(),
    trackingNumber: text('tracking_number').notNull(),
    status: text('status', { enum: SHIPMENT_STATUSES }).notNull(),
    /** The caller's key for createShipment: a retry returns the same shipment. */
    idempotencyKey: text('idempotency_key'),
    shippedAt: timestamp('shipped_at', { withTimezone: true, precision: 3 }).notNull(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, precision: 3 }),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [
    unique('shipments_merchant_idempotency_key').on(t.merchantId, t.idempotencyKey),
    index('shipments_order_idx').on(t.orderId, t.shippedAt),
    index('shipments_case_idx').on(t.caseId),
    check('shipments_kind_check', sql.raw(`kind in (${SHIPMENT_KINDS.map((s) => `'${s}'`).join(', ')})`)),
    check('shipments_status_check', sql.raw(`status in (${SHIPMENT_STATUSES.map((s) => `'${s}'`).join(', ')})`)),
  ],
);

/** The units of each order line a shipment carries. */
export const shipmentLines = orderSchema.table(
  'shipment_lines',
  {
    shipmentId: uuid('shipment_id')
      .notNull()
      .references(() => shipments.id),
    orderLineId: uuid('order_line_id')
      .notNull()
      .references(() => orderLines.id),
    merchantId: uuid('merchant_id').notNull(),
    quantity: integer('quantity').notNull(),
  },
  (t) => [primaryKey({ name: 'shipment_lines_pkey', columns: [t.shipmentId, t.orderLineId] }), check('shipment_lines_quantity_positive', sql`${t.quantity} > 0`)],
);

/** What the carrier (or the merchant's app) reported of a shipment, in the order it was recorded. */
export const trackingEvents = orderSchema.table(
  'tracking_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    shipmentId: uuid('shipment_id')
      .notNull()
      .references(() => shipments.id),
    merchantId: uuid('merchant_id').notNull(),
    status: text('status', { enum: TRACKING_STATUSES }).notNull(),
    location: text('location'),
    description: text('description'),
    occurredAt: timestamp('occurred_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [index('tracking_events_shipment_idx').on(t.shipmentId, t.id)],
);

export const AFTER_SALE_KINDS = ['REFUND_ONLY', 'RETURN_AND_REFUND'] as const;
export type AfterSaleKind = (typeof AFTER_SALE_KINDS)[number];
/** OPEN, AWAITING_RETURN and RETURN_SHIPPED are open; REFUNDED, REJECTED and CLOSED are final. */
export const AFTER_SALE_STATUSES = ['OPEN', 'AWAITING_RETURN', 'RETURN_SHIPPED', 'REFUNDED', 'REJECTED', 'CLOSED'] as const;
export type AfterSaleStatus = (typeof AFTER_SALE_STATUSES)[number];
export const OPEN_AFTER_SALE_STATUSES: readonly AfterSaleStatus[] = ['OPEN', 'AWAITING_RETURN', 'RETURN_SHIPPED'];

/** A buyer's after-sales request on an order (refund only, or return and refund) and how it ends. */
export const afterSaleCases = orderSchema.table(
  'after_sale_cases',
  {
    id: uuid('id').primaryKey(),
    merchantId: uuid('merchant_id').notNull(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    kind: text('kind', { enum: AFTER_SALE_KINDS }).notNull(),
    status: text('status', { enum: AFTER_SALE_STATUSES }).notNull(),
    reason: text('reason').notNull(),
    evidence: text('evidence'),
    currency: text('currency').notNull(),
    requestedAmount: bigint('requested_amount', { mode: 'number' }).notNull(),
    /** What the merchant (or the response timer) agreed to refund. */
    approvedAmount: bigint('approved_amount', { mode: 'number' }),
    refundedAmount: bigint('refunded_amount', { mode: 'number' }).notNull().default(0),
    rejectionReason: text('rejection_reason'),
    /** Why the case closed without a refund (the return was not shipped in time). */
    closeReason: text('close_reason'),
    /** Idempotency keys of the calls that open it, approve it and receive its return: a retry answers the case as it is. */
    openKey: text('open_key').notNull(),
    approveKey: text('approve_key'),
    receiveKey: text('receive_key'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull(),
    closedAt: timestamp('closed_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    unique('after_sale_cases_merchant_open_key').on(t.merchantId, t.openKey),
    // One open case per order at a time: a second waits until the first is settled.
    uniqueIndex('after_sale_cases_one_open_per_order').on(t.orderId).where(sql.raw(`status in (${OPEN_AFTER_SALE_STATUSES.map((s) => `'${s}'`).join(', ')})`)),
    index('after_sale_cases_merchant_updated_idx').on(t.merchantId, t.updatedAt, t.id),
    index('after_sale_cases_order_idx').on(t.orderId, t.createdAt),
    check('after_sale_cases_kind_check', sql.raw(`kind in (${AFTER_SALE_KINDS.map((s) => `'${s}'`).join(', ')})`)),
    check('after_sale_cases_status_check', sql.raw(`status in (${AFTER_SALE_STATUSES.map((s) => `'${s}'`).join(', ')})`)),
    check('after_sale_cases_amounts', sql`${t.requestedAmount} > 0 and coalesce(${t.approvedAmount}, 0) >= 0 and coalesce(${t.approvedAmount}, 0) <= ${t.requestedAmount} and ${t.refundedAmount} >= 0 and ${t.refundedAmount} <= coalesce(${t.approvedAmount}, 0)`),
  ],
);

/** The order lines a case concerns, with the units (to return, for RETURN_AND_REFUND). */
export const afterSaleCaseLines = orderSchema.table(
  'after_sale_case_lines',
  {
    caseId: uuid('case_id')
      .notNull()
      .references(() => afterSaleCases.id),
    orderLineId: uuid('order_line_id')
      .notNull()
      .references(() => orderLines.id),
    merchantId: uuid('merchant_id').notNull(),
    quantity: integer('quantity').notNull(),
  },
  (t) => [primaryKey({ name: 'after_sale_case_lines_pkey', columns: [t.caseId, t.orderLineId] }), check('after_sale_case_lines_quantity_positive', sql`${t.quantity} > 0`)],
);

/**
 * Returned stock the product service still has to put back on sale. Written in the transaction that
 * receives the return and removed once the product service confirmed, as pendingStockReleases.
 */
export const pendingStockReturns = orderSchema.table('pending_stock_returns', {
  caseId: uuid('case_id')
    .primaryKey()
    .references(() => afterSaleCases.id),
  merchantId: uuid('merchant_id').notNull(),
  lines: jsonb('lines').$type<{ skuId: string; quantity: number }[]>().notNull(),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

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
export type ShipmentRow = typeof shipments.$inferSelect;
export type ShipmentLineRow = typeof shipmentLines.$inferSelect;
export type TrackingEventRow = typeof trackingEvents.$inferSelect;
export type AfterSaleCaseRow = typeof afterSaleCases.$inferSelect;
export type AfterSaleCaseLineRow = typeof afterSaleCaseLines.$inferSelect;
