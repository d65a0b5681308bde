/**
 * After-sales cases: a buyer asks for a refund (REFUND_ONLY) or to return goods for a refund
 * (RETURN_AND_REFUND) on an order or some of its lines; the merchant's app approves (in full or in
 * part, and may ask for the goods back), or rejects; a return ships back with its own tracking, and
 * receiving it puts the stock back on sale (through the product service, owed in the same
 * transaction as pendingStockReleases are) and refunds. Money adds up through money.ts.
 *
 *   OPEN ─approve─▶ (refund only) REFUNDED
 *   OPEN ─approve─▶ (return) AWAITING_RETURN ─buyer ships─▶ RETURN_SHIPPED ─received─▶ REFUNDED
 *   OPEN ─reject─▶ REJECTED            AWAITING_RETURN ─not shipped in time─▶ CLOSED
 *
 * Every step is one transaction with its events, in order: AFTER_SALE_OPENED, AFTER_SALE_APPROVED,
 * AFTER_SALE_REJECTED, RETURN_SHIPPED, RETURN_RECEIVED, REFUNDED, and AFTER_SALE_CLOSED when a case
 * ends however it ends. One case per order is open at a time. Anything else is a CONFLICT and
 * changes nothing.
 */
import crypto from 'node:crypto';
import { and, asc, desc, eq, gte, inArray, sql, type SQL } from 'drizzle-orm';
import type { Clock } from '../../core/clock.js';
import { isUniqueViolation, merchantPairsIn, uuidIn, type Db, type Executor } from '../../core/db.js';
import { badInput, conflict, notFound } from '../../core/errors.js';
import { decodeTimeCursor, timeCursor, type TimeSort } from '../../core/pagination.js';
import type { MerchantPairs } from '../../core/shared-lookups.js';
import * as v from '../../core/validate.js';
import type { DomainEvent } from '../../messages/events.js';
import { recordEvents } from '../../messages/outbox.js';
import { LIFECYCLE_EVENTS, lifecycleEvent, type LifecycleEventType } from './events.js';
import { lockLines, refundableOfLine, refundLines, returnableOfLine, type RefundAllocation } from './money.js';
import { lockOrder, moveOrder, requireOrderStatus, scheduleCompletion, touchOrder, type LifecycleDurations } from './order-changes.js';
import { settleShipping } from './shipments.js';
import {
  AFTER_SALE_KINDS,
  AFTER_SALE_STATUSES,
  afterSaleCaseLines,
  afterSaleCases,
  OPEN_AFTER_SALE_STATUSES,
  orderLines,
  outboxEvents,
  pendingStockReturns,
  shipments,
  type AfterSaleCaseLineRow,
  type AfterSaleCaseRow,
  type AfterSaleKind,
  type AfterSaleStatus,
  type OrderRow,
  type OrderStatus,
} from './tables.js';
import { cancelTimer, scheduleTimer } from './timers.js';

/** Orders a case may be opened on: paid, and not settled yet. */
const CASE_ORDER_STATUSES: readonly OrderStatus[] = ['PAID', 'SHIPPED', 'DELIVERED'];

export interface OpenCaseInput {
  orderId: string;
  kind: AfterSaleKind;
  reason: string;
  evidence?: string | null;
  /** The amount asked, in the order's currency's minor units. */
  amount: number;
  /** Lines and units concerned; none: every line (for a return, every unit shipped and not returned). */
  lines?: { lineId: string; quantity: number }[] | null;
  idempotencyKey: string;
}

export interface CaseFilter {
  status?: AfterSaleStatus[] | null;
  updatedSince?: Date | null;
}

export type CaseSort = 'CREATED_AT_DESC' | 'UPDATED_AT_ASC';

const sortSpec: Record<CaseSort, TimeSort<AfterSaleCaseRow>> = {
  CREATED_AT_DESC: { column: afterSaleCases.createdAt, direction: 'desc', valueOf: (row) => row.createdAt },
  UPDATED_AT_ASC: { column: afterSaleCases.updatedAt, direction: 'asc', valueOf: (row) => row.updatedAt },
};

export const caseCursor = (sort: CaseSort, row: AfterSaleCaseRow) => timeCursor(sortSpec[sort], sort, row);

/** Whether a case passes a filter (the cases of one order are filtered in memory). */
export const caseMatches = (row: AfterSaleCaseRow, filter: CaseFilter | null | undefined) =>
  (!filter?.status?.length || filter.status.includes(row.status)) && (!filter?.updatedSince || row.updatedAt.getTime() >= filter.updatedSince.getTime());

/** The rows of a sort order after a cursor, for a list held in memory (sorted as the sort says). */
export function casesAfter(rows: AfterSaleCaseRow[], sort: CaseSort, after: string | null | undefined): AfterSaleCaseRow[] {
  if (!after) return rows;
  const { at, id } = decodeTimeCursor(after, sort);
  const key = Date.parse(at);
  const spec = sortSpec[sort];
  return rows.filter((row) => {
    const t = spec.valueOf(row).getTime();
    return spec.direction === 'desc' ? t < key || (t === key && row.id < id) : t > key || (t === key && row.id > id);
  });
}

export function createAfterSales(db: Db, clock: Clock, durations: LifecycleDurations) {
  const now = () => new Date(clock.now());
  const byIds = {
    cases: db.select().from(afterSaleCases).where(and(eq(afterSaleCases.merchantId, sql.placeholder('merchantId')), uuidIn(afterSaleCases.id, 'ids'))).prepare('order_cases_by_ids'),
    ofOrders: db
      .select()
      .from(afterSaleCases)
      .where(and(eq(afterSaleCases.merchantId, sql.placeholder('merchantId')), uuidIn(afterSaleCases.orderId, 'ids')))
      .orderBy(asc(afterSaleCases.orderId), desc(afterSaleCases.createdAt), desc(afterSaleCases.id))
      .prepare('order_cases_of_orders'),
    lines: db.select().from(afterSaleCaseLines).where(and(eq(afterSaleCaseLines.merchantId, sql.placeholder('merchantId')), uuidIn(afterSaleCaseLines.caseId, 'ids'))).prepare('order_case_lines_by_ids'),
    returns: db
      .select()
      .from(shipments)
      .where(and(eq(shipments.merchantId, sql.placeholder('merchantId')), uuidIn(shipments.caseId, 'ids'), eq(shipments.kind, 'RETURN')))
      .prepare('order_return_shipments_by_case_ids'),
  };
  const byPairs = {
    cases: db.select().from(afterSaleCases).where(merchantPairsIn(afterSaleCases.merchantId, afterSaleCases.id)).prepare('order_cases_by_pairs'),
    ofOrders: db
      .select()
      .from(afterSaleCases)
      .where(merchantPairsIn(afterSaleCases.merchantId, afterSaleCases.orderId))
      .orderBy(asc(afterSaleCases.orderId), desc(afterSaleCases.createdAt), desc(afterSaleCases.id))
      .prepare('order_cases_of_orders_by_pairs'),
    lines: db.select().from(afterSaleCaseLines).where(merchantPairsIn(afterSaleCaseLines.merchantId, afterSaleCaseLines.caseId)).prepare('order_case_lines_by_pairs'),
    returns: db.select().from(shipments).where(and(merchantPairsIn(shipments.merchantId, shipments.caseId), eq(shipments.kind, 'RETURN'))).prepare('order_return_shipments_by_pairs'),
  };
  const wellFormed = (ids: readonly string[]) => ids.filter(v.isWellFormedId);

  /** The case and its order, both locked (the order first, as every change of an order locks). */
  async function lockCase(tx: Executor, merchantId: string, caseId: string): Promise<{ afterSale: AfterSaleCaseRow; order: OrderRow; lines: AfterSaleCaseLineRow[] }> {
    const id = v.id(caseId, 'caseId');
    const [found] = await tx.select({ orderId: afterSaleCases.orderId }).from(afterSaleCases).where(and(eq(afterSaleCases.merchantId, merchantId), eq(afterSaleCases.id, id)));
    if (!found) throw notFound('AfterSaleCase', caseId);
    const order = await lockOrder(tx, merchantId, found.orderId);
    const [afterSale] = await tx.select().from(afterSaleCases).where(eq(afterSaleCases.id, id)).for('update');
    const lines = await tx.select().from(afterSaleCaseLines).where(eq(afterSaleCaseLines.caseId, id));
    return { afterSale: afterSale!, order, lines };
  }

  function requireCaseStatus(afterSale: AfterSaleCaseRow, statuses: readonly AfterSaleStatus[], action: string) {
    if (!statuses.includes(afterSale.status)) {
      throw conflict(`After-sales case ${afterSale.id} is ${afterSale.status}: cannot ${action}`, { currentStatus: afterSale.status, allowed: statuses });
    }
  }

  const caseEvent = (type: LifecycleEventType, order: OrderRow, previous: OrderStatus, at: Date, afterSale: AfterSaleCaseRow, extra: Record<string, unknown> = {}): DomainEvent =>
    lifecycleEvent(type, order, previous, at, { caseId: afterSale.id, caseStatus: afterSale.status, kind: afterSale.kind, ...extra });

  const money = (amount: number, currency: string) => ({ amount, currency });

  async function updateCase(tx: Executor, id: string, set: Partial<typeof afterSaleCases.$inferInsert>): Promise<AfterSaleCaseRow> {
    const [row] = await tx.update(afterSaleCases).set(set).where(eq(afterSaleCases.id, id)).returning();
    return row!;
  }

  /**
   * Refunds `amount` for a case and closes it REFUNDED, with REFUNDED and AFTER_SALE_CLOSED; a
   * refund of everything paid makes the order REFUNDED, and refunded lines may leave nothing to
   * ship (the order SHIPPED). Events already recorded by the caller come first.
   */
  async function refundAndClose(tx: Executor, order: OrderRow, afterSale: AfterSaleCaseRow, lines: AfterSaleCaseLineRow[], amount: number, at: Date, before: DomainEvent[]) {
    const refunded = await refundLines(tx, order, lines.map((l) => l.orderLineId), amount, at);
    await oweUnshippableStock(tx, order.merchantId, afterSale.id, refunded.allocation, at);
    let current = refunded.order;
    const full = current.refundedAmount === current.paidAmount;
    if (full) current = await moveOrder(tx, current, 'REFUNDED', at, durations, { reason: `After-sales case ${afterSale.id}`, event: false });
    const closed = await updateCase(tx, afterSale.id, { status: 'REFUNDED', refundedAmount: afterSale.refundedAmount + amount, updatedAt: at, closedAt: at });
    await recordEvents(tx, outboxEvents, [
      ...before,
      caseEvent(LIFECYCLE_EVENTS.REFUNDED, current, order.status, at, closed, {
        amount: money(amount, order.currency),
        refundedTotal: money(current.refundedAmount, order.currency),
        lines: refunded.allocation.map((a: RefundAllocation) => ({ lineId: a.lineId, lineNo: a.lineNo, amount: money(a.amount, order.currency) })),
      }),
      caseEvent(LIFECYCLE_EVENTS.AFTER_SALE_CLOSED, current, current.status, at, closed, { outcome: 'REFUNDED' }),
    ]);
    if (!full) current = await settleShipping(tx, current, at, durations, { caseId: afterSale.id });
    await scheduleCompletion(tx, current, at, durations);
    return { afterSale: closed, order: current };
  }

  /**
   * Units of a line this refund settled in full before they shipped will never ship now
   * (shipments.ts owes nothing of such a line): they go back on sale, owed in this transaction with
   * the case's returned units, if any, and given back after the commit as a return's are.
   */
  async function oweUnshippableStock(tx: Executor, merchantId: string, caseId: string, allocation: readonly RefundAllocation[], at: Date) {
    if (!allocation.length) return;
    const settled = await tx.select().from(orderLines).where(inArray(orderLines.id, allocation.map((a) => a.lineId)));
    const unshippable = settled.filter((line) => refundableOfLine(line) === 0 && line.quantity > line.shippedQuantity).map((line) => ({ skuId: line.skuId, quantity: line.quantity - line.shippedQuantity }));
    if (!unshippable.length) return;
    const [owed] = await tx.select().from(pendingStockReturns).where(eq(pendingStockReturns.caseId, caseId));
    // One entry per SKU: the product service applies a return key once per SKU.
    const bySku = new Map<string, number>();
    for (const { skuId, quantity } of [...(owed?.lines ?? []), ...unshippable]) bySku.set(skuId, (bySku.get(skuId) ?? 0) + quantity);
    const lines = [...bySku].map(([skuId, quantity]) => ({ skuId, quantity }));
    if (owed) await tx.update(pendingStockReturns).set({ lines }).where(eq(pendingStockReturns.caseId, caseId));
    else await tx.insert(pendingStockReturns).values({ caseId, merchantId, lines, createdAt: at });
  }

  async function openCase(merchantId: string, input: OpenCaseInput): Promise<{ afterSale: AfterSaleCaseRow; order: OrderRow }> {
    const orderId = v.id(input.orderId, 'orderId');
    if (!AFTER_SALE_KINDS.includes(input.kind)) throw badInput(`kind must be one of ${AFTER_SALE_KINDS.join(', ')}`, 'kind');
    const reason = v.text(input.reason, 'reason', { max: 500 });
    const evidence = v.optionalText(input.evidence, 'evidence', 2000);
    const amount = v.intInRange(input.amount, 'amount', 1, Number.MAX_SAFE_INTEGER);
    const key = v.idempotencyKey(input.idempotencyKey);
    const asked = input.lines?.map((line, i) => ({ lineId: v.id(line.lineId, `lines[${i}].lineId`), quantity: v.intInRange(line.quantity, `lines[${i}].quantity`, 1, 10_000) }));
    if (asked && !asked.length) throw badInput('A case concerns at least one line', 'lines');
    if (asked && new Set(asked.map((l) => l.lineId)).size !== asked.length) throw badInput('Each line appears once in a case', 'lines');
    const attempt = () =>
      db.transaction(async (tx) => {
        const order = await lockOrder(tx, merchantId, orderId);
        const [existing] = await tx.select().from(afterSaleCases).where(and(eq(afterSaleCases.merchantId, merchantId), eq(afterSaleCases.openKey, key)));
        if (existing) {
          if (existing.orderId !== orderId || existing.kind !== input.kind || existing.requestedAmount !== amount) {
            throw conflict('This idempotency key was already used for a different after-sales case', { field: 'idempotencyKey', caseId: existing.id });
          }
          return { afterSale: existing, order };
        }
        requireOrderStatus(order, CASE_ORDER_STATUSES, 'open an after-sales case');
        const lines = await lockLines(tx, order.id);
        const byId = new Map(lines.map((l) => [l.id, l]));
        const ret = input.kind === 'RETURN_AND_REFUND';
        const unitsOf = (lineId: string) => {
          const line = byId.get(lineId)!;
          return ret ? returnableOfLine(line) : line.quantity;
        };
        const chosen = asked ?? lines.filter((l) => refundableOfLine(l) > 0 && unitsOf(l.id) > 0).map((l) => ({ lineId: l.id, quantity: unitsOf(l.id) }));
        for (const [i, line] of chosen.entries()) {
          if (!byId.has(line.lineId)) throw badInput(`Line ${line.lineId} is not a line of order ${order.number}`, `lines[${i}].lineId`);
          if (line.quantity > unitsOf(line.lineId)) {
            throw conflict(`Line ${byId.get(line.lineId)!.lineNo} of order ${order.number} has ${unitsOf(line.lineId)} units that can ${ret ? 'be returned (shipped, not returned yet)' : 'be refunded'}`, { lineId: line.lineId, available: unitsOf(line.lineId) });
          }
        }
        if (!chosen.length) throw conflict(`Order ${order.number} has nothing ${ret ? 'to return' : 'left to refund'}`, { currentStatus: order.status });
        const refundable = Math.min(chosen.reduce((sum, l) => sum + refundableOfLine(byId.get(l.lineId)!), 0), order.paidAmount - order.refundedAmount);
        if (amount > refundable) throw conflict(`At most ${refundable} can be refunded for these lines`, { field: 'amount', refundable });
        const at = now();
        const [afterSale] = await tx
          .insert(afterSaleCases)
          .values({ id: crypto.randomUUID(), merchantId, orderId: order.id, kind: input.kind, status: 'OPEN', reason, evidence, currency: order.currency, requestedAmount: amount, openKey: key, createdAt: at, updatedAt: at })
          .returning();
        await tx.insert(afterSaleCaseLines).values(chosen.map((l) => ({ caseId: afterSale!.id, orderLineId: l.lineId, merchantId, quantity: l.quantity })));
        const touched = await touchOrder(tx, order, at);
        await recordEvents(tx, outboxEvents, [
          caseEvent(LIFECYCLE_EVENTS.AFTER_SALE_OPENED, touched, order.status, at, afterSale!, {
            reason,
            requestedAmount: money(amount, order.currency),
            lines: chosen.map((l) => ({ lineId: l.lineId, lineNo: byId.get(l.lineId)!.lineNo, quantity: l.quantity })),
          }),
        ]);
        // The merchant has a window to answer; completion waits until the case is settled.
        await scheduleTimer(tx, { kind: 'APPROVE_AFTER_SALE', subjectId: afterSale!.id, merchantId, dueAt: new Date(at.getTime() + durations.afterSaleResponseWindowMs) });
        await cancelTimer(tx, { kind: 'COMPLETE_ORDER', subjectId: order.id });
        return { afterSale: afterSale!, order: touched };
      });
    try {
      return await attempt();
    } catch (error) {
      if (isUniqueViolation(error, 'after_sale_cases_merchant_open_key')) return attempt();
      if (isUniqueViolation(error, 'after_sale_cases_one_open_per_order')) throw conflict('The order already has an open after-sales case', { field: 'orderId' });
      throw error;
    }
  }

  /**
   * Approves an OPEN case, by the merchant or, when its window passed, by the response timer (in
   * full). A refund-only case is refunded at once; a return (asked by the buyer, or by the merchant
   * with `requireReturn`) waits for the goods, within the return shipping window.
   */
  async function approveIn(tx: Executor, merchantId: string, input: { caseId: string; amount?: number | null; requireReturn?: boolean | null; idempotencyKey: string | null }, by: 'MERCHANT' | 'TIMER') {
    const { afterSale, order, lines } = await lockCase(tx, merchantId, input.caseId);
    if (input.idempotencyKey && afterSale.approveKey === input.idempotencyKey) {
      if (input.amount != null && afterSale.approvedAmount !== input.amount) throw conflict('This idempotency key was already used for a different approval', { field: 'idempotencyKey' });
      return { afterSale, order };
    }
    requireCaseStatus(afterSale, ['OPEN'], 'approve');
    const amount = input.amount ?? afterSale.requestedAmount;
    if (amount > afterSale.requestedAmount) throw conflict(`At most the ${afterSale.requestedAmount} asked can be approved`, { field: 'amount', requested: afterSale.requestedAmount });
    const kind: AfterSaleKind = input.requireReturn ? 'RETURN_AND_REFUND' : afterSale.kind;
    const at = now();
    await cancelTimer(tx, { kind: 'APPROVE_AFTER_SALE', subjectId: afterSale.id });
    if (kind === 'RETURN_AND_REFUND') {
      if (afterSale.kind === 'REFUND_ONLY') {
        // Asking for goods back: every unit concerned must have shipped and not come back yet.
        const orderLinesNow = await lockLines(tx, order.id, lines.map((l) => l.orderLineId));
        const byId = new Map(orderLinesNow.map((l) => [l.id, l]));
        const short = lines.find((l) => returnableOfLine(byId.get(l.orderLineId)!) < l.quantity);
        if (short) throw conflict('Goods that have not shipped cannot be asked back', { lineId: short.orderLineId });
      }
      const approved = await updateCase(tx, afterSale.id, { kind, status: 'AWAITING_RETURN', approvedAmount: amount, approveKey: input.idempotencyKey, updatedAt: at });
      const touched = await touchOrder(tx, order, at);
      await recordEvents(tx, outboxEvents, [caseEvent(LIFECYCLE_EVENTS.AFTER_SALE_APPROVED, touched, order.status, at, approved, { approvedAmount: money(amount, order.currency), returnRequired: true, by })]);
      await scheduleTimer(tx, { kind: 'CLOSE_UNSHIPPED_RETURN', subjectId: afterSale.id, merchantId, dueAt: new Date(at.getTime() + durations.returnShippingWindowMs) });
      return { afterSale: approved, order: touched };
    }
    const approved = await updateCase(tx, afterSale.id, { status: 'OPEN', approvedAmount: amount, approveKey: input.idempotencyKey, updatedAt: at });
    const approvedEvent = caseEvent(LIFECYCLE_EVENTS.AFTER_SALE_APPROVED, order, order.status, at, { ...approved, status: 'REFUNDED' }, { approvedAmount: money(amount, order.currency), returnRequired: false, by });
    return refundAndClose(tx, order, approved, lines, amount, at, [approvedEvent]);
  }

  /** Closes a case (rejected, or a return never shipped) with its events; completion may resume. */
  async function closeWithout(tx: Executor, afterSale: AfterSaleCaseRow, order: OrderRow, status: 'REJECTED' | 'CLOSED', at: Date, details: { rejectionReason?: string; closeReason?: string }) {
    const closed = await updateCase(tx, afterSale.id, { status, updatedAt: at, closedAt: at, ...details });
    const touched = await touchOrder(tx, order, at);
    await recordEvents(tx, outboxEvents, [
      ...(status === 'REJECTED' ? [caseEvent(LIFECYCLE_EVENTS.AFTER_SALE_REJECTED, touched, order.status, at, closed, { reason: details.rejectionReason })] : []),
      caseEvent(LIFECYCLE_EVENTS.AFTER_SALE_CLOSED, touched, order.status, at, closed, { outcome: status, ...(details.closeReason ? { reason: details.closeReason } : {}) }),
    ]);
    await scheduleCompletion(tx, touched, at, durations);
    return { afterSale: closed, order: touched };
  }

  return {
    openCase,

    approveCase: (merchantId: string, input: { caseId: string; amount?: number | null; requireReturn?: boolean | null; idempotencyKey: string }) => {
      const key = v.idempotencyKey(input.idempotencyKey);
      if (input.amount != null) v.intInRange(input.amount, 'amount', 1, Number.MAX_SAFE_INTEGER);
      return db.transaction((tx) => approveIn(tx, merchantId, { ...input, idempotencyKey: key }, 'MERCHANT'));
    },

    rejectCase: (merchantId: string, input: { caseId: string; reason: string }) => {
      const reason = v.text(input.reason, 'reason', { max: 500 });
      return db.transaction(async (tx) => {
        const { afterSale, order } = await lockCase(tx, merchantId, input.caseId);
        requireCaseStatus(afterSale, ['OPEN'], 'reject');
        await cancelTimer(tx, { kind: 'APPROVE_AFTER_SALE', subjectId: afterSale.id });
        return closeWithout(tx, afterSale, order, 'REJECTED', now(), { rejectionReason: reason });
      });
    },

    /** The buyer ships the goods back: the return's own shipment, tracked like any other. */
    shipReturn: (merchantId: string, input: { caseId: string; carrier: string; trackingNumber: string }) => {
      const carrier = v.text(input.carrier, 'carrier', { max: 64 });
      const trackingNumber = v.text(input.trackingNumber, 'trackingNumber', { max: 64 });
      return db.transaction(async (tx) => {
        const { afterSale, order } = await lockCase(tx, merchantId, input.caseId);
        requireCaseStatus(afterSale, ['AWAITING_RETURN'], 'ship the return');
        const at = now();
        const [shipment] = await tx
          .insert(shipments)
          .values({ id: crypto.randomUUID(), merchantId, orderId: order.id, kind: 'RETURN', caseId: afterSale.id, carrier, trackingNumber, status: 'IN_TRANSIT', shippedAt: at, updatedAt: at })
          .returning();
        const shipped = await updateCase(tx, afterSale.id, { status: 'RETURN_SHIPPED', updatedAt: at });
        const touched = await touchOrder(tx, order, at);
        await recordEvents(tx, outboxEvents, [caseEvent(LIFECYCLE_EVENTS.RETURN_SHIPPED, touched, order.status, at, shipped, { shipmentId: shipment!.id, carrier, trackingNumber })]);
        await cancelTimer(tx, { kind: 'CLOSE_UNSHIPPED_RETURN', subjectId: afterSale.id });
        return { afterSale: shipped, order: touched };
      });
    },

    /**
     * The merchant received the goods back: the units count as returned, the stock they owe is
     * recorded (given back after the commit, see checkout.ts), and the approved amount is refunded.
     */
    receiveReturn: (merchantId: string, input: { caseId: string; idempotencyKey: string }) => {
      const key = v.idempotencyKey(input.idempotencyKey);
      return db.transaction(async (tx) => {
        const { afterSale, order, lines } = await lockCase(tx, merchantId, input.caseId);
        if (afterSale.receiveKey === key) return { afterSale, order };
        requireCaseStatus(afterSale, ['RETURN_SHIPPED'], 'receive the return');
        const at = now();
        const orderLinesNow = await lockLines(tx, order.id, lines.map((l) => l.orderLineId));
        const byId = new Map(orderLinesNow.map((l) => [l.id, l]));
        for (const line of lines) {
          if (returnableOfLine(byId.get(line.orderLineId)!) < line.quantity) throw conflict('More units would come back than were shipped', { lineId: line.orderLineId });
          await tx.update(orderLines).set({ returnedQuantity: sql`${orderLines.returnedQuantity} + ${line.quantity}` }).where(eq(orderLines.id, line.orderLineId));
        }
        await tx.insert(pendingStockReturns).values({ caseId: afterSale.id, merchantId, lines: lines.map((l) => ({ skuId: byId.get(l.orderLineId)!.skuId, quantity: l.quantity })), createdAt: at });
        await tx
          .update(shipments)
          .set({ status: 'DELIVERED', deliveredAt: sql`coalesce(${shipments.deliveredAt}, ${at.toISOString()}::timestamptz)`, updatedAt: at })
          .where(and(eq(shipments.caseId, afterSale.id), eq(shipments.kind, 'RETURN')));
        const received = await updateCase(tx, afterSale.id, { receiveKey: key, updatedAt: at });
        const receivedEvent = caseEvent(LIFECYCLE_EVENTS.RETURN_RECEIVED, order, order.status, at, received, {
          lines: lines.map((l) => ({ lineId: l.orderLineId, lineNo: byId.get(l.orderLineId)!.lineNo, skuId: byId.get(l.orderLineId)!.skuId, quantity: l.quantity })),
        });
        return refundAndClose(tx, order, received, lines, afterSale.approvedAmount ?? afterSale.requestedAmount, at, [receivedEvent]);
      });
    },

    /** Timer APPROVE_AFTER_SALE: an unanswered case is approved in full, as the merchant would. */
    async approveUnanswered(tx: Executor, timer: { subjectId: string; merchantId: string }) {
      const [current] = await tx.select({ status: afterSaleCases.status }).from(afterSaleCases).where(and(eq(afterSaleCases.merchantId, timer.merchantId), eq(afterSaleCases.id, timer.subjectId)));
      if (current?.status !== 'OPEN') return; // answered meanwhile
      await approveIn(tx, timer.merchantId, { caseId: timer.subjectId, idempotencyKey: null }, 'TIMER');
    },

    /** Timer CLOSE_UNSHIPPED_RETURN: a return the buyer did not ship in time closes the case. */
    async closeUnshippedReturn(tx: Executor, timer: { subjectId: string; merchantId: string }) {
      const [current] = await tx.select({ status: afterSaleCases.status }).from(afterSaleCases).where(and(eq(afterSaleCases.merchantId, timer.merchantId), eq(afterSaleCases.id, timer.subjectId)));
      if (current?.status !== 'AWAITING_RETURN') return; // shipped meanwhile
      const { afterSale, order } = await lockCase(tx, timer.merchantId, timer.subjectId);
      await closeWithout(tx, afterSale, order, 'CLOSED', now(), { closeReason: 'RETURN_NOT_SHIPPED' });
    },

    async listCases(merchantId: string, args: { filter?: CaseFilter | null; sort: CaseSort; limit: number; after?: string | null }): Promise<AfterSaleCaseRow[]> {
      const spec = sortSpec[args.sort];
      const conditions: (SQL | undefined)[] = [eq(afterSaleCases.merchantId, merchantId)];
      if (args.filter?.status?.length) conditions.push(inArray(afterSaleCases.status, args.filter.status.filter((s) => AFTER_SALE_STATUSES.includes(s))));
      if (args.filter?.updatedSince) conditions.push(gte(afterSaleCases.updatedAt, args.filter.updatedSince));
      if (args.after) {
        const { at, id } = decodeTimeCursor(args.after, args.sort);
        conditions.push(spec.direction === 'desc' ? sql`(${spec.column}, ${afterSaleCases.id}) < (${at}::timestamptz, ${id}::uuid)` : sql`(${spec.column}, ${afterSaleCases.id}) > (${at}::timestamptz, ${id}::uuid)`);
      }
      return db
        .select()
        .from(afterSaleCases)
        .where(and(...conditions))
        .orderBy(...(spec.direction === 'desc' ? [desc(spec.column), desc(afterSaleCases.id)] : [asc(spec.column), asc(afterSaleCases.id)]))
        .limit(args.limit + 1);
    },

    async countCases(merchantId: string, filter?: CaseFilter | null): Promise<number> {
      const conditions: (SQL | undefined)[] = [eq(afterSaleCases.merchantId, merchantId)];
      if (filter?.status?.length) conditions.push(inArray(afterSaleCases.status, filter.status));
      if (filter?.updatedSince) conditions.push(gte(afterSaleCases.updatedAt, filter.updatedSince));
      const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(afterSaleCases).where(and(...conditions));
      return row?.n ?? 0;
    },

    casesByIds: (merchantId: string, ids: readonly string[]): Promise<AfterSaleCaseRow[]> => (wellFormed(ids).length ? byIds.cases.execute({ merchantId, ids: wellFormed(ids) }) : Promise.resolve([])),
    casesByPairs: (pairs: MerchantPairs): Promise<AfterSaleCaseRow[]> => byPairs.cases.execute(pairs),
    casesOfOrders: (merchantId: string, ids: readonly string[]): Promise<AfterSaleCaseRow[]> => (wellFormed(ids).length ? byIds.ofOrders.execute({ merchantId, ids: wellFormed(ids) }) : Promise.resolve([])),
    casesOfOrdersByPairs: (pairs: MerchantPairs): Promise<AfterSaleCaseRow[]> => byPairs.ofOrders.execute(pairs),
    linesOfCases: (merchantId: string, ids: readonly string[]): Promise<AfterSaleCaseLineRow[]> => (wellFormed(ids).length ? byIds.lines.execute({ merchantId, ids: wellFormed(ids) }) : Promise.resolve([])),
    linesOfCasesByPairs: (pairs: MerchantPairs): Promise<AfterSaleCaseLineRow[]> => byPairs.lines.execute(pairs),
    returnsOfCases: (merchantId: string, ids: readonly string[]) => (wellFormed(ids).length ? byIds.returns.execute({ merchantId, ids: wellFormed(ids) }) : Promise.resolve([])),
    returnsOfCasesByPairs: (pairs: MerchantPairs) => byPairs.returns.execute(pairs),
  };
}

export type AfterSales = ReturnType<typeof createAfterSales>;
