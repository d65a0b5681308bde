/**
 * The steps every change of an order's lifecycle shares, inside the caller's transaction: lock the
 * order, move it to a status the transition table allows (history entry, event, and the completion
 * timer a delivery starts), and mark it changed for `updatedSince` syncs. Shipments (shipments.ts),
 * after-sales (after-sales.ts) and their timers (lifecycle-timers.ts) change orders only through here.
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../../core/db.js';
import { conflict, notFound } from '../../core/errors.js';
import { recordEvents } from '../../messages/outbox.js';
import { orderEvent } from './events.js';
import { ORDER_TRANSITIONS } from './store.js';
import { afterSaleCases, OPEN_AFTER_SALE_STATUSES, orderStatusHistory, orders, outboxEvents, type OrderRow, type OrderStatus } from './tables.js';
import { cancelTimer, scheduleTimer } from './timers.js';

/** The waits of the lifecycle (core/config.ts: ORDER_COMPLETE_AFTER_DELIVERY, AFTER_SALE_RESPONSE_WINDOW, RETURN_SHIPPING_WINDOW). */
export interface LifecycleDurations {
  /** From delivery (or the last after-sales case closing) to completion. */
  completeAfterDeliveryMs: number;
  /** How long the merchant has to answer a case before it is approved in full. */
  afterSaleResponseWindowMs: number;
  /** How long the buyer has to ship a return before the case closes. */
  returnShippingWindowMs: number;
}

export const DEFAULT_LIFECYCLE_DURATIONS: LifecycleDurations = {
  completeAfterDeliveryMs: 7 * 24 * 3_600_000,
  afterSaleResponseWindowMs: 48 * 3_600_000,
  returnShippingWindowMs: 7 * 24 * 3_600_000,
};

/** The merchant's order, locked until the transaction ends: changes of one order are serialized. */
export async function lockOrder(tx: Executor, merchantId: string, orderId: string): Promise<OrderRow> {
  const [order] = await tx
    .select()
    .from(orders)
    .where(and(eq(orders.merchantId, merchantId), eq(orders.id, orderId)))
    .for('update');
  if (!order) throw notFound('Order', orderId);
  return order;
}

/** CONFLICT unless the order is in one of `statuses`, naming what it is. */
export function requireOrderStatus(order: OrderRow, statuses: readonly OrderStatus[], action: string) {
  if (!statuses.includes(order.status)) {
    throw conflict(`Order ${order.number} is ${order.status}: cannot ${action}`, { currentStatus: order.status, allowed: statuses });
  }
}

export async function hasOpenCase(tx: Executor, orderId: string): Promise<boolean> {
  const [open] = await tx
    .select({ id: afterSaleCases.id })
    .from(afterSaleCases)
    .where(and(eq(afterSaleCases.orderId, orderId), inArray(afterSaleCases.status, [...OPEN_AFTER_SALE_STATUSES])))
    .limit(1);
  return !!open;
}

/** Schedules completion of a DELIVERED order with no open case, `durations.completeAfterDeliveryMs` from `at`. */
export async function scheduleCompletion(tx: Executor, order: OrderRow, at: Date, durations: LifecycleDurations) {
  if (order.status !== 'DELIVERED' || (await hasOpenCase(tx, order.id))) return;
  await scheduleTimer(tx, { kind: 'COMPLETE_ORDER', subjectId: order.id, merchantId: order.merchantId, dueAt: new Date(at.getTime() + durations.completeAfterDeliveryMs) });
}

/**
 * Moves a locked order to `to`, with its history entry and (unless `event` is false: the caller
 * records an event that says more, such as the refund that made it REFUNDED) its status event.
 * Anything the transition table does not allow is a CONFLICT, and the caller's transaction rolls back.
 */
export async function moveOrder(
  tx: Executor,
  order: OrderRow,
  to: OrderStatus,
  at: Date,
  durations: LifecycleDurations,
  options: { reason?: string | null; event?: Record<string, unknown> | false } = {},
): Promise<OrderRow> {
  if (!ORDER_TRANSITIONS[order.status].includes(to)) {
    throw conflict(`Order ${order.number} is ${order.status} and cannot become ${to}`, { currentStatus: order.status, allowed: ORDER_TRANSITIONS[order.status] });
  }
  const [updated] = await tx
    .update(orders)
    .set({ status: to, updatedAt: at, ...(to === 'PAID' ? { paidAmount: order.totalAmount } : {}) })
    .where(eq(orders.id, order.id))
    .returning();
  await tx.insert(orderStatusHistory).values({ orderId: order.id, merchantId: order.merchantId, fromStatus: order.status, toStatus: to, reason: options.reason ?? null, occurredAt: at });
  if (options.event !== false) {
    await recordEvents(tx, outboxEvents, [orderEvent(updated!, order.status, at, { ...(options.reason ? { reason: options.reason } : {}), ...(options.event ?? {}) })]);
  }
  if (to === 'DELIVERED') await scheduleCompletion(tx, updated!, at, durations);
  // Leaving DELIVERED (completed, refunded) ends the wait for completion.
  if (order.status === 'DELIVERED') await cancelTimer(tx, { kind: 'COMPLETE_ORDER', subjectId: order.id });
  return updated!;
}

/** Marks a locked order changed (its shipments or cases did), so `updatedSince` syncs see it. */
export async function touchOrder(tx: Executor, order: OrderRow, at: Date): Promise<OrderRow> {
  const [updated] = await tx.update(orders).set({ updatedAt: at }).where(eq(orders.id, order.id)).returning();
  return updated!;
}
