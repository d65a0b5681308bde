/**
 * The gateway's request pipeline owns both ends of a concern: the request id is read on the way in
 * and goes with every operation the gateway sends to a subgraph for that request (the query plan's
 * fetches, batched ones, the message channel's entity sub-queries, straight or through the
 * gateway). WebSocket and SSE connections run the same pipeline on their own HTTP request (the
 * upgrade, the event stream's request), at connection and at every re-check.
 *
 * What the gateway sends is read off undici's diagnostics channels (the gateway's subgraph client
 * is undici), so these are the real HTTP requests, headers and bodies as they left for the subgraph.
 */
import crypto from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import net from 'node:net';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient, type Client } from 'graphql-ws';
import { decodeJwt } from 'jose';
import WebSocket from 'ws';
import { recordEvents } from '../messages/outbox.js';
import { composePipeline } from '../gateway/pipeline.js';
import { useRequestId } from '../gateway/plugins/request-id.js';
import type { GatewayPlugin } from '../gateway/plugins/types.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { outboxEvents } from '../subgraphs/order/tables.js';
import { createMerchant, createProduct, merchantWithOrder, placeOrder } from './helpers/factories.js';
import { paidEvent, subscribeWs, wsUrl, type Collector, type Received } from './helpers/messages.js';
import { startTestPlatform, type TestPlatform } from './helpers/platform.js';

/** One HTTP request the gateway sent to a subgraph, as sent. */
interface SentRequest {
  subgraph: string;
  headers: Record<string, string>;
  body: string;
}

let t: TestPlatform;
const sent: SentRequest[] = [];
const inFlight = new WeakMap<object, SentRequest>();
let subgraphByOrigin: Map<string, string>;

const onCreate = (message: unknown) => {
  const { request } = message as { request: { origin: string | URL; headers: string[] } };
  const subgraph = subgraphByOrigin?.get(new URL(String(request.origin)).origin);
  if (!subgraph) return; // the test's own calls to the gateway
  const headers: Record<string, string> = {};
  for (let i = 0; i < request.headers.length; i += 2) headers[request.headers[i]!.toLowerCase()] = request.headers[i + 1]!;
  const entry = { subgraph, headers, body: '' };
  sent.push(entry);
  inFlight.set(request, entry);
};
const onBodyChunk = (message: unknown) => {
  const { request, chunk } = message as { request: object; chunk: Uint8Array | string };
  const entry = inFlight.get(request);
  if (entry) entry.body += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
};

beforeAll(async () => {
  // A short access cache, so that a suspended app's open subscription is re-checked within a second.
  t = await startTestPlatform({ extraEnv: { APP_ACCESS_CACHE_MS: '300', MESSAGE_ACK_TIMEOUT_MS: '60000' } });
  subgraphByOrigin = new Map(Object.entries(t.platform.subgraphs).map(([name, subgraph]) => [new URL(subgraph.url).origin, name]));
  diagnostics.subscribe('undici:request:create', onCreate);
  diagnostics.subscribe('undici:request:bodyChunkSent', onBodyChunk);
});
afterAll(async () => {
  diagnostics.unsubscribe('undici:request:create', onCreate);
  diagnostics.unsubscribe('undici:request:bodyChunkSent', onBodyChunk);
  await t?.stop();
});

/** The operations of one sent request: its header's caller and request id, or (a request shared by several callers) each item's. */
function operationsOf(request: SentRequest): { merchantId: string | null; kind: unknown; requestId: string | undefined }[] {
  if (request.headers['x-portico-batch'] === 'contexts') {
    const items = JSON.parse(request.body) as { caller: { sub?: string; kind: string }; requestId: string | null }[];
    return items.map((item) => ({ merchantId: item.caller.sub ?? null, kind: item.caller.kind, requestId: item.requestId ?? undefined }));
  }
  const token = request.headers['x-portico-context'];
  const claims = token ? decodeJwt(token) : {};
  return [{ merchantId: (claims.sub as string | undefined) ?? null, kind: claims.kind, requestId: request.headers['x-request-id'] }];
}

/** Requests sent for callers: not the gateway's own lookups (app access, authorizations), which it makes as the system caller. */
const forCallers = (requests: SentRequest[]) => requests.filter((r) => operationsOf(r).some((o) => o.kind !== 'system'));
const entitySubQueries = (requests: SentRequest[]) => requests.filter((r) => r.body.includes('PorticoMessageEntities'));

function post(token: string, query: string, headers: Record<string, string> = {}) {
  return fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers }, body: JSON.stringify({ query }) });
}

/** A graphql-ws client whose upgrade request carries `headers`, and `connectionParams` if given. */
function connect(options: { headers?: Record<string, string>; connectionParams?: Record<string, unknown> }): Client {
  const headers = options.headers ?? {};
  class UpgradeWithHeaders extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  return createClient({
    url: wsUrl(t.url),
    webSocketImpl: UpgradeWithHeaders,
    ...(options.connectionParams ? { connectionParams: options.connectionParams } : {}),
    lazy: true,
    retryAttempts: 0,
  });
}

/** One query over a connection: its result, or how the socket was closed. */
async function overSocket(client: Client, query: string): Promise<Received & { closed?: { code: number; reason: string } }> {
  const one = subscribeWs(client, query);
  await one.waitForEnd();
  const error = one.error as { code?: number; reason?: string } | undefined;
  if (error && typeof error.code === 'number') return { closed: { code: error.code, reason: error.reason ?? '' } };
  if (error) throw new Error(`unexpected error: ${JSON.stringify(error)}`);
  return one.received[0]!;
}

/** Waits until the gateway has the subscriptions open (their first read of the stream done). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

const ORDER_PAGE = '{ orders(first: 10) { edges { node { number lines { quantity product { title } sku { code } } merchant { name } } } } }';

describe('the request id, from the client to every subgraph', () => {
  test('a client\'s request id is on the answer and on every operation sent to a subgraph for it, a batched fetch included; an unusable one is replaced', async () => {
    const { merchant } = await merchantWithOrder(t);
    sent.length = 0;
    const page = await post(merchant.token, ORDER_PAGE, { 'x-request-id': 'order-page-0001' });
    expect(page.status).toBe(200);
    expect(((await page.json()) as { errors?: unknown }).errors).toBeUndefined();
    expect(page.headers.get('x-request-id')).toBe('order-page-0001');
    const forPage = forCallers(sent);
    // The orders (order), their products and SKUs (product), their merchant (account).
    expect(new Set(forPage.map((r) => r.subgraph))).toEqual(new Set(['order', 'product', 'account']));
    // The products' and the SKUs' entity fetches go to the product subgraph together, as one batch.
    expect(forPage.some((r) => r.subgraph === 'product' && Array.isArray(JSON.parse(r.body)))).toBe(true);
    for (const request of forPage) expect(operationsOf(request).map((o) => o.requestId)).toEqual(['order-page-0001']);

    sent.length = 0;
    const unusable = await post(merchant.token, '{ merchant { name } }', { 'x-request-id': 'has spaces in it' });
    const given = unusable.headers.get('x-request-id');
    expect(given).toMatch(/^[0-9a-f-]{36}$/);
    expect(forCallers(sent).length).toBeGreaterThan(0);
    for (const request of forCallers(sent)) expect(operationsOf(request).map((o) => o.requestId)).toEqual([given]);
  });

  test('over a WebSocket the upgrade\'s request id is the connection\'s: on its queries and on its events\' entity sub-queries, straight to a subgraph or through the gateway; over SSE the stream request\'s', async () => {
    const m = await createMerchant(t);
    const product = await createProduct(t, m.token, [{ stock: 100 }]);
    const client = connect({ headers: { 'x-request-id': 'ws-upgrade-0001' }, connectionParams: { authorization: `Bearer ${m.token}` } });

    sent.length = 0;
    expect((await overSocket(client, '{ merchant { name } }')).data).toEqual({ merchant: { name: m.name } });
    expect(forCallers(sent).length).toBeGreaterThan(0);
    for (const request of forCallers(sent)) expect(operationsOf(request).map((o) => o.requestId)).toEqual(['ws-upgrade-0001']);

    // One selection the order subgraph answers alone (sent straight to it), one that reaches into product (through the gateway).
    const straight = subscribeWs(client, 'subscription { orderEvents { type order { number status } } }');
    const across = subscribeWs(client, 'subscription { orderEvents { type order { number lines { product { title } } } } }');
    const sse = createSseClient({ url: t.url.replace(/\/graphql$/, '/graphql/stream'), headers: { authorization: `Bearer ${m.token}`, 'x-request-id': 'sse-stream-0001' }, retryAttempts: 0 });
    const overSse: Received[] = [];
    const stopSse = sse.subscribe({ query: 'subscription { orderEvents { type order { number } } }' }, { next: (r) => void overSse.push(r as Received), error: () => undefined, complete: () => undefined });
    await settle();
    sent.length = 0;
    const placed = await placeOrder(t, m.token, [{ skuId: product.skus[0]!.id, quantity: 1 }]);
    expect(placed.errors).toBeUndefined();
    const number = placed.data!.placeOrder.order.number;
    expect((await straight.waitFor(1))[0]!.data).toEqual({ orderEvents: { type: 'CREATED', order: { number, status: 'PENDING_PAYMENT' } } });
    expect((await across.waitFor(1))[0]!.data).toEqual({ orderEvents: { type: 'CREATED', order: { number, lines: [{ product: { title: 'Test product' } }] } } });
    for (let i = 0; i < 100 && overSse.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(overSse[0]?.data).toEqual({ orderEvents: { type: 'CREATED', order: { number } } });

    const subQueries = entitySubQueries(sent);
    // The order subgraph for each subscription (the selection within it, and the start of the one across), product for the one across.
    expect(new Set(subQueries.map((r) => r.subgraph))).toEqual(new Set(['order', 'product']));
    const ids = subQueries.flatMap((r) => operationsOf(r).map((o) => o.requestId));
    expect(new Set(ids)).toEqual(new Set(['ws-upgrade-0001', 'sse-stream-0001']));
    expect(ids.filter((id) => id === 'ws-upgrade-0001').length).toBeGreaterThanOrEqual(3);
    straight.stop();
    across.stop();
    stopSse();
    sse.dispose();
    await client.dispose();
  });

  test('events of two merchants resolved in the same moment (which the gateway may send in one request shared by both callers) each go with their own connection\'s request id', async () => {
    const shops = [await merchantWithOrder(t), await merchantWithOrder(t)];
    const clients = shops.map(({ merchant }, i) => connect({ headers: { 'x-request-id': `ws-shop-${i}-0001` }, connectionParams: { authorization: `Bearer ${merchant.token}` } }));
    const subscriptions: Collector[] = clients.map((client) => subscribeWs(client, 'subscription { orderEvents(types: [PAID]) { type order { number status } } }'));
    await settle();
    sent.length = 0;
    // Both merchants' events in one transaction: the channel resolves them in the same turn.
    await t.platform.database.db.transaction((tx) => recordEvents(tx, outboxEvents, shops.map(({ merchant, order }) => paidEvent(merchant.id, order, 'same moment'))));
    for (const [i, subscription] of subscriptions.entries()) {
      expect((await subscription.waitFor(1))[0]!.data).toEqual({ orderEvents: { type: 'PAID', order: { number: shops[i]!.order.number, status: 'PENDING_PAYMENT' } } });
    }
    const operations = entitySubQueries(sent).flatMap(operationsOf);
    for (const [i, { merchant }] of shops.entries()) {
      const ofShop = operations.filter((o) => o.merchantId === merchant.id);
      expect(ofShop.length).toBeGreaterThan(0);
      for (const operation of ofShop) expect(operation.requestId).toBe(`ws-shop-${i}-0001`);
    }
    for (const subscription of subscriptions) subscription.stop();
    for (const client of clients) await client.dispose();
  });
});

describe('a connection runs the pipeline on its own request', () => {
  test('a WebSocket upgrade\'s headers alone can authorize or refuse it; a token in the connection parameters stands before its Authorization header', async () => {
    const m = await createMerchant(t);
    const good = `Bearer ${m.token}`;
    const bad = 'Bearer not-a-token';
    const unknownApp = `Bearer ${await t.token({ merchantId: m.id, appKey: 'app_nobody' })}`;
    const attempts = {
      headerOnly: connect({ headers: { authorization: good } }),
      badHeader: connect({ headers: { authorization: bad } }),
      unknownAppHeader: connect({ headers: { authorization: unknownApp } }),
      badHeaderGoodParams: connect({ headers: { authorization: bad }, connectionParams: { authorization: good } }),
      goodHeaderBadParams: connect({ headers: { authorization: good }, connectionParams: { authorization: bad } }),
    };
    const results = Object.fromEntries(await Promise.all(Object.entries(attempts).map(async ([name, client]) => [name, await overSocket(client, '{ merchant { name } }')] as const)));
    expect(results.headerOnly!.data).toEqual({ merchant: { name: m.name } });
    expect(results.badHeader!.closed?.code).toBe(4401);
    // Refused further down the pipeline (app authorization), on the upgrade's headers.
    expect(results.unknownAppHeader!.closed).toEqual({ code: 4403, reason: 'App app_nobody is not registered' });
    expect(results.badHeaderGoodParams!.data).toEqual({ merchant: { name: m.name } });
    expect(results.goodHeaderBadParams!.closed?.code).toBe(4401);
    for (const client of Object.values(attempts)) await client.dispose();
  });

  test('an open subscription authorized by its upgrade\'s header is re-checked on that same request: a suspended app\'s subscription ends as suspended', async () => {
    const apps = createAppManagementStore(t.platform.database.db);
    const key = `app_upgrade_${crypto.randomBytes(4).toString('hex')}`;
    const developer = await apps.createDeveloper({ kind: 'COMPANY', name: 'Upgrade ISV', email: `${key}@example.com`, verificationStatus: 'VERIFIED' });
    await apps.createApp({ key, name: key, developerId: developer.id, status: 'LIVE' });
    const pkg = await apps.createPackage({ name: `Messages ${key}`, description: 'test', tier: 'FREE', scopes: ['orders:read', 'messages:orders'] });
    await apps.grantPackage('system:tests', { appKey: key, packageId: pkg.id, reason: 'test' });
    const { merchant } = await merchantWithOrder(t);
    const token = await t.token({ merchantId: merchant.id, appKey: key, scopes: ['orders:read', 'messages:orders'] });
    const client = connect({ headers: { authorization: `Bearer ${token}` } });
    const subscription = subscribeWs(client, 'subscription { orderEvents { type } }');
    // The order placed before is pushed first: the subscription is open.
    expect((await subscription.waitFor(1))[0]!.data).toEqual({ orderEvents: { type: 'CREATED' } });
    await apps.setAppStatus('operator:test', { appKey: key, status: 'SUSPENDED', reason: 'test' });
    await subscription.waitForEnd(5000);
    const last = subscription.received.at(-1)!.errors![0]!;
    expect(last.extensions!.code).toBe('APP_SUSPENDED');
    expect(last.message).toMatch(/suspended/);
    await client.dispose();
  });

  test('the pipeline of a connection runs each request-stage hook in order on the very request it is given, with the connection\'s own credential in its state', async () => {
    const seen: { plugin: string; req: http.IncomingMessage; authorization: string | undefined; requestId: string }[] = [];
    const recording = (name: string): GatewayPlugin => ({
      name,
      onRequest(req, state) {
        seen.push({ plugin: name, req, authorization: state.authorization, requestId: state.requestId });
        state.caller = { kind: 'app', appKey: name, merchantId: null, scopes: [] };
      },
    });
    const pipeline = composePipeline([useRequestId({ clientAddress: () => '127.0.0.1' }), recording('first'), { name: 'documents only', validationRules: [] }, recording('second')]);
    const req = new http.IncomingMessage(new net.Socket());
    req.headers = { 'x-request-id': 'upgrade-given-0001', authorization: 'Bearer from-the-header' };
    const authorized = await pipeline.authorize(req, { authorization: 'Bearer from-connection-params' });
    expect(seen.map((s) => s.plugin)).toEqual(['first', 'second']);
    for (const s of seen) {
      expect(s.req).toBe(req);
      expect(s.authorization).toBe('Bearer from-connection-params');
      expect(s.requestId).toBe('upgrade-given-0001');
    }
    expect(authorized).toEqual({ caller: { kind: 'app', appKey: 'second', merchantId: null, scopes: [] }, requestId: 'upgrade-given-0001' });
    expect(pipeline.subgraphRequestHooks.map((p) => p.name)).toEqual(['request-id']);
  });
});
