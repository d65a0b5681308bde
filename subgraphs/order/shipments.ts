/**
 * Shipping an order in one or several shipments, each with its lines and quantities, carrier and
 * tracking number; tracking updates on a shipment (of the merchant's, or of a buyer's return); and
 * delivery. The order is SHIPPED once every line is shipped (or refunded in full), and DELIVERED once
 * every one of its shipments is delivered, which starts the wait for completion (order-changes.ts).
 */
import crypto from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Clock } from '../../core/clock.js';
import { isUniqueViolation, merchantPairsIn, uuidIn, type Db, type Executor } from '../../core/db.js';
import { badInput, conflict, notFound } from '../../core/errors.js';
import type { MerchantPairs } from '../../core/shared-lookups.js';
import * as v from '../../core/validate.js';
import { recordEvents } from '../../messages/outbox.js';
import { LIFECYCLE_EVENTS, lifecycleEvent } from './events.js';
import { refundableOfLine } from './money.js';
import { lockOrder, moveOrder, requireOrderStatus, touchOrder, type LifecycleDurations } from './order-changes.js';
import {
  orderLines,
  outboxEvents,
  shipmentLines,
  shipments,
  trackingEvents,
  TRACKING_STATUSES,
  type OrderLineRow,
  type OrderRow,
  type ShipmentLineRow,
  type ShipmentRow,
  type TrackingEventRow,
  type TrackingStatus,
} from './tables.js';

export interface ShipmentInput {
  orderId: string;
  carrier: string;
  trackingNumber: string;
  /** Lines and units to ship; none: everything not shipped yet. */
  lines?: { lineId: string; quantity: number }[] | null;
  idempotencyKey?: string | null;
}

export interface TrackingInput {
  shipmentId: string;
  status: TrackingStatus;
  location?: string | null;
  description?: string | null;
  /** When the carrier saw it; default now. */
  occurredAt?: Date | null;
}

/** Units of a line still to ship: not shipped, and not refunded in full (nothing is owed of it any more). */
const unshippedOf = (line: OrderLineRow) => (refundableOfLine(line) === 0 ? 0 : line.quantity - line.shippedQuantity);

/** Every line shipped, or refunded in full. */
export const everythingShipped = (lines: readonly OrderLineRow[]) => lines.every((line) => unshippedOf(line) === 0);

/** A PAID order with shipments whose every line is now shipped or refunded becomes SHIPPED. */
export async function settleShipping(tx: Executor, order: OrderRow, at: Date, durations: LifecycleDurations, event: Record<string, unknown>): Promise<OrderRow> {
  if (order.status !== 'PAID') return order;
  const lines = await tx.select().from(orderLines).where(eq(orderLines.orderId, order.id));
  if (!lines.some((l) => l.shippedQuantity > 0) || !everythingShipped(lines)) return order;
  return moveOrder(tx, order, 'SHIPPED', at, durations, { event });
}

export function createShipments(db: Db, clock: Clock, durations: LifecycleDurations) {
  const now = () => new Date(clock.now());
  const byIds = {
    shipments: db.select().from(shipments).where(and(eq(shipments.merchantId, sql.placeholder('merchantId')), uuidIn(shipments.id, 'ids'))).prepare('order_shipments_by_ids'),
    ofOrders: db
      .select()
      .from(shipments)
      .where(and(eq(shipments.merchantId, sql.placeholder('merchantId')), uuidIn(shipments.orderId, 'ids'), eq(shipments.kind, 'OUTBOUND')))
      .orderBy(asc(shipments.orderId), asc(shipments.shippedAt), asc(shipments.id))
      .prepare('order_shipments_of_orders'),
    lines: db
      .select()
      .from(shipmentLines)
      .where(and(eq(shipmentLines.merchantId, sql.placeholder('merchantId')), uuidIn(shipmentLines.shipmentId, 'ids')))
      .prepare('order_shipment_lines_by_ids'),
    tracking: db
      .select()
      .from(trackingEvents)
      .where(and(eq(trackingEvents.merchantId, sql.placeholder('merchantId')), uuidIn(trackingEvents.shipmentId, 'ids')))
      .orderBy(asc(trackingEvents.shipmentId), asc(trackingEvents.id))
      .prepare('order_tracking_by_shipment_ids'),
  };
  const byPairs = {
    shipments: db.select().from(shipments).where(merchantPairsIn(shipments.merchantId, shipments.id)).prepare('order_shipments_by_pairs'),
    ofOrders: db
      .select()
      .from(shipments)
      .where(and(merchantPairsIn(shipments.merchantId, shipments.orderId), eq(shipments.kind, 'OUTBOUND')))
      .orderBy(asc(shipments.orderId), asc(shipments.shippedAt), asc(shipments.id))
      .prepare('order_shipments_of_orders_by_pairs'),
    lines: db.select().from(shipmentLines).where(merchantPairsIn(shipmentLines.merchantId, shipmentLines.shipmentId)).prepare('order_shipment_lines_by_pairs'),
    tracking: db.select().from(trackingEvents).where(merchantPairsIn(trackingEvents.merchantId, trackingEvents.shipmentId)).orderBy(asc(trackingEvents.shipmentId), asc(trackingEvents.id)).prepare('order_tracking_by_pairs'),
  };
  const wellFormed = (ids: readonly string[]) => ids.filter(v.isWellFormedId);

  async function lockShipment(tx: Executor, merchantId: string, shipmentId: string): Promise<ShipmentRow> {
    const [shipment] = await tx
      .select()
      .from(shipments)
      .where(and(eq(shipments.merchantId, merchantId), eq(shipments.id, shipmentId)))
      .for('update');
    if (!shipment) throw notFound('Shipment', shipmentId);
    return shipment;
  }

  /** The shipment a key already created, if any; the key for another shipment is a CONFLICT. */
  async function replay(tx: Executor, merchantId: string, key: string, input: { orderId: string; carrier: string; trackingNumber: string }) {
    const [existing] = await tx.select().from(shipments).where(and(eq(shipments.merchantId, merchantId), eq(shipments.idempotencyKey, key)));
    if (!existing) return undefined;
    if (existing.orderId !== input.orderId || existing.carrier !== input.carrier || existing.trackingNumber !== input.trackingNumber) {
      throw conflict('This idempotency key was already used for a different shipment', { field: 'idempotencyKey', shipmentId: existing.id });
    }
    return existing;
  }

  async function createShipment(merchantId: string, input: ShipmentInput): Promise<{ shipment: ShipmentRow; order: OrderRow }> {
    const orderId = v.id(input.orderId, 'orderId');
    const carrier = v.text(input.carrier, 'carrier', { max: 64 });
    const trackingNumber = v.text(input.trackingNumber, 'trackingNumber', { max: 64 });
    const key = input.idempotencyKey == null ? null : v.idempotencyKey(input.idempotencyKey);
    const asked = input.lines?.map((line, i) => ({ lineId: v.id(line.lineId, `lines[${i}].lineId`), quantity: v.intInRange(line.quantity, `lines[${i}].quantity`, 1, 10_000) }));
    if (asked && !asked.length) throw badInput('A shipment has at least one line', 'lines');
    if (asked && new Set(asked.map((l) => l.lineId)).size !== asked.length) throw badInput('Each line appears once in a shipment', 'lines');
    const attempt = () =>
      db.transaction(async (tx) => {
        const order = await lockOrder(tx, merchantId, orderId);
        if (key) {
          const replayed = await replay(tx, merchantId, key, { orderId, carrier, trackingNumber });
          if (replayed) return { shipment: replayed, order };
        }
        requireOrderStatus(order, ['PAID'], 'ship');
        const lines = await tx.select().from(orderLines).where(eq(orderLines.orderId, order.id)).orderBy(asc(orderLines.lineNo)).for('update');
        const byId = new Map(lines.map((l) => [l.id, l]));
        const shipping = asked ?? lines.filter((l) => unshippedOf(l) > 0).map((l) => ({ lineId: l.id, quantity: unshippedOf(l) }));
        for (const [i, line] of shipping.entries()) {
          const row = byId.get(line.lineId);
          if (!row) throw badInput(`Line ${line.lineId} is not a line of order ${order.number}`, `lines[${i}].lineId`);
          if (line.quantity > unshippedOf(row)) {
            throw conflict(`Line ${row.lineNo} of order ${order.number} has ${unshippedOf(row)} units left to ship`, { lineId: row.id, unshipped: unshippedOf(row) });
          }
        }
        if (!shipping.length) throw conflict(`Order ${order.number} has nothing left to ship`, { currentStatus: order.status });
        const at = now();
        const [shipment] = await tx
          .insert(shipments)
          .values({ id: crypto.randomUUID(), merchantId, orderId: order.id, kind: 'OUTBOUND', carrier, trackingNumber, status: 'IN_TRANSIT', idempotencyKey: key, shippedAt: at, updatedAt: at })
          .returning();
        await tx.insert(shipmentLines).values(shipping.map((line) => ({ shipmentId: shipment!.id, orderLineId: line.lineId, merchantId, quantity: line.quantity })));
        for (const line of shipping) {
          await tx.update(orderLines).set({ shippedQuantity: sql`${orderLines.shippedQuantity} + ${line.quantity}` }).where(eq(orderLines.id, line.lineId));
        }
        const touched = await touchOrder(tx, order, at);
        await recordEvents(tx, outboxEvents, [
          lifecycleEvent(LIFECYCLE_EVENTS.SHIPMENT_CREATED, touched, order.status, at, {
            shipmentId: shipment!.id,
            carrier,
            trackingNumber,
            lines: shipping.map((line) => ({ lineId: line.lineId, lineNo: byId.get(line.lineId)!.lineNo, quantity: line.quantity })),
          }),
        ]);
        const settled = await settleShipping(tx, touched, at, durations, { shipmentId: shipment!.id, shipment: { carrier, trackingNumber } });
        return { shipment: shipment!, order: settled };
      });
    try {
      return await attempt();
    } catch (error) {
      // The same key used concurrently: the first one won; answer as a replay would.
      if (key && isUniqueViolation(error, 'shipments_merchant_idempotency_key')) return attempt();
      throw error;
    }
  }

  async function addTracking(merchantId: string, input: TrackingInput): Promise<{ shipment: ShipmentRow; order: OrderRow }> {
    const shipmentId = v.id(input.shipmentId, 'shipmentId');
    if (!TRACKING_STATUSES.includes(input.status)) throw badInput(`status must be one of ${TRACKING_STATUSES.join(', ')}`, 'status');
    const location = v.optionalText(input.location, 'location', 200);
    const description = v.optionalText(input.description, 'description', 500);
    return db.transaction(async (tx) => {
      const [found] = await tx.select({ orderId: shipments.orderId }).from(shipments).where(and(eq(shipments.merchantId, merchantId), eq(shipments.id, shipmentId)));
      if (!found) throw notFound('Shipment', input.shipmentId);
      // The order first, then its shipment: every change of an order locks in that order.
      const order = await lockOrder(tx, merchantId, found.orderId);
      const shipment = await lockShipment(tx, merchantId, shipmentId);
      if (shipment.status === 'DELIVERED') throw conflict('This shipment was delivered: it takes no more tracking updates', { currentStatus: shipment.status });
      const at = now();
      const occurredAt = input.occurredAt ?? at;
      if (occurredAt.getTime() > at.getTime() + 60_000) throw badInput('occurredAt is in the future', 'occurredAt');
      await tx.insert(trackingEvents).values({ shipmentId, merchantId, status: input.status, location, description, occurredAt });
      const delivered = input.status === 'DELIVERED';
      const [updated] = await tx
        .update(shipments)
        .set({ updatedAt: at, ...(delivered ? { status: 'DELIVERED' as const, deliveredAt: occurredAt } : {}) })
        .where(eq(shipments.id, shipmentId))
        .returning();
      let current = await touchOrder(tx, order, at);
      await recordEvents(tx, outboxEvents, [
        lifecycleEvent(LIFECYCLE_EVENTS.SHIPMENT_UPDATED, current, order.status, at, {
          shipmentId,
          ...(shipment.caseId ? { caseId: shipment.caseId } : {}),
          kind: shipment.kind,
          shipmentStatus: updated!.status,
          tracking: { status: input.status, location, description, occurredAt: occurredAt.toISOString() },
        }),
      ]);
      // The last outbound shipment delivered: the order is delivered.
      if (delivered && shipment.kind === 'OUTBOUND' && current.status === 'SHIPPED') {
        const outbound = await tx.select({ status: shipments.status }).from(shipments).where(and(eq(shipments.orderId, order.id), eq(shipments.kind, 'OUTBOUND')));
        if (outbound.every((s) => s.status === 'DELIVERED')) current = await moveOrder(tx, current, 'DELIVERED', at, durations, { event: { shipmentId } });
      }
      return { shipment: updated!, order: current };
    });
  }

  return {
    createShipment,
    addTracking,
    shipmentsByIds: (merchantId: string, ids: readonly string[]): Promise<ShipmentRow[]> => (wellFormed(ids).length ? byIds.shipments.execute({ merchantId, ids: wellFormed(ids) }) : Promise.resolve([])),
    shipmentsByPairs: (pairs: MerchantPairs): Promise<ShipmentRow[]> => byPairs.shipments.execute(pairs),
    shipmentsOfOrders: (merchantId: string, ids: readonly string[]): Promise<ShipmentRow[]> => (wellFormed(ids).length ? byIds.ofOrders.execute({ merchantId, ids: wellFormed(ids) }) : Promise.resolve([])),
    shipmentsOfOrdersByPairs: (pairs: MerchantPairs): Promise<ShipmentRow[]> => byPairs.ofOrders.execute(pairs),
    linesOfShipments: (merchantId: string, ids: readonly string[]): Promise<ShipmentLineRow[]> => (wellFormed(ids).length ? byIds.lines.execute({ merchantId, ids: wellFormed(ids) }) : Promise.resolve([])),
    linesOfShipmentsByPairs: (pairs: MerchantPairs): Promise<ShipmentLineRow[]> => byPairs.lines.execute(pairs),
    trackingOfShipments: (merchantId: string, ids: readonly string[]): Promise<TrackingEventRow[]> => (wellFormed(ids).length ? byIds.tracking.execute({ merchantId, ids: wellFormed(ids) }) : Promise.resolve([])),
    trackingOfShipmentsByPairs: (pairs: MerchantPairs): Promise<TrackingEventRow[]> => byPairs.tracking.execute(pairs),
  };
}

export type Shipments = ReturnType<typeof createShipments>;
