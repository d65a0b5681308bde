/**
 * Refunds, where money must add up: a refund is spread over the order lines it concerns, each up
 * to what is left of its total, and added to the order's refunded amount, so refunded ≤ paid holds
 * per line and per order. The database holds the same rule as check constraints
 * (order_lines_refunded_within_total, orders_refunded_within_paid), so no code path can break it.
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../core/db.js';
import { conflict } from '../../core/errors.js';
import { orderLines, orders, type OrderLineRow, type OrderRow } from './tables.js';

/** What is left to refund of a line. */
export const refundableOfLine = (line: OrderLineRow): number => line.totalAmount - line.refundedAmount;

/** What is left to refund of an order: only what was paid. */
export const refundableOfOrder = (order: OrderRow): number => order.paidAmount - order.refundedAmount;

/** Units of a line that can still come back: shipped and not returned yet. */
export const returnableOfLine = (line: OrderLineRow): number => line.shippedQuantity - line.returnedQuantity;

/** The locked lines of an order, in line order (some of them, or all). */
export async function lockLines(tx: Executor, orderId: string, lineIds?: readonly string[]): Promise<OrderLineRow[]> {
  return tx
    .select()
    .from(orderLines)
    .where(and(eq(orderLines.orderId, orderId), lineIds ? inArray(orderLines.id, [...lineIds]) : undefined))
    .orderBy(asc(orderLines.lineNo))
    .for('update');
}

export interface RefundAllocation {
  lineId: string;
  lineNo: number;
  amount: number;
}

/**
 * Refunds `amount` of a locked order over `lineIds` (in line order, each line up to what is left of
 * it) and adds it to the order. CONFLICT, changing nothing, when those lines or the order have less
 * left than `amount`. Returns the order after the refund and how the amount was spread.
 */
export async function refundLines(tx: Executor, order: OrderRow, lineIds: readonly string[], amount: number, at: Date): Promise<{ order: OrderRow; allocation: RefundAllocation[] }> {
  if (amount > refundableOfOrder(order)) {
    throw conflict(`Order ${order.number} has ${refundableOfOrder(order)} left to refund, less than ${amount}`, { refundable: refundableOfOrder(order) });
  }
  const lines = await lockLines(tx, order.id, lineIds);
  const left = lines.reduce((sum, line) => sum + refundableOfLine(line), 0);
  if (amount > left) throw conflict(`These lines of order ${order.number} have ${left} left to refund, less than ${amount}`, { refundable: left });
  const allocation: RefundAllocation[] = [];
  let remaining = amount;
  for (const line of lines) {
    const share = Math.min(remaining, refundableOfLine(line));
    if (share <= 0) continue;
    await tx.update(orderLines).set({ refundedAmount: sql`${orderLines.refundedAmount} + ${share}` }).where(eq(orderLines.id, line.id));
    allocation.push({ lineId: line.id, lineNo: line.lineNo, amount: share });
    remaining -= share;
  }
  const [updated] = await tx
    .update(orders)
    .set({ refundedAmount: sql`${orders.refundedAmount} + ${amount}`, updatedAt: at })
    .where(eq(orders.id, order.id))
    .returning();
  return { order: updated!, allocation };
}
