/**
 * Queries and changes of the order subgraph. Every function takes the merchant the caller acts for
 * and filters by it. Status changes follow one transition table; an invalid change is refused
 * inside the transaction that would have made it, so nothing is half-written.
 */
import crypto from 'node:crypto';
import { and, asc, count, eq, getTableColumns, gt, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { merchantPairsIn, uuidIn, type Db } from '../../core/db.js';
import type { MerchantPairs } from '../../core/shared-lookups.js';
import { badInput, conflict, notFound } from '../../core/errors.js';
import { recordEvents } from '../../messages/outbox.js';
import { decodeTimeCursor, timeCursor, timeKeyset, type TimeSort } from '../../core/pagination.js';
import * as v from '../../core/validate.js';
import { orderEvent } from './events.js';
import { NO_CHILDREN, childColumns, childrenKey, splitChildren, type ChildrenWanted, type OrderChildren } from './order-children.js';
import {
  afterSaleCases,
  FIRST_ORDER_NUMBER,
  OPEN_AFTER_SALE_STATUSES,
  merchantOrderNumbers,
  orderLines,
  orderStatusHistory,
  orders,
  outboxEvents,
  pendingStockReleases,
  pendingStockReturns,
  stockReservationIntents,
  type Address,
  type OrderLineRow,
  type OrderRow,
  type OrderStatus,
  type OrderStatusChangeRow,
} from './tables.js';

export type OrderSort = 'CREATED_AT_DESC' | 'CREATED_AT_ASC' | 'UPDATED_AT_ASC';

export interface OrderFilter {
  status?: OrderStatus[] | null;
  createdFrom?: Date | null;
  createdTo?: Date | null;
  updatedSince?: Date | null;
}

/** How long a claim on a stock reservation intent lasts: longer than giving stock back can take. */
const INTENT_CLAIM_LIFETIME = sql`interval '2 minutes'`;

/** Which status an order may move to from each status. */
export const ORDER_TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  PENDING_PAYMENT: ['PAID', 'CANCELLED'],
  // REFUNDED: after-sales refunded everything paid (after-sales.ts); a partial refund keeps the status.
  PAID: ['SHIPPED', 'CANCELLED', 'REFUNDING', 'REFUNDED'],
  SHIPPED: ['DELIVERED', 'REFUNDING', 'REFUNDED'],
  DELIVERED: ['COMPLETED', 'REFUNDING', 'REFUNDED'],
  COMPLETED: [],
  CANCELLED: [],
  REFUNDING: ['REFUNDED'],
  REFUNDED: [],
};

export interface NewOrderLine {
  productId: string;
  skuId: string;
  productTitle: string;
  skuCode: string;
  quantity: number;
  unitPrice: { amount: number; currency: string };
}

/**
 * An order's lines priced, in one currency: each line's row, the order's total, and what its
 * `order.created` event says of them (an ERP can book the order from the event alone, and the
 * message record keeps what was ordered as it was at the time). insertOrder and the demo seed
 * write orders the same way through it.
 */
export function priceOrderLines(orderId: string, merchantId: string, lines: readonly NewOrderLine[], currency: string) {
  const lineTotals = lines.map((l) => l.unitPrice.amount * l.quantity);
  const total = lineTotals.reduce((a, b) => a + b, 0);
  return {
    total,
    rows: lines.map((line, i) => ({
      id: crypto.randomUUID(),
      orderId,
      merchantId,
      lineNo: i + 1,
      productId: line.productId,
      skuId: line.skuId,
      productTitle: line.productTitle,
      skuCode: line.skuCode,
      quantity: line.quantity,
      unitPriceAmount: line.unitPrice.amount,
      totalAmount: lineTotals[i]!,
      currency,
    })),
    createdEvent: {
      total: { amount: total, currency },
      lines: lines.map((line, i) => ({ lineNo: i + 1, skuId: line.skuId, skuCode: line.skuCode, productId: line.productId, quantity: line.quantity, unitPrice: { amount: line.unitPrice.amount, currency }, total: { amount: lineTotals[i]!, currency } })),
    },
  };
}

export interface NewOrder {
  id?: string;
  buyerId?: string | null;
  lines: NewOrderLine[];
  shippingAddress: Address;
  idempotencyKey?: string | null;
  stockReservationKey?: string | null;
  createdAt?: Date;
}

const sortSpec: Record<OrderSort, TimeSort<OrderRow>> = {
  CREATED_AT_DESC: { column: orders.createdAt, direction: 'desc', valueOf: (row) => row.createdAt },
  CREATED_AT_ASC: { column: orders.createdAt, direction: 'asc', valueOf: (row) => row.createdAt },
  UPDATED_AT_ASC: { column: orders.updatedAt, direction: 'asc', valueOf: (row) => row.updatedAt },
};

export function orderCursor(sort: OrderSort, row: OrderRow): string {
  return timeCursor(sortSpec[sort], sort, row);
}

/**
 * The order list and its count as prepared statements, one per shape (sort, which filters are set,
 * whether after a cursor): at most 3 × 32 of each, each built once; the values go as parameters.
 */
interface ListShape {
  key: string;
  has: { status: boolean; createdFrom: boolean; createdTo: boolean; updatedSince: boolean; after: boolean };
}

function listShape(filter: OrderFilter | null | undefined, sort: OrderSort, after: boolean): ListShape {
  const has = { status: !!filter?.status?.length, createdFrom: !!filter?.createdFrom, createdTo: !!filter?.createdTo, updatedSince: !!filter?.updatedSince, after };
  return { key: `${sort}_${Object.values(has).map(Number).join('')}`.toLowerCase(), has };
}

function listConditions(has: ListShape['has'], sort: OrderSort): SQL[] {
  const conditions: SQL[] = [eq(orders.merchantId, sql.placeholder('merchantId'))];
  if (has.status) conditions.push(sql`${orders.status} = any(${sql.placeholder('status')}::text[])`);
  if (has.createdFrom) conditions.push(gte(orders.createdAt, sql.placeholder('createdFrom')));
  if (has.createdTo) conditions.push(lt(orders.createdAt, sql.placeholder('createdTo')));
  if (has.updatedSince) conditions.push(gte(orders.updatedAt, sql.placeholder('updatedSince')));
  if (has.after) {
    const { column, direction } = sortSpec[sort];
    const key = sql`(${sql.placeholder('afterAt')}::timestamptz, ${sql.placeholder('afterId')}::uuid)`;
    conditions.push(direction === 'desc' ? sql`(${column}, ${orders.id}) < ${key}` : sql`(${column}, ${orders.id}) > ${key}`);
  }
  return conditions;
}

/** The parameters of a list or count statement (a statement ignores those its shape does not use). */
function listValues(merchantId: string, filter: OrderFilter | null | undefined, after: { at: string; id: string } | null) {
  return {
    merchantId,
    status: filter?.status,
    createdFrom: filter?.createdFrom,
    createdTo: filter?.createdTo,
    updatedSince: filter?.updatedSince,
    afterAt: after?.at,
    afterId: after?.id,
  };
}

export function validateAddress(input: Partial<Address> & { name: string; line1: string; city: string; country: string }): Address {
  const country = input.country.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(country)) throw badInput('shippingAddress.country must be an ISO-3166 alpha-2 code such as US', 'shippingAddress.country');
  return {
    name: v.text(input.name, 'shippingAddress.name', { max: 200 }),
    phone: v.optionalText(input.phone, 'shippingAddress.phone', 40),
    line1: v.text(input.line1, 'shippingAddress.line1', { max: 200 }),
    line2: v.optionalText(input.line2, 'shippingAddress.line2', 200),
    city: v.text(input.city, 'shippingAddress.city', { max: 100 }),
    region: v.optionalText(input.region, 'shippingAddress.region', 100),
    postalCode: v.optionalText(input.postalCode, 'shippingAddress.postalCode', 20),
    country,
  };
}

export function createOrderStore(db: Db) {
  const byIds = {
    orders: db.select().from(orders).where(and(eq(orders.merchantId, sql.placeholder('merchantId')), uuidIn(orders.id, 'ids'))).prepare('order_orders_by_ids'),
    lines: db
      .select()
      .from(orderLines)
      .where(and(eq(orderLines.merchantId, sql.placeholder('merchantId')), uuidIn(orderLines.orderId, 'ids')))
      .orderBy(asc(orderLines.orderId), asc(orderLines.lineNo))
      .prepare('order_lines_by_order_ids'),
    history: db
      .select()
      .from(orderStatusHistory)
      .where(and(eq(orderStatusHistory.merchantId, sql.placeholder('merchantId')), uuidIn(orderStatusHistory.orderId, 'ids')))
      .orderBy(asc(orderStatusHistory.orderId), asc(orderStatusHistory.id))
      .prepare('order_history_by_order_ids'),
  };
  // The same lookups for (merchant, id) pairs of several merchants: the operations of a context batch (core/shared-lookups.ts).
  const byPairs = {
    orders: db.select().from(orders).where(merchantPairsIn(orders.merchantId, orders.id)).prepare('order_orders_by_pairs'),
    lines: db.select().from(orderLines).where(merchantPairsIn(orderLines.merchantId, orderLines.orderId)).orderBy(asc(orderLines.orderId), asc(orderLines.lineNo)).prepare('order_lines_by_pairs'),
    history: db
      .select()
      .from(orderStatusHistory)
      .where(merchantPairsIn(orderStatusHistory.merchantId, orderStatusHistory.orderId))
      .orderBy(asc(orderStatusHistory.orderId), asc(orderStatusHistory.id))
      .prepare('order_history_by_pairs'),
  };
  const prepareList = (shape: ListShape, sort: OrderSort, wanted: ChildrenWanted) =>
    db
      .select({ ...getTableColumns(orders), ...childColumns(wanted) })
      .from(orders)
      .where(and(...listConditions(shape.has, sort)))
      .orderBy(...timeKeyset(sortSpec[sort], orders.id, sort, null).orderBy)
      .limit(sql.placeholder('limit'))
      .prepare(`order_list_${shape.key}${childrenKey(wanted)}`);
  const prepareCount = (shape: ListShape, sort: OrderSort) =>
    db
      .select({ n: count() })
      .from(orders)
      .where(and(...listConditions(shape.has, sort)))
      .prepare(`order_count_${shape.key}`);
  const lists = new Map<string, ReturnType<typeof prepareList>>();
  const counts = new Map<string, ReturnType<typeof prepareCount>>();

  /** Claimed intents settled (their stock given back, or held by their committed order): gone. */
  async function settleReservationIntents(merchantId: string, reservationKeys: readonly string[]) {
    if (!reservationKeys.length) return;
    await db
      .delete(stockReservationIntents)
      .where(and(eq(stockReservationIntents.merchantId, merchantId), inArray(stockReservationIntents.reservationKey, [...reservationKeys])));
  }

  return {
    async ordersByIds(merchantId: string, ids: readonly string[]): Promise<OrderRow[]> {
      const wellFormed = ids.filter(v.isWellFormedId);
      if (!wellFormed.length) return [];
      return byIds.orders.execute({ merchantId, ids: wellFormed });
    },

    async linesByOrderIds(merchantId: string, orderIds: readonly string[]): Promise<OrderLineRow[]> {
      const wellFormed = orderIds.filter(v.isWellFormedId);
      if (!wellFormed.length) return [];
      return byIds.lines.execute({ merchantId, ids: wellFormed });
    },

    async historyByOrderIds(merchantId: string, orderIds: readonly string[]): Promise<OrderStatusChangeRow[]> {
      const wellFormed = orderIds.filter(v.isWellFormedId);
      if (!wellFormed.length) return [];
      return byIds.history.execute({ merchantId, ids: wellFormed });
    },

    /** Orders by (merchant, id) pairs of well-formed ids (see core/shared-lookups.ts). */
    ordersByPairs: (pairs: MerchantPairs): Promise<OrderRow[]> => byPairs.orders.execute(pairs),
    /** Lines of orders by (merchant, order id) pairs. */
    linesByPairs: (pairs: MerchantPairs): Promise<OrderLineRow[]> => byPairs.lines.execute(pairs),
    /** Status history of orders by (merchant, order id) pairs. */
    historyByPairs: (pairs: MerchantPairs): Promise<OrderStatusChangeRow[]> => byPairs.history.execute(pairs),

    /**
     * A page of the merchant's orders; with `children`, the children it wants come in the same
     * statement and are handed to `found` order by order (see order-children.ts).
     */
    async listOrders(
      merchantId: string,
      args: { filter?: OrderFilter | null; sort: OrderSort; limit: number; after?: string | null },
      children?: { wanted: ChildrenWanted; found(order: OrderRow, children: OrderChildren): void },
    ): Promise<OrderRow[]> {
      const after = args.after ? decodeTimeCursor(args.after, args.sort) : null;
      const shape = listShape(args.filter, args.sort, !!after);
      const wanted = children?.wanted ?? NO_CHILDREN;
      const key = `${shape.key}${childrenKey(wanted)}`;
      let prepared = lists.get(key);
      if (!prepared) lists.set(key, (prepared = prepareList(shape, args.sort, wanted)));
      const rows = await prepared.execute({ ...listValues(merchantId, args.filter, after), limit: args.limit + 1 });
      if (!children) return rows;
      return rows.map((row) => {
        const split = splitChildren(row);
        children.found(split.order, split.children);
        return split.order;
      });
    },

    async countOrders(merchantId: string, filter?: OrderFilter | null): Promise<number> {
      // The count does not depend on the sort: one statement per filter shape.
      const shape = listShape(filter, 'CREATED_AT_DESC', false);
      let prepared = counts.get(shape.key);
      if (!prepared) counts.set(shape.key, (prepared = prepareCount(shape, 'CREATED_AT_DESC')));
      const [row] = await prepared.execute(listValues(merchantId, filter, null));
      return row?.n ?? 0;
    },

    async findByIdempotencyKey(merchantId: string, key: string): Promise<OrderRow | undefined> {
      const [row] = await db
        .select()
        .from(orders)
        .where(and(eq(orders.merchantId, merchantId), eq(orders.idempotencyKey, key)));
      return row;
    },

    /**
     * Inserts an order in PENDING_PAYMENT with its lines, first history entry and `order.created`
     * event, in one transaction. A concurrent insert with the same idempotency key fails with a
     * unique violation the caller turns into a replay.
     */
    async insertOrder(merchantId: string, input: NewOrder): Promise<OrderRow> {
      const currencies = new Set(input.lines.map((l) => l.unitPrice.currency));
      if (currencies.size !== 1) throw badInput('All lines of an order must be in one currency', 'lines');
      const currency = input.lines[0]!.unitPrice.currency;
      const id = input.id ?? crypto.randomUUID();
      const priced = priceOrderLines(id, merchantId, input.lines, currency);
      const total = priced.total;
      if (!Number.isSafeInteger(total)) throw badInput('The order total is too large', 'lines');
      const now = input.createdAt ?? new Date();
      return db.transaction(async (tx) => {
        // The merchant's next number; its row stays locked until this transaction ends, so numbers
        // have no gaps (a rolled-back order gives its number back) and no duplicates.
        const [counter] = await tx
          .insert(merchantOrderNumbers)
          .values({ merchantId, lastNumber: FIRST_ORDER_NUMBER })
          .onConflictDoUpdate({ target: merchantOrderNumbers.merchantId, set: { lastNumber: sql`${merchantOrderNumbers.lastNumber} + 1` } })
          .returning({ next: merchantOrderNumbers.lastNumber });
        const next = counter!.next;
        const [order] = await tx
          .insert(orders)
          .values({
            id,
            merchantId,
            number: `SO${next}`,
            buyerId: input.buyerId ?? null,
            status: 'PENDING_PAYMENT',
            currency,
            totalAmount: total,
            shippingAddress: input.shippingAddress,
            idempotencyKey: input.idempotencyKey ?? null,
            stockReservationKey: input.stockReservationKey ?? null,
            createdAt: now,
            updatedAt: now,
          })
          .returning();
        await tx.insert(orderLines).values(priced.rows);
        await tx.insert(orderStatusHistory).values({ orderId: id, merchantId, fromStatus: null, toStatus: 'PENDING_PAYMENT', occurredAt: now });
        await recordEvents(tx, outboxEvents, [orderEvent(order!, null, now, priced.createdEvent)]);
        // The order now holds the stock reserved for it.
        if (input.stockReservationKey) await tx.delete(stockReservationIntents).where(eq(stockReservationIntents.reservationKey, input.stockReservationKey));
        return order!;
      });
    },

    /**
     * Moves an order to `to` if the transition table allows it from its current status, with its
     * history entry and event, in one transaction. Cancelling an order that holds stock also records
     * the stock release it owes.
     */
    async transition(
      merchantId: string,
      orderId: string,
      to: OrderStatus,
      options: { reason?: string | null; shipment?: { carrier: string; trackingNumber: string }; at?: Date } = {},
    ): Promise<OrderRow> {
      const id = v.id(orderId, 'orderId');
      return db.transaction(async (tx) => {
        const [current] = await tx
          .select()
          .from(orders)
          .where(and(eq(orders.merchantId, merchantId), eq(orders.id, id)))
          .for('update');
        if (!current) throw notFound('Order', orderId);
        if (!ORDER_TRANSITIONS[current.status].includes(to)) {
          throw conflict(`Order ${current.number} is ${current.status} and cannot become ${to}`, {
            currentStatus: current.status,
            allowed: ORDER_TRANSITIONS[current.status],
          });
        }
        if (to === 'CANCELLED') {
          // Goods on their way, or a buyer's after-sales case waiting, cannot be cancelled away.
          const [shipped] = await tx.select({ id: orderLines.id }).from(orderLines).where(and(eq(orderLines.orderId, id), gt(orderLines.shippedQuantity, 0))).limit(1);
          if (shipped) throw conflict(`Order ${current.number} has shipped lines and cannot be cancelled`, { currentStatus: current.status, allowed: [] });
          // Refunded in part already (an after-sales case settled): the rest is settled the same way,
          // and the stock of lines refunded in full is already on its way back (after-sales.ts).
          if (current.refundedAmount > 0) {
            throw conflict(`Order ${current.number} has refunds and cannot be cancelled: open an after-sales case for the rest`, { currentStatus: current.status, allowed: [] });
          }
          const [open] = await tx
            .select({ id: afterSaleCases.id })
            .from(afterSaleCases)
            .where(and(eq(afterSaleCases.orderId, id), inArray(afterSaleCases.status, [...OPEN_AFTER_SALE_STATUSES])))
            .limit(1);
          if (open) throw conflict(`Order ${current.number} has an open after-sales case and cannot be cancelled`, { currentStatus: current.status, caseId: open.id });
        }
        const now = options.at ?? new Date();
        const [updated] = await tx
          .update(orders)
          .set({
            status: to,
            updatedAt: now,
            ...(to === 'PAID' ? { paidAmount: current.totalAmount } : {}),
            ...(options.shipment ? { carrier: options.shipment.carrier, trackingNumber: options.shipment.trackingNumber, shippedAt: now } : {}),
          })
          .where(eq(orders.id, id))
          .returning();
        await tx.insert(orderStatusHistory).values({ orderId: id, merchantId, fromStatus: current.status, toStatus: to, reason: options.reason ?? null, occurredAt: now });
        if (to === 'CANCELLED' && current.stockReservationKey) {
          await tx.insert(pendingStockReleases).values({ orderId: id, merchantId, reservationKey: current.stockReservationKey, createdAt: now });
        }
        await recordEvents(tx, outboxEvents, [
          orderEvent(updated!, current.status, now, {
            ...(options.reason ? { reason: options.reason } : {}),
            ...(options.shipment ? { shipment: options.shipment } : {}),
          }),
        ]);
        return updated!;
      });
    },

    /**
     * Records that stock is about to be reserved for an order not committed yet (again, for a
     * retry: its age starts over). False while an earlier attempt's abandoned reservation under the
     * same key is being given back: the caller must not reserve until that is done.
     */
    async recordReservationIntent(merchantId: string, reservationKey: string): Promise<Date | null> {
      const rows = await db
        .insert(stockReservationIntents)
        .values({ reservationKey, merchantId })
        .onConflictDoUpdate({
          target: stockReservationIntents.reservationKey,
          set: { createdAt: sql`now()`, claimedAt: null },
          // A claim older than a release can take is dead (its process stopped): it no longer blocks.
          setWhere: sql`${stockReservationIntents.merchantId} = ${merchantId} and (${stockReservationIntents.claimedAt} is null or ${stockReservationIntents.claimedAt} < now() - ${INTENT_CLAIM_LIFETIME})`,
        })
        .returning({ createdAt: stockReservationIntents.createdAt });
      return rows[0]?.createdAt ?? null;
    },

    /**
     * The intent one attempt recorded (`createdAt` as recordReservationIntent answered), once its
     * stock is given back: gone, unless another attempt with the same key recorded it again since.
     */
    async dropReservationIntent(merchantId: string, reservationKey: string, createdAt: Date) {
      await db
        .delete(stockReservationIntents)
        .where(and(eq(stockReservationIntents.merchantId, merchantId), eq(stockReservationIntents.reservationKey, reservationKey), eq(stockReservationIntents.createdAt, createdAt), sql`${stockReservationIntents.claimedAt} is null`));
    },

    /**
     * Claims the merchant's intents older than `olderThanSeconds` (no request is still placing their
     * order) to give their stock back: each claim is atomic, so one drain at a time handles an intent,
     * and a retry of that order (recordReservationIntent) waits until it is settled. An intent whose
     * order did commit is just dropped.
     */
    async claimAbandonedReservations(merchantId: string, olderThanSeconds: number): Promise<string[]> {
      const claimed = (await db.execute(sql`
        update ${stockReservationIntents} set claimed_at = now()
        where reservation_key in (
          select reservation_key from ${stockReservationIntents}
          where merchant_id = ${merchantId} and created_at < now() - make_interval(secs => ${olderThanSeconds})
            and (claimed_at is null or claimed_at < now() - ${INTENT_CLAIM_LIFETIME})
          order by created_at limit 50)
        returning reservation_key`)) as unknown as { rows: { reservation_key: string }[] };
      const keys = claimed.rows.map((r) => r.reservation_key);
      if (!keys.length) return [];
      const held = await db
        .select({ key: orders.stockReservationKey })
        .from(orders)
        .where(and(eq(orders.merchantId, merchantId), inArray(orders.stockReservationKey, keys)));
      const heldKeys = held.map((h) => h.key).filter((key): key is string => key !== null);
      await settleReservationIntents(merchantId, heldKeys);
      return keys.filter((key) => !heldKeys.includes(key));
    },

    settleReservationIntents,

    /** A claimed intent whose stock could not be given back: unclaimed, for the next drain. */
    async reservationReleaseFailed(merchantId: string, reservationKey: string, error: string) {
      await db
        .update(stockReservationIntents)
        .set({ claimedAt: null, attempts: sql`${stockReservationIntents.attempts} + 1`, lastError: error.slice(0, 500) })
        .where(and(eq(stockReservationIntents.merchantId, merchantId), eq(stockReservationIntents.reservationKey, reservationKey)));
    },

    async pendingStockReleases(merchantId: string) {
      return db.select().from(pendingStockReleases).where(eq(pendingStockReleases.merchantId, merchantId)).orderBy(asc(pendingStockReleases.createdAt)).limit(50);
    },

    async stockReleaseDone(merchantId: string, orderId: string) {
      await db.delete(pendingStockReleases).where(and(eq(pendingStockReleases.merchantId, merchantId), eq(pendingStockReleases.orderId, orderId)));
    },

    /** Returned stock the product service has not confirmed yet (after-sales.ts receiveReturn). */
    async pendingStockReturns(merchantId: string) {
      return db.select().from(pendingStockReturns).where(eq(pendingStockReturns.merchantId, merchantId)).orderBy(asc(pendingStockReturns.createdAt)).limit(50);
    },

    async stockReturnDone(merchantId: string, caseId: string) {
      await db.delete(pendingStockReturns).where(and(eq(pendingStockReturns.merchantId, merchantId), eq(pendingStockReturns.caseId, caseId)));
    },

    async stockReturnFailed(merchantId: string, caseId: string, error: string) {
      await db
        .update(pendingStockReturns)
        .set({ attempts: sql`${pendingStockReturns.attempts} + 1`, lastError: error.slice(0, 500) })
        .where(and(eq(pendingStockReturns.merchantId, merchantId), eq(pendingStockReturns.caseId, caseId)));
    },

    async stockReleaseFailed(merchantId: string, orderId: string, error: string) {
      await db
        .update(pendingStockReleases)
        .set({ attempts: sql`${pendingStockReleases.attempts} + 1`, lastError: error.slice(0, 500) })
        .where(and(eq(pendingStockReleases.merchantId, merchantId), eq(pendingStockReleases.orderId, orderId)));
    },
  };
}

export type OrderStore = ReturnType<typeof createOrderStore>;
