/**
 * Who may use a message-channel connection, and for what, while it stays open: every operation
 * sent over a socket is authorized when it is sent; scopes lost during a subscription apply to the
 * next push; no cursor, time or manual push reaches back before the merchant authorized the app;
 * the SSE endpoint serves only its distinct-connections mode; malformed subscriptions fail alone.
 */
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { createAccountStore } from '../subgraphs/account/store.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { createMerchant, createProduct, placeOrder } from './helpers/factories.js';
import { connectWs, subscribeWs, type Received } from './helpers/messages.js';
import { startTestPlatform, type TestPlatform } from './helpers/platform.js';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform({ extraEnv: { APP_ACCESS_CACHE_MS: '300' } });
});
afterAll(async () => {
  await t?.stop();
});

/** Rows of a raw query, for PGlite and node-postgres alike. */
const rows = <T>(result: unknown): T[] => ((result as { rows?: T[] }).rows ?? (result as T[]));

async function shop() {
  const merchant = await createMerchant(t);
  const product = await createProduct(t, merchant.token, [{ stock: 1000 }]);
  return { ...merchant, skuId: product.skus[0]!.id };
}

async function newOrder(m: { token: string; skuId: string }) {
  const placed = await placeOrder(t, m.token, [{ skuId: m.skuId, quantity: 1 }]);
  if (placed.errors) throw new Error(JSON.stringify(placed.errors));
  return placed.data!.placeOrder.order as { id: string; number: string };
}

/** An app of its own holding the given packages (each a list of scopes); returns the app key and package ids. */
async function appWith(...packages: string[][]) {
  const apps = createAppManagementStore(t.platform.database.db);
  const key = `app_access_${crypto.randomUUID().slice(0, 8)}`;
  const developer = await apps.createDeveloper({ kind: 'COMPANY', name: 'Access ISV', email: `${key}@example.com`, verificationStatus: 'VERIFIED' });
  await apps.createApp({ key, name: key, developerId: developer.id, status: 'LIVE' });
  const ids: string[] = [];
  for (const scopes of packages) {
    const pkg = await apps.createPackage({ name: `${key} ${scopes.join(' ')}`, description: 'test', tier: 'FREE', scopes });
    await apps.grantPackage('system:tests', { appKey: key, packageId: pkg.id, reason: 'test' });
    ids.push(pkg.id);
  }
  return { key, packageIds: ids, apps };
}

/** Runs one query or mutation over an open graphql-ws client and returns its single result. */
async function overSocket(client: ReturnType<typeof connectWs>, query: string, variables: Record<string, unknown> = {}): Promise<Received> {
  const one = subscribeWs(client, query, variables);
  await one.waitForEnd();
  // Refused before it ran (graphql-ws's Error message): the errors alone.
  if (Array.isArray(one.error)) return { errors: one.error as Received['errors'] };
  if (one.error) throw new Error(`socket closed: ${JSON.stringify(one.error)}`);
  return one.received[0]!;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('every operation sent over an open WebSocket is authorized when it is sent: expired tokens and suspended apps get nothing more', async () => {
  const m = await shop();
  const { key, apps } = await appWith(['merchant:read', 'orders:read', 'messages:orders']);
  const client = connectWs(t.url, await t.token({ merchantId: m.id, appKey: key, scopes: ['merchant:read', 'orders:read', 'messages:orders'], ttlSeconds: 1 }), { lazy: false });
  expect((await overSocket(client, '{ merchant { name } }')).data).toEqual({ merchant: { name: expect.any(String) } });

  await wait(6500); // the token has expired (1 s, plus the verifier's 5 s clock tolerance); the socket is still open
  const query = await overSocket(client, '{ merchant { name } }');
  expect(query.data ?? null).toBeNull();
  expect(query.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  const mutation = await overSocket(client, 'mutation($id: ID!) { cancelOrder(input: { orderId: $id, reason: "late" }) { order { status } } }', { id: (await newOrder(m)).id });
  expect(mutation.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  const subscription = await overSocket(client, 'subscription { orderEvents { id } }');
  expect(subscription.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  await client.dispose();

  const fresh = connectWs(t.url, await t.token({ merchantId: m.id, appKey: key, scopes: ['merchant:read', 'orders:read', 'messages:orders'] }), { lazy: false });
  expect((await overSocket(fresh, '{ merchant { name } }')).errors).toBeUndefined();
  await apps.setAppStatus('operator:test', { appKey: key, status: 'SUSPENDED', reason: 'test' });
  await wait(600); // APP_ACCESS_CACHE_MS is 300 here
  const refused = await overSocket(fresh, '{ merchant { name } }');
  expect(refused.errors![0]!.extensions!.code).toBe('APP_SUSPENDED');
  expect((await overSocket(fresh, 'subscription { orderEvents { id } }')).errors![0]!.extensions!.code).toBe('APP_SUSPENDED');
  await fresh.dispose();
});

test('a scope lost while subscribed applies to the next push: shippingAddress stops, the subscription goes on', async () => {
  const m = await shop();
  const { key, packageIds, apps } = await appWith(['orders:read', 'messages:orders'], ['orders:read_pii']);
  const client = connectWs(t.url, await t.token({ merchantId: m.id, appKey: key, scopes: ['orders:read', 'orders:read_pii', 'messages:orders'] }));
  const sub = subscribeWs(client, 'subscription { orderEvents { type order { number shippingAddress { name } } } }');
  await wait(300);
  const first = await newOrder(m);
  const [before] = await sub.waitFor(1);
  expect(before!.errors).toBeUndefined();
  expect(before!.data!.orderEvents.order).toMatchObject({ number: first.number, shippingAddress: { name: expect.any(String) } });

  await apps.revokePackage('operator:test', { appKey: key, packageId: packageIds[1]!, reason: 'test' });
  await wait(2600); // past the app-access cache and the subscription's next re-check
  const second = await newOrder(m);
  const deadline = Date.now() + 10_000;
  let after: Received | undefined;
  while (!after && Date.now() < deadline) {
    after = sub.received.find((r) => r.data?.orderEvents?.order?.number === second.number);
    if (!after) await wait(100);
  }
  expect(after).toBeDefined();
  expect(after!.data!.orderEvents.order.shippingAddress).toBeNull();
  expect(after!.errors![0]!.path).toEqual(['orderEvents', 'order', 'shippingAddress']);
  expect(after!.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN' });
  expect(sub.completed).toBe(false);
  sub.stop();
  await client.dispose();
});

/** A merchant's authorization of the test app, as the passport records it: its grant id. */
async function authorize(merchantId: string): Promise<string> {
  const grantId = `grant_${crypto.randomUUID()}`;
  await createAccountStore(t.platform.database.db).recordAuthorization({ grantId, merchantId, appKey: 'app_test', appName: 'Test app', scopes: ['orders:read', 'messages:orders'], authorizedBy: null });
  return grantId;
}

test("a merchant revoking its authorization ends the app's subscriptions for that merchant, not the others'", async () => {
  // Several merchants, so that their subscriptions are re-checked together (one lookup for all).
  const merchants = await Promise.all([shop(), shop(), shop(), shop()]);
  const grants = await Promise.all(merchants.map((m) => authorize(m.id)));
  const SUB = 'subscription { orderEvents { id order { number } } }';
  const clients = await Promise.all(merchants.map(async (m, i) => connectWs(t.url, await t.token({ merchantId: m.id, grantId: grants[i], scopes: ['orders:read', 'messages:orders'] }))));
  const subs = clients.map((client) => subscribeWs(client, SUB));
  await wait(300);
  await Promise.all(merchants.map((m) => newOrder(m)));
  await Promise.all(subs.map((sub) => sub.waitFor(1)));

  const revoked = await createAccountStore(t.platform.database.db).revokeAuthorization(grants[0]!, `merchant:${merchants[0]!.id}`, merchants[0]!.id, 'test');
  expect(revoked?.revokedAt).toBeTruthy();
  await subs[0]!.waitForEnd(5000);
  const ended = subs[0]!.received.at(-1)!.errors![0]!;
  expect(ended.extensions!.code).toBe('UNAUTHENTICATED');
  expect(ended.message).toMatch(/revoked/);

  // The others went through the same re-checks and stay open: they get what comes next.
  await wait(1000);
  const later = await Promise.all(merchants.slice(1).map((m) => newOrder(m)));
  for (const [i, sub] of subs.slice(1).entries()) {
    await sub.waitFor(2);
    expect(sub.completed).toBe(false);
    expect(sub.received[1]!.data?.orderEvents?.order?.number).toBe(later[i]!.number);
  }
  await Promise.all(clients.map((client) => client.dispose()));
});

test("no cursor, time or manual push reaches back before the merchant authorized the app", async () => {
  const m = await shop();
  const earlier = await newOrder(m); // before the authorization: not the app's
  const grantId = `grant_${crypto.randomUUID()}`;
  await t.platform.database.db.execute(
    sql`insert into account.merchant_authorizations (grant_id, merchant_id, app_key, app_name, scopes, authorized_at) values (${grantId}, ${m.id}, 'app_test', 'Test app', ${sql.raw("'{orders:read,messages:orders}'")}, now())`,
  );
  await wait(20);
  const later = await newOrder(m);
  const token = await t.token({ merchantId: m.id, grantId, scopes: ['orders:read', 'messages:orders'] });
  const [earlierEvent] = rows<{ id: string }>(await t.platform.database.db.execute(sql`select id from "order".outbox_events where aggregate_id = ${earlier.id}`));
  expect(earlierEvent).toBeDefined();

  const numbersOf = (received: Received[]) => received.map((r) => r.data?.orderEvents?.order?.number);
  const SUB = 'subscription($after: MessageCursor) { orderEvents(after: $after) { id cursor reason order { number } } }';

  // The stream starts at the authorization.
  const client = connectWs(t.url, token);
  const first = subscribeWs(client, SUB);
  await first.waitFor(1);
  await wait(500);
  expect(numbersOf(first.received)).toEqual([later.number]);
  first.stop();

  // A reset to a time long before replays from the authorization, not from that time.
  const reset = await t.gql(token, 'mutation { resetMessageCursor(to: { time: "2000-01-01T00:00:00Z" }) { acknowledgedCursor } }');
  expect(reset.errors).toBeUndefined();
  const replay = subscribeWs(client, SUB);
  await replay.waitFor(1);
  await wait(500);
  expect(numbersOf(replay.received)).toEqual([later.number]);
  replay.stop();

  // A cursor at position 0 (what messageStream seals for a topic never acknowledged) does not either.
  const status = await t.gql<any>(token, '{ messageStream { acknowledgedCursor } }');
  const zero = await t.gql<any>(token, 'mutation($c: MessageCursor!) { resetMessageCursor(to: { cursor: $c }) { acknowledgedCursor } }', { c: status.data.messageStream.acknowledgedCursor });
  expect(zero.errors).toBeUndefined();
  const fromZero = subscribeWs(client, SUB, { after: status.data.messageStream.acknowledgedCursor });
  await fromZero.waitFor(1);
  await wait(500);
  expect(numbersOf(fromZero.received)).toEqual([later.number]);
  fromZero.stop();

  // Nor a manual push of an event from before.
  const manual = await t.gql<any>(token, 'mutation($ids: [ID!]!) { redeliverMessages(ids: $ids) { queued unknown } }', { ids: [earlierEvent!.id] });
  expect(manual.data.redeliverMessages).toEqual({ queued: [], unknown: [earlierEvent!.id] });
  await client.dispose();
});

test("a stream's floor is found once its authorization is ten minutes old, then kept with its cursor; another authorization finds its own", async () => {
  const m = await shop();
  const db = t.platform.database.db;
  const earlier = await newOrder(m);
  // Made two hours ago: before the merchant authorized the app.
  await db.execute(sql`update "order".outbox_events set occurred_at = now() - interval '2 hours' where aggregate_id = ${earlier.id}`);
  const later = await newOrder(m);
  const positionOf = async (orderId: string) => Number(rows<{ position: string }>(await db.execute(sql`select position from "order".outbox_events where aggregate_id = ${orderId} and type = 'order.created'`))[0]!.position);
  const authorizeAgo = async (ago: string) => {
    const grantId = `grant_${crypto.randomUUID()}`;
    await db.execute(
      sql`insert into account.merchant_authorizations (grant_id, merchant_id, app_key, app_name, scopes, authorized_at) values (${grantId}, ${m.id}, 'app_test', 'Test app', ${sql.raw("'{orders:read,messages:orders}'")}, now() - ${sql.raw(`interval '${ago}'`)})`,
    );
    const [stored] = rows<{ ms: string }>(await db.execute(sql`select (extract(epoch from authorized_at) * 1000)::bigint as ms from account.merchant_authorizations where grant_id = ${grantId}`));
    return { token: await t.token({ merchantId: m.id, grantId, scopes: ['orders:read', 'messages:orders'] }), authorizedAt: new Date(Number(stored!.ms)) };
  };
  const storedFloor = async () =>
    rows<{ floor_position: string | null; floor_for: Date | string | null }>(
      await db.execute(sql`select floor_position, floor_for from app_management.message_cursors where app_key = 'app_test' and merchant_id = ${m.id} and source = 'order'`),
    ).map((r) => ({ position: r.floor_position === null ? null : Number(r.floor_position), for: r.floor_for === null ? null : new Date(r.floor_for).getTime() }))[0];
  const SUB = 'subscription($after: MessageCursor) { orderEvents(after: $after) { id order { number } } }';
  /** What a subscription from the start of the stream (a cursor at position 0) receives. */
  const fromStart = async (token: string) => {
    const client = connectWs(t.url, token);
    const status = await t.gql<any>(token, '{ messageStream { acknowledgedCursor } }');
    const sub = subscribeWs(client, SUB, { after: status.data.messageStream.acknowledgedCursor });
    await wait(800);
    sub.stop();
    await client.dispose();
    return sub.received.map((r) => r.data?.orderEvents?.order?.number);
  };

  // Authorized an hour ago: the stream starts there (its cursor row is made by its first subscription).
  const hourAgo = await authorizeAgo('1 hour');
  expect(await fromStart(hourAgo.token)).toEqual([later.number]);
  expect(await storedFloor()).toEqual({ position: await positionOf(earlier.id), for: hourAgo.authorizedAt.getTime() });

  // Kept, not read again: a floor stored higher (here by hand, past the later order too) is the one that applies.
  await db.execute(sql`update app_management.message_cursors set floor_position = ${await positionOf(later.id)} where app_key = 'app_test' and merchant_id = ${m.id} and source = 'order'`);
  expect(await fromStart(hourAgo.token)).toEqual([]);

  // Another authorization (half an hour ago) finds its own floor, and keeps it in place of the other.
  const halfHourAgo = await authorizeAgo('30 minutes');
  expect(await fromStart(halfHourAgo.token)).toEqual([later.number]);
  expect(await storedFloor()).toEqual({ position: await positionOf(earlier.id), for: halfHourAgo.authorizedAt.getTime() });

  // One made a minute ago is not kept yet (a transaction begun before it could still commit an event): read each time.
  const minuteAgo = await authorizeAgo('1 minute');
  expect(await fromStart(minuteAgo.token)).toEqual([later.number]);
  expect(await storedFloor()).toEqual({ position: await positionOf(earlier.id), for: halfHourAgo.authorizedAt.getTime() });
});

test('the SSE endpoint refuses single-connection mode (PUT reservations, stream tokens) before reserving anything', async () => {
  const streamUrl = t.url.replace(/\/graphql$/, '/graphql/stream');
  const put = await fetch(streamUrl, { method: 'PUT' });
  expect(put.status).toBe(400);
  expect(((await put.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('BAD_REQUEST');
  const withToken = await fetch(streamUrl, { method: 'POST', headers: { 'x-graphql-event-stream-token': 'abc', 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
  expect(withToken.status).toBe(400);
  const patch = await fetch(streamUrl, { method: 'PATCH' });
  expect(patch.status).toBe(405);
});

test('a subscription with a fragment at its root fails alone: the socket and its other subscriptions stay open', async () => {
  const m = await shop();
  const client = connectWs(t.url, await t.token({ merchantId: m.id }));
  const live = subscribeWs(client, 'subscription { orderEvents { order { number } } }');
  await wait(300);
  const fragment = await overSocket(client, 'subscription { ... on Subscription { orderEvents { id } } }');
  expect(fragment.errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
  const order = await newOrder(m);
  const [event] = await live.waitFor(1);
  expect(event!.data!.orderEvents.order.number).toBe(order.number);
  live.stop();
  await client.dispose();
});

test('a reset of one topic re-seals the cursors of the other topics\' unacknowledged messages: acknowledging them does not acknowledge the replay', async () => {
  const m = await shop();
  const client = connectWs(t.url, m.token);
  const sub = subscribeWs(client, 'subscription { messages(topics: [ORDERS, PRODUCTS]) { id cursor topic reason } }');
  await wait(300);
  const before = new Date(Date.now() - 1).toISOString();
  await newOrder(m); // its CREATED event, then a product event (this order reserved stock)
  await createProduct(t, m.token, [{ stock: 5 }]);
  await sub.waitFor(2);
  await wait(300);
  const productMessages = () => sub.received.filter((r) => r.data?.messages?.topic === 'PRODUCTS');
  const firstProduct = productMessages().at(-1)!.data!.messages;

  // Replay the orders from before the order; nothing acknowledged yet.
  const reset = await t.gql(m.token, 'mutation($at: DateTime!) { resetMessageCursor(to: { time: $at, topics: [ORDERS] }) { acknowledgedCursor } }', { at: before });
  expect(reset.errors).toBeUndefined();
  // The product message is pushed again at once (not after the 30 s acknowledgement timeout), with a new cursor.
  const resealedOf = () => productMessages().find((r) => r.data!.messages.id === firstProduct.id && r.data!.messages.cursor !== firstProduct.cursor)?.data!.messages;
  const deadline = Date.now() + 5000;
  while (!resealedOf() && Date.now() < deadline) await wait(50);
  const resealed = resealedOf()!;
  expect(resealed.reason).toBe('REPUSH');
  const ack = await t.gql<any>(m.token, 'mutation($c: MessageCursor!) { acknowledgeMessages(upTo: $c) { topics { topic pending } } }', { c: resealed.cursor });
  expect(ack.errors).toBeUndefined();
  // The order event being replayed is still pending: the product message's cursor no longer covers it.
  expect(ack.data.acknowledgeMessages.topics.find((x: { topic: string }) => x.topic === 'ORDERS').pending).toBe(1);
  expect(ack.data.acknowledgeMessages.topics.find((x: { topic: string }) => x.topic === 'PRODUCTS').pending).toBe(0);
  sub.stop();
  await client.dispose();
});

test('a manual push requested while nobody listens reaches the next connection; its request is cleared once the push is sent', async () => {
  const m = await shop();
  const client = connectWs(t.url, m.token);
  const sub = subscribeWs(client, 'subscription { orderEvents { id cursor reason } }');
  await wait(300);
  await newOrder(m);
  const [first] = await sub.waitFor(1);
  const event = first!.data!.orderEvents;
  expect((await t.gql(m.token, 'mutation($c: MessageCursor!) { acknowledgeMessages(upTo: $c) { acknowledgedCursor } }', { c: event.cursor })).errors).toBeUndefined();
  sub.stop();
  await client.dispose();
  await wait(200);

  // Requested while nobody listens: it waits.
  const requested = await t.gql<any>(m.token, 'mutation($ids: [ID!]!) { redeliverMessages(ids: $ids) { queued } }', { ids: [event.id] });
  expect(requested.data.redeliverMessages.queued).toEqual([event.id]);
  const pendingRequests = async () =>
    rows<{ n: number | string }>(await t.platform.database.db.execute(sql`select count(*) as n from app_management.message_records where event_id = ${event.id} and redeliver_requested_at is not null`))[0]!.n;
  expect(Number(await pendingRequests())).toBe(1);

  const again = connectWs(t.url, m.token);
  const resumed = subscribeWs(again, 'subscription { orderEvents { id reason } }');
  const [manual] = await resumed.waitFor(1);
  expect(manual!.data!.orderEvents).toEqual({ id: event.id, reason: 'MANUAL' });
  const deadline = Date.now() + 3000;
  while (Number(await pendingRequests()) !== 0 && Date.now() < deadline) await wait(100);
  expect(Number(await pendingRequests())).toBe(0);
  resumed.stop();
  await again.dispose();
});

test('a manual push of a message never pushed (filtered out, then acknowledged) pushes it; its record lists every push', async () => {
  const m = await shop();
  const client = connectWs(t.url, m.token);
  const sub = subscribeWs(client, 'subscription { orderEvents(types: [PAID]) { id cursor type reason order { number } } }');
  await wait(300);
  const order = await newOrder(m);
  const paid = await t.gql<any>(m.token, 'mutation($id: ID!) { payOrder(input: { orderId: $id }) { order { status } } }', { id: order.id });
  expect(paid.errors).toBeUndefined();
  const [first] = await sub.waitFor(1);
  expect(first!.data!.orderEvents).toMatchObject({ type: 'PAID', reason: 'LIVE' });
  // The acknowledgement covers the CREATED event the filter left out: it was never pushed.
  expect((await t.gql(m.token, 'mutation($c: MessageCursor!) { acknowledgeMessages(upTo: $c) { acknowledgedCursor } }', { c: first!.data!.orderEvents.cursor })).errors).toBeUndefined();
  const [created] = rows<{ id: string }>(await t.platform.database.db.execute(sql`select id from "order".outbox_events where aggregate_id = ${order.id} and type = 'order.created'`));
  const requested = await t.gql<any>(m.token, 'mutation($ids: [ID!]!) { redeliverMessages(ids: $ids) { queued unknown } }', { ids: [created!.id] });
  expect(requested.data.redeliverMessages).toEqual({ queued: [created!.id], unknown: [] });

  // Asked for, it is pushed (MANUAL), on the open subscription.
  const [manual] = (await sub.waitFor(2)).slice(1);
  expect(manual!.data!.orderEvents).toMatchObject({ id: created!.id, type: 'CREATED', reason: 'MANUAL', order: { number: order.number } });
  // The request wrote the record (with the original payload); the push is a delivery of it.
  const listed = await t.gql<any>(m.token, '{ messageRecords(topics: [ORDERS]) { nodes { id type payload deliveries { reason attempt pushed } } } }');
  expect(listed.errors).toBeUndefined();
  const byId = new Map(listed.data.messageRecords.nodes.map((n: { id: string }) => [n.id, n]));
  expect(byId.get(created!.id)).toMatchObject({ type: 'order.created', payload: { orderId: order.id, status: 'PENDING_PAYMENT' } });
  const deliveries = (byId.get(created!.id) as { deliveries: { reason: string; attempt: number; pushed: any }[] }).deliveries;
  expect(deliveries.map((d) => [d.reason, d.attempt])).toEqual([['MANUAL', 1]]);
  expect(deliveries[0]!.pushed.data.orderEvents).toMatchObject({ id: created!.id, order: { number: order.number } });
  // The PAID event's record holds its one push.
  expect((byId.get(first!.data!.orderEvents.id) as { deliveries: { reason: string }[] }).deliveries.map((d) => d.reason)).toEqual(['LIVE']);
  sub.stop();
  await client.dispose();
});

test('SSE bodies are bounded and read only for an authorized caller; the gateway stays up', async () => {
  const m = await shop();
  const streamUrl = t.url.replace(/\/graphql$/, '/graphql/stream');
  const big = JSON.stringify({ query: `subscription { orderEvents { id } } #${'x'.repeat(2_000_000)}` });
  const anonymous = await fetch(streamUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: big });
  expect(anonymous.status).toBe(401);
  const tooLarge = await fetch(streamUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${m.token}` }, body: big });
  expect(tooLarge.status).toBe(413);
  expect(((await tooLarge.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(/too large/);
  expect((await fetch(new URL('/healthz', t.url))).status).toBe(200);
});

test('an SSE subscription whose client goes away is released at once: its stream closes and stops being counted', async () => {
  const m = await shop();
  const streamUrl = t.url.replace(/\/graphql$/, '/graphql/stream');
  const channel = t.platform.gateway.channel!;
  const before = channel.size;
  const abort = new AbortController();
  const response = await fetch(streamUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${m.token}` },
    body: JSON.stringify({ query: 'subscription { orderEvents { id } }' }),
    signal: abort.signal,
  });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  await reader.read(); // the stream's first bytes: the subscription is open
  for (let i = 0; i < 50 && channel.size === before; i++) await wait(20);
  expect(channel.size).toBe(before + 1);
  abort.abort();
  const deadline = Date.now() + 2_000;
  while (channel.size !== before && Date.now() < deadline) await wait(20);
  expect(channel.size).toBe(before);
});

test('over a WebSocket, documents past the token limit fail alone, and one connection runs at most 100 operations', async () => {
  const m = await shop();
  const client = connectWs(t.url, m.token);
  const live = subscribeWs(client, 'subscription { orderEvents { order { number } } }');
  await wait(300);
  const fields = Array.from({ length: 1100 }, (_, i) => `a${i}: __typename`).join(' ');
  const longQuery = await overSocket(client, `{ ${fields} }`);
  expect(longQuery.errors![0]!.extensions!.code).toBe('GRAPHQL_PARSE_FAILED');
  const longSubscription = await overSocket(client, `subscription { orderEvents(types: [${Array(3100).fill('CREATED').join(', ')}]) { id } }`);
  expect(longSubscription.errors![0]!.extensions!.code).toBe('GRAPHQL_PARSE_FAILED');
  const order = await newOrder(m);
  const [event] = await live.waitFor(1);
  expect(event!.data!.orderEvents.order.number).toBe(order.number); // the socket and its subscription live on

  const more = Array.from({ length: 99 }, () => subscribeWs(client, 'subscription { orderEvents { id } }'));
  await wait(500);
  const refused = await overSocket(client, 'subscription { orderEvents { id } }');
  expect(refused.errors![0]!.extensions!.code).toBe('BAD_REQUEST');
  expect(refused.errors![0]!.message).toMatch(/100 operations/);
  for (const sub of more) sub.stop();
  live.stop();
  await client.dispose();
});
