/**
 * A developer's sandbox orders (app-management asks, as the system, when it provisions or resets an
 * app's sandbox merchant): the merchant's orders are replaced by a generated set in every status,
 * with lines, status history and their events, the same for the same seed, written in bulk in one
 * transaction as the stores would have written them one by one (priceOrderLines, orderEvent).
 */
import crypto from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import type { Db } from '../../core/db.js';
import { badInput, forbidden } from '../../core/errors.js';
import { deleteMerchantRows } from '../../core/merchant-data.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import * as v from '../../core/validate.js';
import type { DomainEvent } from '../../messages/events.js';
import { recordEvents } from '../../messages/outbox.js';
import { orderEvent } from './events.js';
import { ORDER_TRANSITIONS, priceOrderLines } from './store.js';
import { FIRST_ORDER_NUMBER, merchantOrderNumbers, orderLines, orderStatusHistory, orders, outboxEvents, shipmentLines, shipments, type Address, type OrderRow, type OrderStatus } from './tables.js';

const NAMESPACE = '9b2e6d41-0c7f-4a35-8e19-3f6a2c5d7b80';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The statuses each generated order passes through after PENDING_PAYMENT: every status is reached, some orders each. */
const PATHS: OrderStatus[][] = [
  [],
  ['PAID'],
  ['PAID', 'SHIPPED'],
  ['PAID', 'SHIPPED', 'DELIVERED'],
  ['PAID', 'SHIPPED', 'DELIVERED', 'COMPLETED'],
  ['CANCELLED'],
  ['PAID', 'SHIPPED', 'REFUNDING'],
  ['PAID', 'SHIPPED', 'DELIVERED', 'REFUNDING', 'REFUNDED'],
];
const ORDERS_PER_PATH = 3;
const CITIES = [
  { city: 'Seattle', region: 'WA', postalCode: '98101', country: 'US' },
  { city: 'Austin', region: 'TX', postalCode: '73301', country: 'US' },
  { city: 'Denver', region: 'CO', postalCode: '80202', country: 'US' },
];
const CARRIERS = ['UPS', 'DHL', 'FedEx'];

export interface SandboxSku {
  id: string;
  productId: string;
  productTitle: string;
  code: string;
  priceAmount: number;
  currency: string;
}

export interface SandboxOrdersInput {
  merchantId: string;
  seed: string;
  buyerIds: string[];
  skus: SandboxSku[];
}

/** The seed's numbers: a SHA-256 chain, so the same seed gives the same orders. */
function seededNumbers(seed: string) {
  let block = crypto.createHash('sha256').update(seed).digest();
  let offset = 0;
  const next = () => {
    if (offset + 4 > block.length) {
      block = crypto.createHash('sha256').update(block).digest();
      offset = 0;
    }
    const n = block.readUInt32BE(offset) / 2 ** 32;
    offset += 4;
    return n;
  };
  return { int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)), pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]! };
}

export function planSandboxOrders(input: SandboxOrdersInput, now: Date) {
  const merchantId = input.merchantId;
  const rng = seededNumbers(`orders:${input.seed}`);
  const currency = input.skus[0]!.currency;
  const skus = input.skus.filter((s) => s.currency === currency);
  const planned = {
    orders: [] as (typeof orders.$inferInsert)[],
    lines: [] as (typeof orderLines.$inferInsert)[],
    history: [] as (typeof orderStatusHistory.$inferInsert)[],
    shipments: [] as (typeof shipments.$inferInsert)[],
    shipmentLines: [] as (typeof shipmentLines.$inferInsert)[],
    events: [] as DomainEvent[],
  };
  let n = 0;
  for (let round = 0; round < ORDERS_PER_PATH; round++) {
    for (const path of PATHS) {
      const id = uuidv5(`${merchantId}:order:${n}`, NAMESPACE);
      const picked = [...new Map(Array.from({ length: rng.int(1, 3) }, () => rng.pick(skus)).map((s) => [s.id, s])).values()];
      const lines = picked.map((s) => ({ productId: s.productId, skuId: s.id, productTitle: s.productTitle, skuCode: s.code, quantity: rng.int(1, 3), unitPrice: { amount: s.priceAmount, currency } }));
      const priced = priceOrderLines(id, merchantId, lines, currency);
      const buyerId = input.buyerIds.length ? rng.pick(input.buyerIds) : null;
      const shippingAddress: Address = { name: `Sandbox Buyer ${n + 1}`, phone: `+1-555-02${String(n % 100).padStart(2, '0')}`, line1: `${rng.int(1, 999)} Test Street`, line2: null, ...rng.pick(CITIES) };
      // Spread over the last 20 days, oldest first, each status change hours after the one before.
      const createdAt = new Date(now.getTime() - 20 * DAY + Math.floor((n * 19 * DAY) / (PATHS.length * ORDERS_PER_PATH)) + rng.int(0, 12) * HOUR);
      const order = {
        id,
        merchantId,
        number: `SO${FIRST_ORDER_NUMBER + n}`,
        buyerId,
        status: 'PENDING_PAYMENT' as OrderStatus,
        currency,
        totalAmount: priced.total,
        paidAmount: 0,
        refundedAmount: 0,
        shippingAddress,
        carrier: null as string | null,
        trackingNumber: null as string | null,
        shippedAt: null as Date | null,
        createdAt,
        updatedAt: createdAt,
      } satisfies typeof orders.$inferInsert;
      // The event builders read only the columns set above.
      const eventOf = (previous: OrderStatus | null, at: Date, extra?: Record<string, unknown>) => orderEvent(order as OrderRow, previous, at, extra);
      const lineRows: (typeof orderLines.$inferInsert)[] = priced.rows.map((row) => ({ ...row, id: uuidv5(`${id}:line:${row.lineNo}`, NAMESPACE) }));
      planned.lines.push(...lineRows);
      planned.history.push({ orderId: id, merchantId, fromStatus: null, toStatus: 'PENDING_PAYMENT', occurredAt: createdAt });
      planned.events.push(eventOf(null, createdAt, priced.createdEvent));
      let at = createdAt.getTime();
      for (const to of path) {
        const previous = order.status;
        if (!ORDER_TRANSITIONS[previous].includes(to)) throw new Error(`A sandbox order cannot go from ${previous} to ${to}`);
        at = Math.min(at + rng.int(1, 20) * HOUR, now.getTime());
        const shipment = to === 'SHIPPED' ? { carrier: rng.pick(CARRIERS), trackingNumber: `SBX${rng.int(100000000, 999999999)}` } : undefined;
        const reason = to === 'CANCELLED' ? 'Buyer changed their mind' : to === 'REFUNDING' ? 'Item arrived damaged' : undefined;
        order.status = to;
        order.updatedAt = new Date(at);
        // Money and goods as the order service keeps them: paid in full, refunded in full line by
        // line, and one outbound shipment of every line, delivered when the order was.
        if (to === 'PAID') order.paidAmount = order.totalAmount;
        if (to === 'REFUNDED') {
          order.refundedAmount = order.paidAmount;
          for (const line of lineRows) line.refundedAmount = line.totalAmount;
        }
        if (shipment) {
          const shipmentId = uuidv5(`${id}:shipment`, NAMESPACE);
          planned.shipments.push({ id: shipmentId, merchantId, orderId: id, kind: 'OUTBOUND', carrier: shipment.carrier, trackingNumber: shipment.trackingNumber, status: 'IN_TRANSIT', shippedAt: new Date(at), updatedAt: new Date(at) });
          for (const line of lineRows) {
            line.shippedQuantity = line.quantity;
            planned.shipmentLines.push({ shipmentId, orderLineId: line.id, merchantId, quantity: line.quantity });
          }
        }
        if (to === 'DELIVERED') Object.assign(planned.shipments.at(-1)!, { status: 'DELIVERED', deliveredAt: new Date(at), updatedAt: new Date(at) });
        if (shipment) Object.assign(order, { carrier: shipment.carrier, trackingNumber: shipment.trackingNumber, shippedAt: new Date(at) });
        planned.history.push({ orderId: id, merchantId, fromStatus: previous, toStatus: to, reason: reason ?? null, occurredAt: new Date(at) });
        planned.events.push(eventOf(previous, new Date(at), { ...(reason ? { reason } : {}), ...(shipment ? { shipment } : {}) }));
      }
      planned.orders.push(order);
      n++;
    }
  }
  return planned;
}

export function createSandboxOrders(db: Db) {
  return {
    /** Replaces the merchant's orders (and everything of the merchant in the order schema); answers how many were written. */
    async provisionSandboxOrders(input: SandboxOrdersInput, now = new Date()): Promise<number> {
      const merchantId = v.id(input.merchantId, 'merchantId');
      if (!input.skus.length) throw badInput('A sandbox needs SKUs on the shelf for its orders', 'skus');
      const plan = planSandboxOrders({ ...input, merchantId }, now);
      await db.transaction(async (tx) => {
        await deleteMerchantRows(tx, 'order', merchantId);
        await tx.insert(merchantOrderNumbers).values({ merchantId, lastNumber: FIRST_ORDER_NUMBER + plan.orders.length - 1 });
        await tx.insert(orders).values(plan.orders);
        await tx.insert(orderLines).values(plan.lines);
        await tx.insert(orderStatusHistory).values(plan.history);
        if (plan.shipments.length) {
          await tx.insert(shipments).values(plan.shipments);
          await tx.insert(shipmentLines).values(plan.shipmentLines);
        }
        await recordEvents(tx, outboxEvents, plan.events.sort((a, b) => a.occurredAt!.getTime() - b.occurredAt!.getTime()));
      });
      return plan.orders.length;
    },
  };
}

/** The order resolvers with the sandbox's internal mutation added (one line in service.ts). */
export function withSandboxOrders<R extends { Mutation: object }>(resolvers: R, db: Db): R {
  const sandbox = createSandboxOrders(db);
  return {
    ...resolvers,
    Mutation: {
      ...resolvers.Mutation,
      provisionSandboxOrders: (_: unknown, args: { input: SandboxOrdersInput }, ctx: SubgraphContext<unknown>) => {
        if (ctx.caller.kind !== 'system') throw forbidden('Internal');
        return sandbox.provisionSandboxOrders(args.input);
      },
    },
  };
}
