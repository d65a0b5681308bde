/**
 * The message channel: GraphQL subscriptions at the gateway over real WebSocket (graphql-ws) and SSE
 * (graphql-sse) clients, fed by the outboxes, with cursors, acknowledgements, re-push, manual push,
 * reset, encrypted records, and the same field permissions as queries.
 */
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { createAccountStore } from '../subgraphs/account/store.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { createMerchant, createProduct, placeOrder } from './helpers/factories.js';
import { ACKNOWLEDGE, connectWs, subscribeSse, subscribeWs, type Collector, type Received } from './helpers/messages.js';
import { adjustableClock } from './helpers/clock.js';
import { ALL_SCOPES, startTestPlatform, type TestPlatform } from './helpers/platform.js';
import { mintTestOperatorToken } from './helpers/operator.js';

let t: TestPlatform;
/** The platform's time: real, and moved ahead where a test needs an acknowledgement timeout to pass now. */
const clock = adjustableClock();
beforeAll(async () => {
  t = await startTestPlatform({ clock, extraEnv: { MESSAGE_ACK_TIMEOUT_MS: '1000', MESSAGE_MAX_PUSH_ATTEMPTS: '3', APP_ACCESS_CACHE_MS: '300' } });
});
afterAll(async () => {
  await t?.stop();
});

const ORDER_SUB = `subscription($after: MessageCursor, $types: [OrderEventType!]) {
  orderEvents(after: $after, types: $types) { id cursor type status attempt reason order { id number status } }
}`;

async function shop() {
  const merchant = await createMerchant(t);
  const product = await createProduct(t, merchant.token, [{ stock: 1000 }]);
  return { ...merchant, skuId: product.skus[0]!.id, productId: product.id };
}

async function newOrder(m: { token: string; skuId: string }) {
  const placed = await placeOrder(t, m.token, [{ skuId: m.skuId, quantity: 1 }]);
  if (placed.errors) throw new Error(JSON.stringify(placed.errors));
  return placed.data!.placeOrder.order;
}

async function pay(token: string, orderId: string) {
  const res = await t.gql(token, 'mutation($id: ID!) { payOrder(input: { orderId: $id }) { order { status } } }', { id: orderId });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
}

async function ship(token: string, orderId: string) {
  return t.gql<any>(token, 'mutation($id: ID!) { shipOrder(input: { orderId: $id, carrier: "DHL", trackingNumber: "T-1" }) { order { status } } }', { id: orderId });
}

/** Rows of a raw query, for PGlite and node-postgres alike. */
const rows = <T>(result: unknown): T[] => ((result as { rows?: T[] }).rows ?? (result as T[]));

const events = (received: Received[], field = 'orderEvents') => received.map((r) => r.data?.[field]);

/**
 * The first push of each of `n` distinct messages, in arrival order. Unacknowledged messages are
 * pushed again after MESSAGE_ACK_TIMEOUT_MS, so on a slow machine a re-push may come in between.
 */
async function firstPushes(c: Collector, n: number, field = 'orderEvents', timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  // The first push of each id (a Map built from all pushes would keep the last one's value).
  const distinct = () => {
    const first = new Map<string, any>();
    for (const e of events(c.received, field)) if (!first.has(e.id)) first.set(e.id, e);
    return [...first.values()];
  };
  while (distinct().length < n) {
    if (Date.now() > deadline) throw new Error(`only ${distinct().length} of ${n} distinct messages within ${timeoutMs} ms`);
    if (c.completed) throw new Error(`subscription ended after ${distinct().length} of ${n} distinct messages`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return distinct().slice(0, n);
}

/** Waits until the gateway has the subscription open (its first read of the stream done). */
async function settle() {
  await new Promise((r) => setTimeout(r, 300));
}

test('order events arrive in order, with the selected order fields resolved across subgraphs, over WebSocket and SSE', async () => {
  const m = await shop();
  const client = connectWs(t.url, m.token);
  const ws = subscribeWs(
    client,
    `subscription { orderEvents { id cursor type status reason attempt occurredAt order { id number status lines { quantity sku { code product { title } } } } } }`,
  );
  const sse = subscribeSse(t.url, m.token, 'subscription { orderEvents { id type reason order { status } } }');
  await settle();
  const order = await newOrder(m);
  await pay(m.token, order.id);
  expect((await ship(m.token, order.id)).errors).toBeUndefined();

  // shipOrder ships in one shipment: its SHIPMENT_CREATED comes before the order's SHIPPED.
  const got = await firstPushes(ws, 4);
  expect(got.map((e) => e.type)).toEqual(['CREATED', 'PAID', 'SHIPMENT_CREATED', 'SHIPPED']);
  expect(got.map((e) => e.status)).toEqual(['PENDING_PAYMENT', 'PAID', 'PAID', 'SHIPPED']);
  expect(got.every((e) => e.reason === 'LIVE' && e.attempt === 1)).toBe(true);
  expect(new Set(got.map((e) => e.id)).size).toBe(4);
  // The order as it is when pushed, across order and product subgraphs.
  expect(got[3].order).toEqual({ id: order.id, number: order.number, status: 'SHIPPED', lines: [{ quantity: 1, sku: { code: expect.any(String), product: { title: 'Test product' } } }] });
  const viaSse = await firstPushes(sse, 4);
  expect(viaSse.map((e) => e.id)).toEqual(got.map((e) => e.id));
  // Anything else either transport received is a re-push of one of these (none acknowledged here).
  for (const e of [...events(ws.received), ...events(sse.received)]) expect(e.reason === 'LIVE' || (e.reason === 'REPUSH' && got.some((g) => g.id === e.id))).toBe(true);
  ws.stop();
  sse.stop();
  await client.dispose();
});

test('field permissions apply to events as to queries; a subscription needs its messages scope; merchants stay apart', async () => {
  const m = await shop();
  const other = await shop();
  const noPii = await t.token({ merchantId: m.id, scopes: ALL_SCOPES.filter((s) => s !== 'orders:read_pii') });
  const client = connectWs(t.url, noPii);
  const sub = subscribeWs(client, 'subscription { orderEvents { type order { number shippingAddress { name } } } }');
  // (No cursor selected: nothing to acknowledge with, so re-pushes may follow; each is the same event.)
  await settle();
  await newOrder(other); // another merchant's order: never reaches this subscriber
  const order = await newOrder(m);
  const [first] = await sub.waitFor(1);
  expect(first!.data).toEqual({ orderEvents: { type: 'CREATED', order: { number: order.number, shippingAddress: null } } });
  expect(first!.errors).toHaveLength(1);
  expect(first!.errors![0]!.path).toEqual(['orderEvents', 'order', 'shippingAddress']);
  expect(first!.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', requiredScopes: [expect.arrayContaining(['orders:read_pii'])] });
  await new Promise((r) => setTimeout(r, 300));
  // Nothing of the other merchant's order reached this subscriber.
  expect(sub.received.every((r) => r.data!.orderEvents.order.number === order.number)).toBe(true);
  sub.stop();
  await client.dispose();

  const withoutScope = connectWs(t.url, await t.token({ merchantId: m.id, scopes: ['orders:read'] }));
  const refused = subscribeWs(withoutScope, 'subscription { orderEvents { id } }');
  await refused.waitForEnd();
  expect(refused.received[0]!.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', requiredScopes: [['messages:orders']] });
  await withoutScope.dispose();

  // App-level tokens act for no merchant: no stream.
  const appLevel = connectWs(t.url, await t.token({ merchantId: null }));
  const noMerchant = subscribeWs(appLevel, 'subscription { orderEvents { id } }');
  await noMerchant.waitForEnd();
  expect(noMerchant.received[0]!.errors![0]!.extensions!.code).toBe('FORBIDDEN');
  await appLevel.dispose();
});

test('bad tokens are refused at connection; bad documents and cursors get clear errors', async () => {
  const m = await shop();
  const bad = connectWs(t.url, 'not-a-token');
  const refused = subscribeWs(bad, 'subscription { orderEvents { id } }');
  await refused.waitForEnd();
  expect(String((refused.error as { code?: number; reason?: string }).code)).toBe('4401');
  await bad.dispose();

  const client = connectWs(t.url, m.token);
  const invalid = subscribeWs(client, 'subscription { orderEvents { nope } }');
  await invalid.waitForEnd();
  expect(JSON.stringify(invalid.error ?? invalid.received)).toContain('nope');

  const otherShop = await shop();
  const otherClient = connectWs(t.url, otherShop.token);
  const theirs = subscribeWs(otherClient, ORDER_SUB);
  await settle();
  await newOrder(otherShop);
  const [theirEvent] = events(await theirs.waitFor(1));
  theirs.stop();
  await otherClient.dispose();
  const stolen = subscribeWs(client, ORDER_SUB, { after: theirEvent.cursor });
  await stolen.waitForEnd();
  expect(stolen.received[0]!.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  const forged = subscribeWs(client, ORDER_SUB, { after: `${theirEvent.cursor.slice(0, -4)}AAAA` });
  await forged.waitForEnd();
  expect(forged.received[0]!.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  await client.dispose();
});

test('a subscriber resumes from its acknowledged cursor (or `after`) with no gap and no reordering, duplicates only of unacknowledged messages', async () => {
  const m = await shop();
  let client = connectWs(t.url, m.token);
  let sub = subscribeWs(client, ORDER_SUB);
  await settle();
  const orders = [await newOrder(m), await newOrder(m), await newOrder(m)];
  const first = await firstPushes(sub, 3);
  expect(first.map((e) => e.order.id)).toEqual(orders.map((o) => o.id));
  const ack = await t.gql<any>(m.token, ACKNOWLEDGE, { upTo: first[1].cursor });
  expect(ack.errors).toBeUndefined();
  expect(ack.data.acknowledgeMessages.topics.find((x: any) => x.topic === 'ORDERS').pending).toBe(1);
  sub.stop();
  await client.dispose();

  // Offline: more happens.
  orders.push(await newOrder(m), await newOrder(m));
  client = connectWs(t.url, m.token);
  sub = subscribeWs(client, ORDER_SUB);
  const resumed = events(await sub.waitFor(3));
  expect(resumed.map((e) => e.order.id)).toEqual(orders.slice(2).map((o) => o.id));
  expect(resumed[0].id).toBe(first[2].id); // unacknowledged: pushed again, same id
  expect(resumed[0].reason).toBe('REPLAY');
  expect(resumed.slice(1).map((e) => e.reason)).toEqual(['LIVE', 'LIVE']);
  // Live events follow the catch-up with no seam.
  orders.push(await newOrder(m));
  expect(events(await sub.waitFor(4))[3].order.id).toBe(orders[5]!.id);
  sub.stop();

  // An explicit `after` wins over the acknowledged cursor.
  const replay = subscribeWs(client, ORDER_SUB, { after: first[0].cursor });
  expect(events(await replay.waitFor(5)).map((e) => e.order.id)).toEqual(orders.slice(1).map((o) => o.id));
  replay.stop();
  await client.dispose();
});

test('events committed while the subscription catches up arrive exactly once, in commit order', async () => {
  const m = await shop();
  for (let i = 0; i < 5; i++) await newOrder(m);
  const client = connectWs(t.url, m.token);
  const sub = subscribeWs(client, ORDER_SUB);
  // Orders keep coming while the subscription reads the backlog.
  const more = await Promise.all(Array.from({ length: 10 }, () => newOrder(m)));
  await sub.waitFor(15);
  await new Promise((r) => setTimeout(r, 300));
  // Not acknowledged, so re-pushes follow (attempt > 1); the first pushes are the stream.
  const got = events(sub.received).filter((e) => e.attempt === 1);
  expect(got).toHaveLength(15);
  expect(new Set(got.map((e) => e.id)).size).toBe(15);
  for (const o of more) expect(got.some((e) => e.order.id === o.id)).toBe(true);
  // Commit order is the outbox position order; the cursor reflects it.
  const positions = await t.platform.database.db.execute(sql`select id from "order".outbox_events where merchant_id = ${m.id} order by position`);
  const ids = rows<{ id: string }>(positions).map((r) => r.id);
  expect(got.map((e) => e.id)).toEqual(ids);
  sub.stop();
  await client.dispose();
});

test('unacknowledged messages are pushed again with backoff up to the limit; an acknowledgement stops it; records show every attempt', async () => {
  const m = await shop();
  const client = connectWs(t.url, m.token);
  const sub = subscribeWs(client, ORDER_SUB, { types: ['CREATED'] });
  await settle();
  const order = await newOrder(m);
  await pay(m.token, order.id); // filtered out by `types`
  // The platform's clock at each push: the acknowledgement timeout is 1,000 ms, then 2,000 ms (it
  // doubles). The clock is moved ahead by those amounts (a timer also fires if real time gets there first).
  const pushedAt: number[] = [];
  await sub.waitFor(1);
  pushedAt.push(clock.now());
  await clock.advance(1000);
  await sub.waitFor(2);
  pushedAt.push(clock.now());
  await clock.advance(2000);
  const got = events(await sub.waitFor(3));
  pushedAt.push(clock.now());
  expect(got.map((e) => [e.id, e.attempt, e.reason])).toEqual([
    [got[0].id, 1, 'LIVE'],
    [got[0].id, 2, 'REPUSH'],
    [got[0].id, 3, 'REPUSH'],
  ]);
  expect(pushedAt[1]! - pushedAt[0]!).toBeGreaterThanOrEqual(1000);
  expect(pushedAt[2]! - pushedAt[1]!).toBeGreaterThanOrEqual(2000);
  // The limit (3 pushes per connection) is reached: well past the next timeout (4,000 ms), it still waits for the next connection.
  await clock.advance(10_000);
  await new Promise((r) => setTimeout(r, 300));
  expect(sub.received).toHaveLength(3);

  const records = await t.gql<any>(m.token, '{ messageRecords(topics: [ORDERS]) { nodes { id type payload acknowledgedAt deliveries { reason attempt transport connectionId acknowledged pushed } } } }');
  expect(records.errors).toBeUndefined();
  const [record] = records.data.messageRecords.nodes;
  expect(record).toMatchObject({ id: got[0].id, type: 'order.created', acknowledgedAt: null, payload: { orderId: order.id, status: 'PENDING_PAYMENT' } });
  expect(record.deliveries.map((d: any) => [d.reason, d.attempt, d.transport])).toEqual([
    ['LIVE', 1, 'ws'],
    ['REPUSH', 2, 'ws'],
    ['REPUSH', 3, 'ws'],
  ]);
  expect(record.deliveries[0].pushed.data.orderEvents.order.id).toBe(order.id);
  sub.stop();

  // Acknowledged on time, a message is not pushed again.
  const second = subscribeWs(client, ORDER_SUB, { types: ['CREATED'] });
  const [again] = events(await second.waitFor(1));
  expect(again.id).toBe(got[0].id);
  await t.gql(m.token, ACKNOWLEDGE, { upTo: again.cursor });
  await clock.advance(5_000);
  await new Promise((r) => setTimeout(r, 300));
  expect(second.received).toHaveLength(1);
  const acked = await t.gql<any>(m.token, '{ messageRecords(topics: [ORDERS]) { nodes { acknowledgedAt deliveries { acknowledged } } } }');
  expect(acked.data.messageRecords.nodes[0].acknowledgedAt).not.toBeNull();
  expect(acked.data.messageRecords.nodes[0].deliveries.every((d: any) => d.acknowledged)).toBe(true);
  second.stop();
  await client.dispose();
});

test('manual push re-sends chosen messages; reset push replays from a time or a cursor', async () => {
  const m = await shop();
  const client = connectWs(t.url, m.token);
  const sub = subscribeWs(client, ORDER_SUB);
  await settle();
  const before = new Date();
  const orders = [await newOrder(m), await newOrder(m)];
  const got = events(await sub.waitFor(2));
  await t.gql(m.token, ACKNOWLEDGE, { upTo: got[1].cursor });

  const unknown = crypto.randomUUID();
  const redeliver = await t.gql<any>(m.token, 'mutation($ids: [ID!]!) { redeliverMessages(ids: $ids) { queued unknown } }', { ids: [got[0].id, unknown] });
  expect(redeliver.data.redeliverMessages).toEqual({ queued: [got[0].id], unknown: [unknown] });
  const [manual] = events((await sub.waitFor(3)).slice(2));
  expect(manual).toMatchObject({ id: got[0].id, reason: 'MANUAL' });

  // Another app's or merchant's message ids are unknown to this stream.
  const other = await shop();
  const otherOrder = await newOrder(other);
  const theirEvent = await t.platform.database.db.execute(sql`select id from "order".outbox_events where aggregate_id = ${otherOrder.id}`);
  const theirId = rows<{ id: string }>(theirEvent)[0]!.id;
  expect((await t.gql<any>(m.token, 'mutation($ids: [ID!]!) { redeliverMessages(ids: $ids) { queued unknown } }', { ids: [theirId] })).data.redeliverMessages).toEqual({ queued: [], unknown: [theirId] });

  const reset = await t.gql<any>(m.token, 'mutation($at: DateTime!) { resetMessageCursor(to: { time: $at, topics: [ORDERS] }) { topics { topic pending } } }', { at: before.toISOString() });
  expect(reset.errors).toBeUndefined();
  expect(reset.data.resetMessageCursor.topics.find((x: any) => x.topic === 'ORDERS').pending).toBe(2);
  const replayed = events((await sub.waitFor(5)).slice(3));
  expect(replayed.map((e) => [e.order.id, e.reason])).toEqual(orders.map((o) => [o.id, 'REPLAY']));

  const toCursor = await t.gql<any>(m.token, 'mutation($c: MessageCursor!) { resetMessageCursor(to: { cursor: $c }) { topics { topic pending } } }', { c: got[0].cursor });
  expect(toCursor.errors).toBeUndefined();
  expect(events((await sub.waitFor(6)).slice(5))[0].order.id).toBe(orders[1]!.id);

  const both = await t.gql<any>(m.token, 'mutation($c: MessageCursor!) { resetMessageCursor(to: { cursor: $c, time: "2026-01-01T00:00:00Z" }) { topics { topic } } }', { c: got[0].cursor });
  expect(both.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  sub.stop();
  await client.dispose();
});

test('records are encrypted at rest with a per-app key that operators can rotate; old records stay readable', async () => {
  const m = await shop();
  const client = connectWs(t.url, m.token);
  const sub = subscribeWs(client, ORDER_SUB);
  await settle();
  const first = await newOrder(m);
  await sub.waitFor(1);
  // A push's record is written after it is sent: read the table once it is.
  await t.platform.gateway.channel!.recordsWritten('app_test', m.id);
  // The first push is stored in the record it wrote; later pushes in message_deliveries.
  const raw = await t.platform.database.db.execute(sql`select payload, pushed, key_version from app_management.message_records where merchant_id = ${m.id}`);
  const stored = rows<{ payload: string; pushed: string | null }>(raw);
  expect(stored.length).toBe(1);
  expect(stored[0]!.pushed).not.toBeNull();
  for (const row of stored) {
    expect(row.payload).not.toContain(first.id);
    expect(row.pushed).not.toContain(first.number);
    expect(Buffer.from(row.payload, 'base64url').toString('latin1')).not.toContain(first.number);
  }
  const keyRows = await t.platform.database.db.execute(sql`select wrapped_key from app_management.message_keys`);
  expect(rows<{ wrapped_key: string }>(keyRows).every((k) => Buffer.from(k.wrapped_key, 'base64url').length === 12 + 16 + 32)).toBe(true);

  const operator = await mintTestOperatorToken(t);
  const rotated = await t.gql<any>(operator, 'mutation { rotateMessageKey(appKey: "app_test", reason: "key seen in a support ticket") { appKey version } }');
  expect(rotated.errors).toBeUndefined();
  const version = rotated.data.rotateMessageKey.version;
  expect(version).toBeGreaterThan(1);
  // Audited with the operator and the reason.
  const audited = await t.gql<any>(operator, '{ auditLog(filter: { action: "message_key.rotate", targetId: "app_test" }, first: 1) { nodes { actor reason details } } }');
  expect(audited.data.auditLog.nodes[0]).toMatchObject({ actor: expect.stringMatching(/^operator:/), reason: 'key seen in a support ticket' });
  expect(JSON.parse(audited.data.auditLog.nodes[0].details)).toEqual({ version });
  expect((await t.gql<any>(m.token, 'mutation { rotateMessageKey(appKey: "app_test") { version } }')).errors![0]!.extensions!.code).toBe('FORBIDDEN');

  const second = await newOrder(m);
  await sub.waitFor(2);
  await t.platform.gateway.channel!.recordsWritten('app_test', m.id);
  const versions = await t.platform.database.db.execute(sql`select key_version from app_management.message_records where merchant_id = ${m.id} order by position`);
  expect(rows<{ key_version: number }>(versions).map((r) => r.key_version).at(-1)).toBe(version);
  const listed = await t.gql<any>(m.token, '{ messageRecords(topics: [ORDERS]) { nodes { payload } } }');
  expect(listed.data.messageRecords.nodes.map((n: any) => n.payload.orderId).sort()).toEqual([first.id, second.id].sort());
  sub.stop();
  await client.dispose();
});

test('one stream over several topics with fragments; product, stock and account events (user merge)', async () => {
  const m = await shop();
  const client = connectWs(t.url, m.token);
  const sub = subscribeWs(
    client,
    `subscription { messages { __typename id topic attempt
      ... on OrderEvent { orderEvent: type order { id } }
      ... on ProductEvent { productEvent: type stockBefore stockAfter stockChangeSource product { id title } sku { id stock } }
      ... on AccountEvent { accountEvent: type merchant { id name } mergedUserRef survivingUserRef } } }`,
  );
  await settle();
  const order = await newOrder(m);
  await createAccountStore(t.platform.database.db).recordUserMerge({ mergedUserId: crypto.randomUUID(), survivingUserId: crypto.randomUUID(), merchantIds: [m.id] });
  // From the start of the merchant's stream: its registration, the product's creation and listing, then these.
  // (Not acknowledged here, so re-pushes may interleave: the first pushes are the stream.)
  const firstPushes = () => sub.received.map((r) => r.data!.messages).filter((e) => e.attempt === 1);
  for (let waited = 0; firstPushes().length < 6 && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  const got = firstPushes();
  expect(got.map((e) => e.orderEvent ?? e.productEvent ?? e.accountEvent).sort()).toEqual(
    ['CREATED', 'MERCHANT_REGISTERED', 'PRODUCT_CREATED', 'PRODUCT_STATUS_CHANGED', 'STOCK_CHANGED', 'USER_MERGED'].sort(),
  );
  const byTopic = {
    ORDERS: got.find((e) => e.orderEvent === 'CREATED'),
    PRODUCTS: got.find((e) => e.productEvent === 'STOCK_CHANGED'),
    ACCOUNTS: got.find((e) => e.accountEvent === 'USER_MERGED'),
  };
  expect(byTopic.ORDERS).toMatchObject({ __typename: 'OrderEvent', orderEvent: 'CREATED', order: { id: order.id } });
  expect(byTopic.PRODUCTS).toMatchObject({ __typename: 'ProductEvent', productEvent: 'STOCK_CHANGED', stockBefore: 1000, stockAfter: 999, stockChangeSource: 'ORDER_RESERVATION', product: { id: m.productId }, sku: { id: m.skuId, stock: 999 } });
  expect(byTopic.ACCOUNTS).toMatchObject({ __typename: 'AccountEvent', accountEvent: 'USER_MERGED', merchant: { id: m.id } });
  expect(byTopic.ACCOUNTS.mergedUserRef).toMatch(/^[A-Za-z0-9_-]{32}$/);
  expect(byTopic.ACCOUNTS.mergedUserRef).not.toBe(byTopic.ACCOUNTS.survivingUserRef);
  sub.stop();

  // Only topics the app holds a scope for.
  const ordersOnly = connectWs(t.url, await t.token({ merchantId: m.id, scopes: ['orders:read', 'messages:orders'] }));
  const refused = subscribeWs(ordersOnly, 'subscription { messages(topics: [PRODUCTS]) { id } }');
  await refused.waitForEnd();
  expect(refused.received[0]!.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', requiredScopes: [['messages:products']] });
  await ordersOnly.dispose();
  await client.dispose();
});

test('a subscription ends with a clear error when its token expires, its package is revoked, or its app is suspended', async () => {
  const m = await shop();
  const shortLived = connectWs(t.url, await t.token({ merchantId: m.id, ttlSeconds: 2 }));
  const expiring = subscribeWs(shortLived, ORDER_SUB);
  await expiring.waitForEnd(10_000);
  expect(expiring.received.at(-1)!.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  expect(expiring.received.at(-1)!.errors![0]!.message).toMatch(/expired/);
  await shortLived.dispose();

  // A separate app whose messages package is taken back.
  const apps = createAppManagementStore(t.platform.database.db);
  const developer = await apps.createDeveloper({ kind: 'COMPANY', name: 'Revoked ISV', email: `r-${crypto.randomUUID()}@example.com`, verificationStatus: 'VERIFIED' });
  await apps.createApp({ key: 'app_revoked', name: 'Revoked', developerId: developer.id, status: 'LIVE' });
  const pkg = await apps.createPackage({ name: `Messages ${crypto.randomUUID()}`, description: 'test', tier: 'FREE', scopes: ['orders:read', 'messages:orders'] });
  await apps.grantPackage('system:tests', { appKey: 'app_revoked', packageId: pkg.id, reason: 'test' });
  const client = connectWs(t.url, await t.token({ merchantId: m.id, appKey: 'app_revoked', scopes: ['orders:read', 'messages:orders'] }));
  const sub = subscribeWs(client, ORDER_SUB);
  await settle();
  await newOrder(m);
  await sub.waitFor(1);
  await apps.revokePackage('operator:test', { appKey: 'app_revoked', packageId: pkg.id, reason: 'test' });
  await sub.waitForEnd(5000);
  expect(sub.received.at(-1)!.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', requiredScopes: [['messages:orders']] });
  await client.dispose();

  await apps.grantPackage('system:tests', { appKey: 'app_revoked', packageId: pkg.id, reason: 'test' });
  await clock.advance(300 + 1); // past the gateway's access cache, which still knows the package revoked
  const again = connectWs(t.url, await t.token({ merchantId: m.id, appKey: 'app_revoked', scopes: ['orders:read', 'messages:orders'] }));
  const suspended = subscribeWs(again, ORDER_SUB);
  expect((await suspended.waitFor(1))[0]!.errors).toBeUndefined();
  await apps.setAppStatus('operator:test', { appKey: 'app_revoked', status: 'SUSPENDED', reason: 'test' });
  await suspended.waitForEnd(5000);
  expect(suspended.received.at(-1)!.errors![0]!.extensions!.code).toBe('APP_SUSPENDED');
  await again.dispose();
});

test('a failed outbox write rolls the state change back: no change without its event', async () => {
  const m = await shop();
  const order = await newOrder(m);
  await pay(m.token, order.id);
  const db = t.platform.database.db;
  // A real fault in the database: the outbox refuses this merchant's shipped events.
  await db.execute(sql.raw(`create or replace function "order".refuse_shipped() returns trigger language plpgsql as $$ begin
    if new.type = 'order.shipped' and new.merchant_id = '${m.id}' then raise exception 'outbox unavailable'; end if; return new; end $$`));
  await db.execute(sql.raw('create trigger refuse_shipped before insert on "order".outbox_events for each row execute function "order".refuse_shipped()'));
  try {
    const failed = await ship(m.token, order.id);
    expect(failed.errors![0]!.extensions!.code).toBe('INTERNAL_SERVER_ERROR');
    expect(JSON.stringify(failed)).not.toMatch(/outbox unavailable|insert|select/i);
  } finally {
    await db.execute(sql.raw('drop trigger refuse_shipped on "order".outbox_events'));
  }
  const now = await t.gql<any>(m.token, 'query($id: ID!) { order(id: $id) { status } }', { id: order.id });
  expect(now.data.order.status).toBe('PAID');
  const types = await db.execute(sql`select type from "order".outbox_events where aggregate_id = ${order.id} order by position`);
  expect(rows<{ type: string }>(types).map((r) => r.type)).toEqual(['order.created', 'order.paid']);
  expect((await ship(m.token, order.id)).data.shipOrder.order.status).toBe('SHIPPED');
});
