/**
 * Shipping for real orders, over real HTTP: partial shipments with their lines, tracking updates,
 * delivery (by the merchant's app or a tracking update), completion after the configured time, and
 * every refusal (CONFLICT, nothing changed), idempotency keys, merchant isolation, scopes, events.
 */
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { createLimitsStore } from '../subgraphs/app-management/limits.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { adjustableClock } from './helpers/clock.js';
import { createMerchant, createProduct, placeOrder, stockOf } from './helpers/factories.js';
import { connectWs, subscribeWs } from './helpers/messages.js';
import { ALL_SCOPES, TEST_APP_KEY, startTestPlatform, waitUntil, type GraphQLResponse, type TestPlatform } from './helpers/platform.js';

const DAY = 86_400_000;
const clock = adjustableClock();
let t: TestPlatform;
let shop: { id: string; token: string };
let other: { id: string; token: string };
const SCOPES = [...ALL_SCOPES, 'aftersales:read', 'aftersales:write'];

beforeAll(async () => {
  t = await startTestPlatform({ clock });
  // The test app holds the after-sales scopes too (ALL_SCOPES predates them).
  const apps = createAppManagementStore(t.platform.database.db);
  const pkg = await apps.createPackage({ name: `After-sales ${crypto.randomUUID()}`, description: 'After-sales, for tests', tier: 'FREE', scopes: ['aftersales:read', 'aftersales:write'] });
  await apps.grantPackage('system:tests', { appKey: TEST_APP_KEY, packageId: pkg.id, reason: 'tests' });
  // Many calls in a row: flow control is not what this file tests.
  await createLimitsStore(t.platform.database.db, clock).setAppFlowLimits('system:tests', { appKey: TEST_APP_KEY, bucketSize: 1_000_000, restoreRate: 100_000, reason: 'tests' });
  shop = { id: (await createMerchant(t, 'Lifecycle Shop')).id, token: '' };
  other = { id: (await createMerchant(t, 'Other Shop')).id, token: '' };
  await freshTokens();
});

/** Tokens minted now on the platform's clock (after the clock jumped days ahead, the old ones expired). */
async function freshTokens() {
  shop.token = await t.token({ merchantId: shop.id, scopes: SCOPES });
  other.token = await t.token({ merchantId: other.id, scopes: SCOPES });
}
afterAll(() => t.stop());

async function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  return ((await t.platform.database.db.execute(query)) as unknown as { rows: T[] }).rows;
}

/** The data of a call that must succeed. */
async function ok<T = Record<string, any>>(token: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const result = await t.gql<T>(token, query, variables);
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data!;
}

const SHIPMENT_FIELDS = 'id kind status carrier trackingNumber shippedAt deliveredAt lines { quantity line { id } } tracking { status location description occurredAt }';
const CREATE_SHIPMENT = `mutation($input: CreateShipmentInput!) { createShipment(input: $input) { shipment { ${SHIPMENT_FIELDS} } order { id status } } }`;
const ADD_TRACKING = `mutation($input: AddShipmentTrackingInput!) { addShipmentTracking(input: $input) { shipment { ${SHIPMENT_FIELDS} } order { id status } } }`;
const CONFIRM_DELIVERED = `mutation($input: ConfirmShipmentDeliveredInput!) { confirmShipmentDelivered(input: $input) { shipment { id status deliveredAt } order { id status } } }`;
const ORDER = `query($id: ID!) { order(id: $id) { id status updatedAt shipment { id carrier } shipments { ${SHIPMENT_FIELDS} } lines { id quantity shippedQuantity returnedQuantity } statusHistory { from to } } }`;

/** A PAID order of `merchant` with two lines: 2 units of A, 1 of B. */
async function paidOrder(merchant = shop) {
  const product = await createProduct(t, merchant.token, [{ amount: 1000, stock: 20 }, { amount: 2500, stock: 20 }]);
  const placed = await placeOrder(t, merchant.token, [{ skuId: product.skus[0]!.id, quantity: 2 }, { skuId: product.skus[1]!.id, quantity: 1 }]);
  if (placed.errors) throw new Error(JSON.stringify(placed.errors));
  const order = placed.data!.placeOrder.order;
  await ok(merchant.token, 'mutation($id: ID!) { payOrder(input: { orderId: $id }) { order { status } } }', { id: order.id });
  const read = await ok<{ order: { lines: { id: string; quantity: number }[] } }>(merchant.token, ORDER, { id: order.id });
  const a = read.order.lines.find((l) => l.quantity === 2)!;
  const b = read.order.lines.find((l) => l.quantity === 1)!;
  return { id: order.id, number: order.number, product, lineA: a.id, lineB: b.id };
}

const ship = (token: string, input: Record<string, unknown>) => t.gql(token, CREATE_SHIPMENT, { input: { carrier: 'DHL', trackingNumber: `JD${crypto.randomBytes(4).toString('hex')}`, idempotencyKey: crypto.randomUUID(), ...input } });
const eventsOf = async (orderId: string) =>
  rows<{ type: string; payload: Record<string, any> }>(sql`select type, payload from "order".outbox_events where aggregate_id = ${orderId} order by position`);
const typesOf = async (orderId: string) => (await eventsOf(orderId)).map((e) => e.type);
/** What must not move when a call is refused. */
const snapshot = async (orderId: string) => ({
  order: (await ok(shop.token, ORDER, { id: orderId })).order,
  events: await typesOf(orderId),
});

describe('shipping in several shipments', () => {
  test('each shipment carries its lines; the order is SHIPPED once everything is, with an event per shipment and one for the status', async () => {
    const order = await paidOrder();
    const first = await ship(shop.token, { orderId: order.id, lines: [{ lineId: order.lineA, quantity: 1 }] });
    expect(first.errors).toBeUndefined();
    expect(first.data!.createShipment.order.status).toBe('PAID');
    expect(first.data!.createShipment.shipment).toMatchObject({ kind: 'OUTBOUND', status: 'IN_TRANSIT', carrier: 'DHL', lines: [{ quantity: 1, line: { id: order.lineA } }], tracking: [] });

    const second = await ship(shop.token, { orderId: order.id, carrier: 'UPS' });
    expect(second.data!.createShipment.order.status).toBe('SHIPPED');
    // Without lines: everything not shipped yet.
    expect(second.data!.createShipment.shipment.lines).toEqual(
      expect.arrayContaining([
        { quantity: 1, line: { id: order.lineA } },
        { quantity: 1, line: { id: order.lineB } },
      ]),
    );
    const read = (await ok(shop.token, ORDER, { id: order.id })).order;
    expect(read.shipments.map((s: { id: string }) => s.id)).toEqual([first.data!.createShipment.shipment.id, second.data!.createShipment.shipment.id]);
    // The deprecated single shipment is the first one.
    expect(read.shipment).toEqual({ id: first.data!.createShipment.shipment.id, carrier: 'DHL' });
    expect(read.lines.map((l: { shippedQuantity: number; quantity: number }) => l.shippedQuantity === l.quantity)).toEqual([true, true]);
    expect(read.statusHistory.map((h: { to: string }) => h.to)).toEqual(['PENDING_PAYMENT', 'PAID', 'SHIPPED']);
    const events = await eventsOf(order.id);
    expect(events.map((e) => e.type)).toEqual(['order.created', 'order.paid', 'order.shipment_created', 'order.shipment_created', 'order.shipped']);
    expect(events[2]!.payload).toMatchObject({ shipmentId: first.data!.createShipment.shipment.id, status: 'PAID', lines: [{ lineId: order.lineA, lineNo: expect.any(Number), quantity: 1 }] });
    expect(events[4]!.payload).toMatchObject({ shipmentId: second.data!.createShipment.shipment.id, status: 'SHIPPED', previousStatus: 'PAID' });
  });

  test('a retried createShipment with the same key returns the same shipment; the key for another shipment is a CONFLICT', async () => {
    const order = await paidOrder();
    const key = crypto.randomUUID();
    const input = { orderId: order.id, trackingNumber: 'SAME-1', idempotencyKey: key, lines: [{ lineId: order.lineB, quantity: 1 }] };
    const results = await Promise.all([ship(shop.token, input), ship(shop.token, input), ship(shop.token, input)]);
    for (const r of results) expect(r.errors).toBeUndefined();
    expect(new Set(results.map((r) => r.data!.createShipment.shipment.id)).size).toBe(1);
    expect((await ok(shop.token, ORDER, { id: order.id })).order.shipments).toHaveLength(1);
    const reused = await ship(shop.token, { ...input, trackingNumber: 'OTHER-2' });
    expect(reused.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'idempotencyKey' });
    expect((await typesOf(order.id)).filter((type) => type === 'order.shipment_created')).toHaveLength(1);
  });

  test('shipping more than is left, an unpaid order, or another order\'s line is refused and changes nothing', async () => {
    const order = await paidOrder();
    await ship(shop.token, { orderId: order.id, lines: [{ lineId: order.lineA, quantity: 1 }] });
    const before = await snapshot(order.id);

    const tooMany = await ship(shop.token, { orderId: order.id, lines: [{ lineId: order.lineA, quantity: 2 }] });
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', lineId: order.lineA, unshipped: 1 });
    const foreign = await paidOrder();
    const notItsLine = await ship(shop.token, { orderId: order.id, lines: [{ lineId: foreign.lineA, quantity: 1 }] });
    expect(notItsLine.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'lines[0].lineId' });
    const twice = await ship(shop.token, { orderId: order.id, lines: [{ lineId: order.lineB, quantity: 1 }, { lineId: order.lineB, quantity: 1 }] });
    expect(twice.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    // Goods on their way cannot be cancelled away.
    const cancel = await t.gql(shop.token, 'mutation($id: ID!) { cancelOrder(input: { orderId: $id }) { order { status } } }', { id: order.id });
    expect(cancel.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT' });
    expect(await snapshot(order.id)).toEqual(before);

    const product = await createProduct(t, shop.token, [{ stock: 5 }]);
    const unpaid = (await placeOrder(t, shop.token, [{ skuId: product.skus[0]!.id, quantity: 1 }])).data!.placeOrder.order;
    const early = await ship(shop.token, { orderId: unpaid.id });
    expect(early.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', currentStatus: 'PENDING_PAYMENT', allowed: ['PAID'] });
    expect((await ok(shop.token, ORDER, { id: unpaid.id })).order).toMatchObject({ status: 'PENDING_PAYMENT', shipments: [] });
    expect(await stockOf(t, shop.token, product.skus[0]!.id)).toBe(4);
  });
});

describe('tracking and delivery', () => {
  test('tracking updates are kept in order; the order is DELIVERED when its last shipment is, and completes 7 days later', async () => {
    const order = await paidOrder();
    const one = (await ship(shop.token, { orderId: order.id, lines: [{ lineId: order.lineA, quantity: 2 }] })).data!.createShipment.shipment;
    const two = (await ship(shop.token, { orderId: order.id })).data!.createShipment.shipment;

    const moving = await t.gql(shop.token, ADD_TRACKING, { input: { shipmentId: one.id, status: 'IN_TRANSIT', location: 'Leipzig hub', description: 'Sorted', occurredAt: new Date(clock.now() - 60_000).toISOString() } });
    expect(moving.errors).toBeUndefined();
    expect(moving.data!.addShipmentTracking.shipment.tracking).toEqual([{ status: 'IN_TRANSIT', location: 'Leipzig hub', description: 'Sorted', occurredAt: expect.any(String) }]);
    // A tracking update that says DELIVERED delivers the shipment; one of two is not the order.
    const firstDelivered = await t.gql(shop.token, ADD_TRACKING, { input: { shipmentId: one.id, status: 'DELIVERED', location: 'Front door' } });
    expect(firstDelivered.data!.addShipmentTracking).toMatchObject({ shipment: { status: 'DELIVERED', deliveredAt: expect.any(String) }, order: { status: 'SHIPPED' } });
    // Confirmed by the merchant's app: the last shipment, so the order.
    const confirmed = await t.gql(shop.token, CONFIRM_DELIVERED, { input: { shipmentId: two.id } });
    expect(confirmed.errors).toBeUndefined();
    expect(confirmed.data!.confirmShipmentDelivered).toMatchObject({ shipment: { status: 'DELIVERED' }, order: { status: 'DELIVERED' } });

    const events = await eventsOf(order.id);
    expect(events.map((e) => e.type)).toEqual([
      'order.created',
      'order.paid',
      'order.shipment_created',
      'order.shipment_created',
      'order.shipped',
      'order.shipment_updated',
      'order.shipment_updated',
      'order.shipment_updated',
      'order.delivered',
    ]);
    expect(events[5]!.payload).toMatchObject({ shipmentId: one.id, shipmentStatus: 'IN_TRANSIT', tracking: { status: 'IN_TRANSIT', location: 'Leipzig hub' } });
    expect(events[8]!.payload).toMatchObject({ shipmentId: two.id, status: 'DELIVERED', previousStatus: 'SHIPPED' });

    // A delivered shipment takes no more tracking.
    const late = await t.gql(shop.token, ADD_TRACKING, { input: { shipmentId: two.id, status: 'IN_TRANSIT' } });
    expect(late.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', currentStatus: 'DELIVERED' });

    // Completion waits ORDER_COMPLETE_AFTER_DELIVERY (7 days by default), a durable timer.
    const [timer] = await rows<{ due_at: string }>(sql`select due_at from "order".timers where subject_id = ${order.id} and kind = 'COMPLETE_ORDER' and fired_at is null and cancelled_at is null`);
    const deliveredAt = Date.parse((await ok(shop.token, ORDER, { id: order.id })).order.updatedAt);
    expect(new Date(timer!.due_at).getTime()).toBe(deliveredAt + 7 * DAY);
    await clock.advance(7 * DAY - 60_000);
    await freshTokens();
    expect((await ok(shop.token, ORDER, { id: order.id })).order.status).toBe('DELIVERED');
    await clock.advance(120_000);
    await freshTokens();
    await waitUntil('the order completes', async () => (await ok(shop.token, ORDER, { id: order.id })).order.status === 'COMPLETED');
    expect((await typesOf(order.id)).slice(-1)).toEqual(['order.completed']);
  });

  test('an outbound tracking update in the future is BAD_USER_INPUT; a shipment of nobody is NOT_FOUND', async () => {
    const order = await paidOrder();
    const shipment = (await ship(shop.token, { orderId: order.id })).data!.createShipment.shipment;
    const future = await t.gql(shop.token, ADD_TRACKING, { input: { shipmentId: shipment.id, status: 'IN_TRANSIT', occurredAt: new Date(clock.now() + DAY).toISOString() } });
    expect(future.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'occurredAt' });
    const missing = await t.gql(shop.token, ADD_TRACKING, { input: { shipmentId: crypto.randomUUID(), status: 'IN_TRANSIT' } });
    expect(missing.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('isolation, scopes and events', () => {
  test("another merchant's app sees none of an order's shipments and changes none", async () => {
    const order = await paidOrder();
    const shipment = (await ship(shop.token, { orderId: order.id })).data!.createShipment.shipment;
    const before = await snapshot(order.id);
    const read = await t.gql(other.token, `query($id: ID!) { shipment(id: $id) { id } }`, { id: shipment.id });
    expect(read.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect((await t.gql(other.token, ADD_TRACKING, { input: { shipmentId: shipment.id, status: 'DELIVERED' } })).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect((await t.gql(other.token, CONFIRM_DELIVERED, { input: { shipmentId: shipment.id } })).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect((await ship(other.token, { orderId: order.id })).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect(await snapshot(order.id)).toEqual(before);
  });

  test('shipping needs orders:write and reading shipments orders:read', async () => {
    const order = await paidOrder();
    const readOnly = await t.token({ merchantId: shop.id, scopes: ['orders:read'] });
    const refused = await ship(readOnly, { orderId: order.id });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect((await ok(shop.token, ORDER, { id: order.id })).order.shipments).toEqual([]);
    const shipment = (await ship(shop.token, { orderId: order.id })).data!.createShipment.shipment;
    const noRead = await t.token({ merchantId: shop.id, scopes: ['products:read'] });
    const hidden = await t.gql(noRead, `query($id: ID!) { shipment(id: $id) { id carrier } }`, { id: shipment.id });
    expect(hidden.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });

  test('a subscriber receives the lifecycle events in order and selects the shipment each concerns', async () => {
    const order = await paidOrder();
    const client = connectWs(t.url, shop.token);
    const sub = subscribeWs(client, `subscription($types: [OrderEventType!]) { orderEvents(types: $types) { type status order { id } shipment { id carrier status } } }`, {
      types: ['SHIPMENT_CREATED', 'SHIPPED', 'SHIPMENT_UPDATED', 'DELIVERED'],
    });
    try {
      const shipment = (await ship(shop.token, { orderId: order.id, carrier: 'FedEx' })).data!.createShipment.shipment;
      await ok(shop.token, CONFIRM_DELIVERED, { input: { shipmentId: shipment.id } });
      const mine = async () => (await sub.waitFor(1)) && sub.received.filter((r) => r.data?.orderEvents?.order?.id === order.id);
      await waitUntil('four events of the order', async () => ((await mine()) || []).length >= 4);
      const received = (await mine()) || [];
      expect(received.map((r) => r.data!.orderEvents.type)).toEqual(['SHIPMENT_CREATED', 'SHIPPED', 'SHIPMENT_UPDATED', 'DELIVERED']);
      // Each event resolves the shipment as it is when pushed: by the last one, delivered.
      expect(received[0]!.data!.orderEvents).toMatchObject({ status: 'PAID', shipment: { id: shipment.id, carrier: 'FedEx' } });
      expect(received[3]!.data!.orderEvents).toMatchObject({ status: 'DELIVERED', shipment: { id: shipment.id, status: 'DELIVERED' } });
    } finally {
      sub.stop();
      await client.dispose();
    }
  });
});

export type { GraphQLResponse };
