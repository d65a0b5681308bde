/**
 * Live events travel in their NOTIFY (core/outbox.ts): a subscription that is caught up pushes them
 * without reading the outbox again. Events that do not fit in a NOTIFY (one too large, more than a
 * NOTIFY lists in one transaction) are read instead. Either way each event arrives once, in the
 * order of the outbox, with the same fields as when it is read (a replay of the same events).
 */
import { sql } from 'drizzle-orm';
import type { DomainEvent } from '../messages/events.js';
import { recordEvents } from '../messages/outbox.js';
import { outboxEvents } from '../subgraphs/order/tables.js';
import { createMerchant, createProduct, placeOrder } from './helpers/factories.js';
import { ORDER_EVENTS, connectWs, paidEvent, subscribeWs, type Received } from './helpers/messages.js';
import { startTestPlatform, type TestPlatform } from './helpers/platform.js';

let t: TestPlatform;
beforeAll(async () => {
  // No re-push within a test: every message counted here is a first push.
  t = await startTestPlatform({ extraEnv: { MESSAGE_ACK_TIMEOUT_MS: '60000' } });
});
afterAll(async () => {
  await t?.stop();
});

const quiet = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stats = () => t.platform.gateway.channel!.stats;
const PAY = 'mutation Pay($id: ID!) { payOrder(input: { orderId: $id }) { order { id status } } }';

/** The merchant's published order events, in outbox order. */
async function outboxIds(merchantId: string, type?: string): Promise<string[]> {
  const result = await t.platform.database.db.execute(
    sql`select id from "order".outbox_events where merchant_id = ${merchantId} and (${type ?? null}::text is null or type = ${type ?? null}) order by position`,
  );
  return ((result as { rows?: { id: string }[] }).rows ?? (result as unknown as { id: string }[])).map((r) => r.id);
}

async function shop() {
  const merchant = await createMerchant(t);
  const product = await createProduct(t, merchant.token, [{ stock: 1000 }]);
  const order = async () => {
    const placed = await placeOrder(t, merchant.token, [{ skuId: product.skus[0]!.id, quantity: 1 }]);
    if (placed.errors) throw new Error(JSON.stringify(placed.errors));
    return placed.data!.placeOrder.order;
  };
  return { ...merchant, order };
}

const eventsOf = (received: Received[]) => received.map((r) => r.data!.orderEvents);

test('a caught-up subscription pushes live events from their NOTIFY, without reading the outbox, in order', async () => {
  const m = await shop();
  await m.order();
  const client = connectWs(t.url, m.token);
  const sub = subscribeWs(client, ORDER_EVENTS);
  await sub.waitFor(1); // the first read: the stream is caught up from here
  await quiet(200);

  const before = stats();
  const numbers: string[] = [];
  for (let i = 0; i < 5; i++) numbers.push((await m.order()).number);
  // Several transactions of one merchant at once: they commit one after another (the outbox's ordering lock).
  await Promise.all(Array.from({ length: 6 }, () => m.order()));
  await sub.waitFor(12);
  await quiet(300);
  const after = stats();

  expect(sub.received).toHaveLength(12);
  expect(after.eventsNotified - before.eventsNotified).toBe(11);
  expect(after.eventsRead - before.eventsRead).toBe(0);
  expect(after.outboxReads - before.outboxReads).toBe(0);
  const live = eventsOf(sub.received);
  expect(live.map((e) => e.id)).toEqual(await outboxIds(m.id));
  expect(live.slice(1, 6).map((e) => e.order.number)).toEqual(numbers);
  expect(live.every((e) => e.type === 'CREATED' && e.reason === 'LIVE' && e.attempt === 1 && e.order.status === 'PENDING_PAYMENT')).toBe(true);

  // The same events read from the outbox (a second stream replaying from the first cursor) carry the same fields.
  const replayClient = connectWs(t.url, m.token);
  const replay = subscribeWs(replayClient, ORDER_EVENTS, { after: live[0]!.cursor });
  await replay.waitFor(11);
  const read = eventsOf(replay.received);
  const fields = (e: Record<string, any>) => ({ id: e.id, type: e.type, status: e.status, occurredAt: e.occurredAt, order: e.order });
  expect(read.map(fields)).toEqual(live.slice(1).map(fields));
  expect(stats().eventsRead - after.eventsRead).toBe(11);

  sub.stop();
  replay.stop();
  await client.dispose();
  await replayClient.dispose();
});

test('events that do not fit in a NOTIFY are read: one too large, and more than a NOTIFY lists in one transaction', async () => {
  const m = await shop();
  const first = await m.order();
  const client = connectWs(t.url, m.token);
  const sub = subscribeWs(client, ORDER_EVENTS);
  await sub.waitFor(1);
  await quiet(200);
  const event = (note: string) => paidEvent(m.id, first, note);
  const write = (events: DomainEvent[]) => t.platform.database.db.transaction((tx) => recordEvents(tx, outboxEvents, events));

  // One event larger than a NOTIFY may carry (PostgreSQL's limit is 8,000 bytes).
  const beforeLarge = stats();
  await write([event('x'.repeat(9000))]);
  await sub.waitFor(2);
  const afterLarge = stats();
  expect(afterLarge.eventsRead - beforeLarge.eventsRead).toBe(1);
  expect(afterLarge.eventsNotified - beforeLarge.eventsNotified).toBe(0);
  expect(afterLarge.outboxReads).toBeGreaterThan(beforeLarge.outboxReads);

  // Forty small events in one transaction: more than one NOTIFY lists.
  await write(Array.from({ length: 40 }, (_, i) => event(`batch ${i}`)));
  await sub.waitFor(42);
  const afterBatch = stats();
  expect(afterBatch.eventsRead - afterLarge.eventsRead).toBe(40);
  expect(afterBatch.eventsNotified - afterLarge.eventsNotified).toBe(0);

  // Caught up again after those reads: the next event comes from its NOTIFY.
  await m.order();
  await sub.waitFor(43);
  await quiet(300);
  const end = stats();
  expect(end.eventsNotified - afterBatch.eventsNotified).toBe(1);
  expect(end.outboxReads).toBe(afterBatch.outboxReads);

  expect(sub.received).toHaveLength(43);
  const got = eventsOf(sub.received);
  expect(got.map((e) => e.id)).toEqual(await outboxIds(m.id));
  expect(got.slice(1, 42).every((e) => e.type === 'PAID' && e.order.id === first.id)).toBe(true);
  expect(got[42]!.type).toBe('CREATED');
  sub.stop();
  await client.dispose();
});

test('a subscription filtered by type gets only its types from the NOTIFYs that carry others too', async () => {
  const m = await shop();
  const client = connectWs(t.url, m.token);
  const sub = subscribeWs(client, ORDER_EVENTS, { types: ['PAID'] });
  // Nothing to receive yet: wait until the stream has made its first read.
  const start = stats();
  for (let i = 0; i < 50 && stats().outboxReads === start.outboxReads; i++) await quiet(50);
  await quiet(200);

  const before = stats();
  const orders = [await m.order(), await m.order(), await m.order()];
  for (const order of orders.slice(0, 2)) {
    const paid = await t.gql(m.token, PAY, { id: order.id });
    expect(paid.errors).toBeUndefined();
  }
  await sub.waitFor(2);
  await quiet(300);
  const after = stats();

  expect(sub.received).toHaveLength(2);
  expect(eventsOf(sub.received).map((e) => e.id)).toEqual(await outboxIds(m.id, 'order.paid'));
  expect(eventsOf(sub.received).map((e) => e.order.id)).toEqual(orders.slice(0, 2).map((o) => o.id));
  expect(after.eventsNotified - before.eventsNotified).toBe(2);
  expect(after.outboxReads).toBe(before.outboxReads);
  sub.stop();
  await client.dispose();
});
