/**
 * API validity: operators take fields of the API offline (for every app or listed ones, now or in a
 * planned window) and bring them back; a request that selects one gets null and API_OFFLINE at its
 * path before any subgraph is asked for it, within APP_ACCESS_CACHE_MS on the gateway.
 */
import crypto from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import type http from 'node:http';
import { mintOperatorToken } from '../core/tokens.js';
import { inArray } from 'drizzle-orm';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { apps } from '../subgraphs/app-management/tables.js';
import { adjustableClock } from './helpers/clock.js';
import { createMerchant, createProduct, placeOrder } from './helpers/factories.js';
import { connectWs, subscribeWs, type Collector } from './helpers/messages.js';
import { ALL_SCOPES, TEST_APP_KEY, startTestPlatform, type TestPlatform } from './helpers/platform.js';

const clock = adjustableClock();
let t: TestPlatform;
let shop: Awaited<ReturnType<typeof createMerchant>>;
let skuId: string;
/** Another registered app, holding every scope, that nothing is offline for unless a test says so. */
let otherApp: string;

/** Requests each subgraph server received, observed from outside (Node's own HTTP server channel). */
const received = new Map<number, string[]>();
const onRequest = (message: unknown) => {
  const { request, server } = message as { request: http.IncomingMessage; server: http.Server };
  const port = (server.address() as { port: number } | null)?.port;
  if (port !== undefined) received.set(port, [...(received.get(port) ?? []), request.url ?? '']);
};

/** Past the gateway's cache of the offline list (APP_ACCESS_CACHE_MS), without sleeping. */
const pastCache = () => clock.advance(t.platform.config.appAccessCacheMs + 1);
const operatorId = crypto.randomUUID();
/** An operator's token, fresh on the platform's clock (tests move it by hours). */
const operator = () => mintOperatorToken(t.platform.keys, { issuer: t.platform.config.publicUrl, audience: t.platform.config.apiAudience, operatorId, clock });
const tokenFor = (merchantId: string | null, appKey = TEST_APP_KEY) => t.token({ merchantId, appKey, ttlSeconds: 7200 });

beforeAll(async () => {
  diagnostics.subscribe('http.server.request.start', onRequest);
  t = await startTestPlatform({ clock });
  shop = await createMerchant(t, 'Offline Shop');
  skuId = (await createProduct(t, shop.token, [{ stock: 100 }])).skus[0]!.id;
  const store = createAppManagementStore(t.platform.database.db);
  // The gateway refuses operator tokens of unknown operators: this one is real.
  await store.createOperator({ id: operatorId, email: `validity-${operatorId}@portico.example`, name: 'Validity Operator', password: crypto.randomBytes(18).toString('base64url') });
  otherApp = `app_${crypto.randomBytes(5).toString('hex')}`;
  const developer = await store.createDeveloper({ kind: 'COMPANY', name: 'Other ISV', email: `${otherApp}@example.com` });
  await store.createApp({ key: otherApp, name: otherApp, developerId: developer.id, status: 'LIVE' });
  const pkg = await store.createPackage({ name: `pkg ${otherApp}`, description: 'test', tier: 'FREE', scopes: ALL_SCOPES });
  await store.grantPackage('system:tests', { appKey: otherApp, packageId: pkg.id, reason: 'test' });
  // This file tests offline APIs, not flow control: a bucket its many calls in a row never empty
  // (a slow run had placeOrder throttled, 37 points asked and 6 left).
  await t.platform.database.db.update(apps).set({ bucketSizeOverride: 100_000, restoreRateOverride: 100_000 }).where(inArray(apps.key, [TEST_APP_KEY, otherApp]));
});
afterAll(async () => {
  diagnostics.unsubscribe('http.server.request.start', onRequest);
  await t.stop();
});

const TAKE_OFFLINE = `mutation($input: TakeApiOfflineInput!) {
  takeApiOffline(input: $input) { id coordinate appKeys reason startsAt endsAt active takenBy }
}`;
const BRING_ONLINE = 'mutation($input: BringApiOnlineInput!) { bringApiOnline(input: $input) { id active restoredAt restoredBy restoreReason } }';

async function takeOffline(input: Record<string, unknown>) {
  const res = await t.gql<{ takeApiOffline: { id: string; active: boolean; appKeys: string[] | null } }>(await operator(), TAKE_OFFLINE, { input });
  expect(res.errors).toBeUndefined();
  return res.data!.takeApiOffline;
}
async function bringOnline(id: string, reason = 'fixed') {
  const res = await t.gql(await operator(), BRING_ONLINE, { input: { id, reason } });
  expect(res.errors).toBeUndefined();
  return res.data!.bringApiOnline;
}
async function newOrder() {
  const placed = await placeOrder(t, shop.token, [{ skuId, quantity: 1 }]);
  expect(placed.errors).toBeUndefined();
  return placed.data!.placeOrder.order;
}

const ORDER = 'query($id: ID!) { order(id: $id) { number status shippingAddress { name city } lines { quantity } } }';

test('an offline field comes back null with API_OFFLINE and the reason at its path; the rest of the answer is intact', async () => {
  await newOrder();
  const order = await newOrder();
  const api = await takeOffline({ coordinate: 'Order.shippingAddress', reason: 'Address service maintenance' });
  expect(api.active).toBe(true);
  await pastCache();
  const token = await tokenFor(shop.id);
  const res = await t.gql(token, ORDER, { id: order.id });
  expect(res.status).toBe(200);
  expect(res.data).toEqual({ order: { number: order.number, status: 'PENDING_PAYMENT', shippingAddress: null, lines: [{ quantity: 1 }] } });
  expect(res.errors).toEqual([
    {
      message: 'Order.shippingAddress is offline: Address service maintenance',
      locations: [{ line: 1, column: 50 }],
      path: ['order', 'shippingAddress'],
      extensions: { code: 'API_OFFLINE', coordinate: 'Order.shippingAddress', reason: 'Address service maintenance', offlineUntil: null },
    },
  ]);
  // In a list, each occurrence has its own path; through a fragment and an alias too.
  const list = await t.gql(token, '{ orders(first: 2) { nodes { number ...Where } } } fragment Where on Order { to: shippingAddress { city } }');
  expect(list.data!.orders.nodes).toHaveLength(2);
  for (const node of list.data!.orders.nodes) expect(node.to).toBeNull();
  expect(list.errors!.map((e) => e.path)).toEqual([
    ['orders', 'nodes', 0, 'to'],
    ['orders', 'nodes', 1, 'to'],
  ]);

  await bringOnline(api.id);
  await pastCache();
  const back = await t.gql(token, ORDER, { id: order.id });
  expect(back.errors).toBeUndefined();
  expect(back.data!.order.shippingAddress).toMatchObject({ city: 'Springfield' });
});

test('a non-null offline field nulls its parent, as GraphQL propagates a null', async () => {
  const order = await newOrder();
  const api = await takeOffline({ coordinate: 'Order.number', reason: 'Renumbering' });
  await pastCache();
  const res = await t.gql(await tokenFor(shop.id), 'query($id: ID!) { order(id: $id) { id number } merchant { name } }', { id: order.id });
  expect(res.data).toEqual({ order: null, merchant: { name: 'Offline Shop' } });
  expect(res.errors).toHaveLength(1);
  expect(res.errors![0]).toMatchObject({ path: ['order', 'number'], extensions: { code: 'API_OFFLINE' } });
  await bringOnline(api.id);
  await pastCache();
});

test('an offline root mutation changes nothing, and the order subgraph receives no request for it', async () => {
  const order = await newOrder();
  const before = await t.gql(shop.token, 'query($id: ID!) { order(id: $id) { status updatedAt statusHistory { to } } }', { id: order.id });
  expect(before.data!.order.status).toBe('PENDING_PAYMENT');
  const api = await takeOffline({ coordinate: 'Mutation.cancelOrder', reason: 'Cancellations are paused for the sale' });
  await pastCache();
  const token = await tokenFor(shop.id);
  const orderPort = t.platform.subgraphs.order.port;
  received.set(orderPort, []);
  const res = await t.gql(token, 'mutation($id: ID!) { cancelOrder(input: { orderId: $id, reason: "changed my mind" }) { order { id status } } }', { id: order.id });
  const toOrderSubgraph = received.get(orderPort)!.length;
  // cancelOrder's payload is non-null: the null reaches data itself.
  expect(res.data).toBeNull();
  expect(res.errors).toEqual([expect.objectContaining({ path: ['cancelOrder'], message: 'Mutation.cancelOrder is offline: Cancellations are paused for the sale', extensions: expect.objectContaining({ code: 'API_OFFLINE' }) })]);
  expect(toOrderSubgraph).toBe(0);
  const after = await t.gql(token, 'query($id: ID!) { order(id: $id) { status updatedAt statusHistory { to } } }', { id: order.id });
  expect(after.data).toEqual(before.data);
  expect(after.data!.order.status).toBe('PENDING_PAYMENT');

  // Brought back: the same mutation runs (and reaches the subgraph) once the cache has passed.
  await bringOnline(api.id);
  await pastCache();
  const cancelled = await t.gql(token, 'mutation($id: ID!) { cancelOrder(input: { orderId: $id, reason: "changed my mind" }) { order { status } } }', { id: order.id });
  expect(cancelled.errors).toBeUndefined();
  expect(cancelled.data!.cancelOrder.order.status).toBe('CANCELLED');
  expect(received.get(orderPort)!.length).toBeGreaterThan(0);
});

test('offline for listed apps only: another app keeps the field', async () => {
  const api = await takeOffline({ coordinate: 'Query.merchant', appKeys: [otherApp], reason: 'Your integration is being migrated' });
  expect(api.appKeys).toEqual([otherApp]);
  await pastCache();
  const listed = await t.gql(await tokenFor(shop.id, otherApp), '{ merchant { name } }');
  expect(listed.data).toEqual({ merchant: null });
  expect(listed.errors![0]).toMatchObject({ path: ['merchant'], extensions: { code: 'API_OFFLINE', reason: 'Your integration is being migrated' } });
  const unlisted = await t.gql(await tokenFor(shop.id), '{ merchant { name } }');
  expect(unlisted.errors).toBeUndefined();
  expect(unlisted.data).toEqual({ merchant: { name: 'Offline Shop' } });
  // Operators are never affected by what is offline for apps.
  await bringOnline(api.id);
  await pastCache();
});

test('a planned window: available before it, offline during it (apiCatalog says so), available again after it', async () => {
  const start = clock.now() + 3_600_000;
  const end = start + 3_600_000;
  const api = await takeOffline({ coordinate: 'Query.products', reason: 'Catalog reindex', startsAt: new Date(start).toISOString(), endsAt: new Date(end).toISOString() });
  expect(api.active).toBe(false);
  await pastCache();
  const products = async () => t.gql(await tokenFor(shop.id), '{ products(first: 1) { nodes { id } } }');
  const catalogEntry = async () => {
    const res = await t.gql(await tokenFor(shop.id), '{ apiCatalog { fields { coordinate available availability { status reason startsAt endsAt } } } }');
    expect(res.errors).toBeUndefined();
    return res.data!.apiCatalog.fields.find((f: { coordinate: string }) => f.coordinate === 'Query.products');
  };

  expect((await products()).errors).toBeUndefined();
  expect(await catalogEntry()).toEqual({
    coordinate: 'Query.products',
    available: true,
    availability: { status: 'PLANNED', reason: 'Catalog reindex', startsAt: new Date(start).toISOString(), endsAt: new Date(end).toISOString() },
  });

  await clock.advance(3_600_000 + 1);
  const during = await products();
  expect(during.data).toBeNull(); // products is non-null
  expect(during.errors![0]).toMatchObject({ path: ['products'], extensions: { code: 'API_OFFLINE', offlineUntil: new Date(end).toISOString() } });
  expect((await catalogEntry()).availability.status).toBe('OFFLINE');

  await clock.advance(3_600_000);
  expect((await products()).errors).toBeUndefined();
  expect((await catalogEntry()).availability).toEqual({ status: 'AVAILABLE', reason: null, startsAt: null, endsAt: null });
});

test('operators list what is offline now and planned; every change is in the audit log with actor and reason', async () => {
  const now = await takeOffline({ coordinate: 'Query.scopes', reason: 'Now' });
  const planned = await takeOffline({ coordinate: 'Query.permissionPackages', reason: 'Later', startsAt: new Date(clock.now() + 86_400_000).toISOString() });
  const listed = await t.gql(await operator(), '{ offlineApis { id coordinate active } }');
  expect(listed.errors).toBeUndefined();
  expect(listed.data!.offlineApis).toEqual(
    expect.arrayContaining([
      { id: now.id, coordinate: 'Query.scopes', active: true },
      { id: planned.id, coordinate: 'Query.permissionPackages', active: false },
    ]),
  );
  const restored = await bringOnline(now.id, 'Done early');
  expect(restored).toMatchObject({ active: false, restoreReason: 'Done early' });
  expect((await t.gql(await operator(), BRING_ONLINE, { input: { id: now.id, reason: 'again' } })).errors![0]!.extensions!.code).toBe('CONFLICT');
  const afterRestore = (await t.gql(await operator(), '{ offlineApis { id } }')).data!.offlineApis.map((a: { id: string }) => a.id);
  expect(afterRestore).not.toContain(now.id);
  expect(afterRestore).toContain(planned.id);
  await bringOnline(planned.id);

  const audit = await t.gql(await operator(), '{ auditLog(first: 20) { nodes { actor action targetId reason } } }');
  const entries = audit.data!.auditLog.nodes.filter((e: { targetId: string }) => e.targetId === 'Query.scopes');
  expect(entries).toEqual([
    { actor: expect.stringMatching(/^operator:/), action: 'api.brought_online', targetId: 'Query.scopes', reason: 'Done early' },
    { actor: expect.stringMatching(/^operator:/), action: 'api.taken_offline', targetId: 'Query.scopes', reason: 'Now' },
  ]);
});

test('a coordinate that is not a field of the API, an unknown app or a bad window is BAD_USER_INPUT, and nothing is written', async () => {
  const before = (await t.gql(await operator(), '{ offlineApis(includeEnded: true, first: 500) { id } }')).data!.offlineApis.length;
  for (const [input, field] of [
    [{ coordinate: 'Mutation.cancelOrdr', reason: 'x' }, 'coordinate'],
    [{ coordinate: 'Query.appAccess', reason: 'internal, not part of the API' }, 'coordinate'],
    [{ coordinate: 'cancelOrder', reason: 'x' }, 'coordinate'],
    [{ coordinate: 'Query.products', appKeys: ['no_such_app'], reason: 'x' }, 'appKeys'],
    [{ coordinate: 'Query.products', appKeys: [], reason: 'x' }, 'appKeys'],
    [{ coordinate: 'Query.products', reason: 'x', endsAt: new Date(clock.now() - 1000).toISOString() }, 'endsAt'],
    [{ coordinate: 'Query.products', reason: '  ' }, 'reason'],
  ] as const) {
    const res = await t.gql(await operator(), TAKE_OFFLINE, { input });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  }
  expect((await t.gql(await operator(), '{ offlineApis(includeEnded: true, first: 500) { id } }')).data!.offlineApis).toHaveLength(before);
});

test('only operators take APIs offline, bring them back or list them', async () => {
  const appToken = await tokenFor(null);
  const take = await t.gql(appToken, TAKE_OFFLINE, { input: { coordinate: 'Query.products', reason: 'mine now' } });
  expect(take.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  expect((await t.gql(appToken, '{ offlineApis { id } }')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  const bring = await t.gql(await tokenFor(shop.id), BRING_ONLINE, { input: { id: crypto.randomUUID(), reason: 'x' } });
  expect(bring.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
});

test('subscriptions: an offline field selected in an event is null with API_OFFLINE, no subgraph is asked for it, and it comes back on open subscriptions', async () => {
  // The clock has moved by hours: the merchant's token of beforeAll has expired.
  const merchantToken = await tokenFor(shop.id);
  const newPaidLater = async () => {
    const placed = await placeOrder(t, merchantToken, [{ skuId, quantity: 1 }]);
    expect(placed.errors).toBeUndefined();
    return placed.data!.placeOrder.order as { id: string; number: string };
  };
  const [first, second] = [await newPaidLater(), await newPaidLater()];
  const address = await takeOffline({ coordinate: 'Order.shippingAddress', reason: 'Address service maintenance' });
  const entity = await takeOffline({ coordinate: 'OrderEvent.order', appKeys: [otherApp], reason: 'Your integration is being migrated' });
  await pastCache();
  const SUBSCRIPTION = 'subscription { orderEvents(types: [PAID]) { type status order { number shippingAddress { city } } } }';
  const full = connectWs(t.url, merchantToken);
  // Without orders:read_pii, a shippingAddress the subgraph was asked for would come back FORBIDDEN:
  // API_OFFLINE alone shows that no sub-query asked for it.
  const noPii = connectWs(t.url, await t.token({ merchantId: shop.id, scopes: ALL_SCOPES.filter((s) => s !== 'orders:read_pii'), ttlSeconds: 7200 }));
  const other = connectWs(t.url, await tokenFor(shop.id, otherApp));
  const subs = { full: subscribeWs(full, SUBSCRIPTION), noPii: subscribeWs(noPii, SUBSCRIPTION), other: subscribeWs(other, SUBSCRIPTION) };
  /** The first push of the PAID event of an order (unacknowledged events may be pushed again). */
  const paidEventOf = async (c: Collector, number: string) => {
    for (let n = 1; ; n++) {
      const received = await c.waitFor(n);
      const found = received.find((r) => r.data?.orderEvents?.order?.number === number);
      if (found) return found;
    }
  };
  const pay = async (orderId: string) => {
    const res = await t.gql(merchantToken, 'mutation($id: ID!) { payOrder(input: { orderId: $id }) { order { status } } }', { id: orderId });
    expect(res.errors).toBeUndefined();
  };
  try {
    await new Promise((r) => setTimeout(r, 300)); // the subscriptions open
    await pay(first.id);
    const offlineError = {
      message: 'Order.shippingAddress is offline: Address service maintenance',
      locations: [{ line: 1, column: 72 }],
      path: ['orderEvents', 'order', 'shippingAddress'],
      extensions: { code: 'API_OFFLINE', coordinate: 'Order.shippingAddress', reason: 'Address service maintenance', offlineUntil: null },
    };
    for (const c of [subs.full, subs.noPii]) {
      const event = await paidEventOf(c, first.number);
      expect(event.data).toEqual({ orderEvents: { type: 'PAID', status: 'PAID', order: { number: first.number, shippingAddress: null } } });
      expect(event.errors).toEqual([offlineError]);
    }
    // Offline for the other app only: its events have no order (no sub-query at all), the event's own fields intact.
    const [otherEvent] = await subs.other.waitFor(1);
    expect(otherEvent!.data).toEqual({ orderEvents: { type: 'PAID', status: 'PAID', order: null } });
    expect(otherEvent!.errors).toEqual([expect.objectContaining({ path: ['orderEvents', 'order'], extensions: expect.objectContaining({ code: 'API_OFFLINE', coordinate: 'OrderEvent.order' }) })]);

    // Brought back: the next event on the same open subscriptions has the field again.
    await bringOnline(address.id);
    await bringOnline(entity.id);
    await pastCache();
    await pay(second.id);
    const back = await paidEventOf(subs.full, second.number);
    expect(back.errors).toBeUndefined();
    expect(back.data!.orderEvents.order).toEqual({ number: second.number, shippingAddress: { city: 'Springfield' } });
    const askedAgain = await paidEventOf(subs.noPii, second.number);
    expect(askedAgain.errors).toEqual([expect.objectContaining({ path: ['orderEvents', 'order', 'shippingAddress'], extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);
    expect(await paidEventOf(subs.other, second.number)).toMatchObject({ data: { orderEvents: { order: { number: second.number } } } });
    for (const c of Object.values(subs)) expect(c.completed).toBe(false);
  } finally {
    for (const c of Object.values(subs)) c.stop();
    await Promise.all([full.dispose(), noPii.dispose(), other.dispose()]);
  }
});
