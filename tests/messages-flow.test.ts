/**
 * The message channel's flow control, on a platform of its own (a small in-flight window, no
 * re-push within the test): pushing pauses at MESSAGE_MAX_IN_FLIGHT unacknowledged messages and
 * resumes on acknowledgement; a backlog is caught up in order with its entities resolved in batches
 * (fewer SQL statements than messages), each message with its own entity and its own field errors.
 */
import { createMerchant, createProduct, placeOrder } from './helpers/factories.js';
import { ACKNOWLEDGE, connectWs, subscribeWs } from './helpers/messages.js';
import { ALL_SCOPES, startTestPlatform, type TestPlatform } from './helpers/platform.js';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform({ extraEnv: { MESSAGE_MAX_IN_FLIGHT: '20', MESSAGE_ACK_TIMEOUT_MS: '60000' } });
});
afterAll(async () => {
  await t?.stop();
});

async function shopWithOrders(count: number) {
  const merchant = await createMerchant(t);
  const product = await createProduct(t, merchant.token, [{ stock: 1000 }]);
  const numbers: string[] = [];
  for (let i = 0; i < count; i++) {
    const placed = await placeOrder(t, merchant.token, [{ skuId: product.skus[0]!.id, quantity: 1 }]);
    if (placed.errors) throw new Error(JSON.stringify(placed.errors));
    numbers.push(placed.data!.placeOrder.order.number);
  }
  return { ...merchant, numbers };
}

const quiet = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('pushing pauses at the in-flight limit and resumes when the subscriber acknowledges', async () => {
  const m = await shopWithOrders(26);
  const client = connectWs(t.url, m.token);
  const sub = subscribeWs(client, 'subscription { orderEvents { id cursor type order { number } } }');
  const ack = async (cursor: string) => {
    const res = await t.gql(m.token, ACKNOWLEDGE, { upTo: cursor });
    expect(res.errors).toBeUndefined();
  };

  const first = await sub.waitFor(20);
  await quiet(500);
  expect(sub.received).toHaveLength(20); // the window is full: nothing more until an acknowledgement
  await ack(first[9]!.data!.orderEvents.cursor);
  await sub.waitFor(26);
  await quiet(300);
  expect(sub.received).toHaveLength(26);

  const got = sub.received.map((r) => r.data!.orderEvents);
  expect(got.map((e) => e.type)).toEqual(Array(26).fill('CREATED'));
  expect(got.map((e) => e.order.number)).toEqual(m.numbers);
  expect(new Set(got.map((e) => e.id)).size).toBe(26);

  // Records: the first acknowledgement marked the first 10; the next one marks the rest (only the
  // range since the previous cursor is touched), and nothing is left unacknowledged.
  const acknowledged = async () => {
    const res = await t.gql<any>(m.token, '{ messageRecords(topics: [ORDERS], first: 100) { nodes { id acknowledgedAt } } }');
    expect(res.errors).toBeUndefined();
    return res.data.messageRecords.nodes.filter((n: { acknowledgedAt: string | null }) => n.acknowledgedAt).map((n: { id: string }) => n.id).sort();
  };
  expect(await acknowledged()).toEqual(got.slice(0, 10).map((e) => e.id).sort());
  await ack(got[25]!.cursor);
  expect(await acknowledged()).toEqual(got.map((e) => e.id).sort());
  sub.stop();
  await client.dispose();
});

test('a backlog is caught up in order, entities resolved in batches, each message with its own entity and field errors', async () => {
  const count = 20; // the window: no acknowledgement needed
  const caughtUp = async (m: { id: string; numbers: string[] }, subscription: string) => {
    // Without orders:read_pii: every message's shippingAddress is null with FORBIDDEN at its own path.
    const token = await t.token({ merchantId: m.id, scopes: ALL_SCOPES.filter((s) => s !== 'orders:read_pii') });
    const client = connectWs(t.url, token);
    const before = t.platform.database.statements.count;
    const sub = subscribeWs(client, subscription);
    const all = await sub.waitFor(count);
    const statements = t.platform.database.statements.count - before;
    await quiet(300);
    expect(sub.received).toHaveLength(count);
    expect(all.map((r) => r.data!.orderEvents.order.number)).toEqual(m.numbers);
    for (const r of all) {
      expect(r.data!.orderEvents.order.shippingAddress).toBeNull();
      expect(r.errors).toHaveLength(1);
      expect(r.errors![0]!.path).toEqual(['orderEvents', 'order', 'shippingAddress']);
      expect(r.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    }
    expect(new Set(all.map((r) => r.data!.orderEvents.order.id)).size).toBe(count);
    sub.stop();
    await client.dispose();
    return { all, statements };
  };

  const plain = await caughtUp(await shopWithOrders(count), 'subscription { orderEvents { id cursor order { id number shippingAddress { name } } } }');
  // Reads, entity queries and delivery records go in batches: fewer statements than messages
  // (one read, one entity query and one record write per message cost 67 for 20 before batching).
  expect(plain.statements).toBeGreaterThan(0);
  expect(plain.statements).toBeLessThan(count);

  // Aliases in the selection: a batch repeats them, so it stays under the gateway's alias limit.
  const aliased = await caughtUp(await shopWithOrders(count), 'subscription { orderEvents { id order { id number n1: number n2: status shippingAddress { name } } } }');
  for (const r of aliased.all) expect(r.data!.orderEvents.order.n1).toBe(r.data!.orderEvents.order.number);

  // A fragment with aliases spread twice (the batch size estimate counts it once): the gateway
  // refuses the batch, and the subscription falls back to one entity per query.
  const fragmented = await caughtUp(
    await shopWithOrders(count),
    'subscription { orderEvents { id order { ...Numbers ... on Order { ...Numbers } shippingAddress { name } } } } fragment Numbers on Order { id number a: number b: number c: number d: number e: number }',
  );
  for (const r of fragmented.all) expect(r.data!.orderEvents.order.e).toBe(r.data!.orderEvents.order.number);
});

test('one event reaching many subscriptions at once: each of 60 subscriptions on two connections gets every event with its entity, in order, and every push is recorded', async () => {
  // 60 subscriptions wait for entities at once: their sub-queries leave in context batches before
  // the event loop turns, and their records are written by several statements at a time, some of
  // them for the same message (one record per message, one delivery per push).
  const m = await createMerchant(t);
  const product = await createProduct(t, m.token, [{ stock: 1000 }]);
  const clients = [connectWs(t.url, m.token), connectWs(t.url, m.token)];
  const subs = Array.from({ length: 60 }, (_, i) => subscribeWs(clients[i % 2]!, 'subscription { orderEvents { id type order { number } } }'));
  await quiet(800);
  const numbers: string[] = [];
  for (let i = 0; i < 5; i++) {
    const placed = await placeOrder(t, m.token, [{ skuId: product.skus[0]!.id, quantity: 1 }]);
    if (placed.errors) throw new Error(JSON.stringify(placed.errors));
    numbers.push(placed.data!.placeOrder.order.number);
  }
  for (const sub of subs) {
    const got = (await sub.waitFor(5)).map((r) => r.data!.orderEvents);
    expect(got.map((e) => e.order.number)).toEqual(numbers);
    expect(got.every((e) => e.type === 'CREATED')).toBe(true);
  }
  await quiet(300);
  expect(subs.every((s) => s.received.length === 5)).toBe(true);

  const ids = subs[0]!.received.map((r) => r.data!.orderEvents.id);
  const records = await t.gql<any>(m.token, '{ messageRecords(topics: [ORDERS], first: 10) { nodes { id deliveries { reason attempt connectionId } } } }');
  expect(records.errors).toBeUndefined();
  const nodes = records.data.messageRecords.nodes as { id: string; deliveries: { reason: string; attempt: number; connectionId: string }[] }[];
  expect(nodes.map((n) => n.id).sort()).toEqual([...ids].sort());
  for (const node of nodes) {
    expect(node.deliveries).toHaveLength(60);
    expect(node.deliveries.every((d) => d.reason === 'LIVE' && d.attempt === 1)).toBe(true);
    expect(new Set(node.deliveries.map((d) => d.connectionId)).size).toBe(2);
  }
  for (const sub of subs) sub.stop();
  await Promise.all(clients.map((c) => c.dispose()));
});
