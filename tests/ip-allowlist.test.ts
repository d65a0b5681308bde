/**
 * An app's IP allow list, enforced at the gateway for every HTTP, WebSocket and SSE call of the app:
 * IPv4 and IPv6 addresses and CIDR ranges; X-Forwarded-For believed only from a trusted proxy.
 * The gateway listens on `::` (dual stack), so a test calls it over IPv4 (127.0.0.1, the trusted
 * proxy here) and over IPv6 (::1, an untrusted peer). Edited by the app itself and by operators
 * (audited), validated and normalized on write.
 */
import crypto from 'node:crypto';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { adjustableClock } from './helpers/clock.js';
import { createMerchant } from './helpers/factories.js';
import { enrolOperator } from './helpers/operator.js';
import { connectWs, subscribeWs, type Received } from './helpers/messages.js';
import { startTestPlatform, type GraphQLResponse, type TestPlatform } from './helpers/platform.js';

let t: TestPlatform;
/** Moved past the gateway's app access cache instead of sleeping it out. */
const clock = adjustableClock();
let store: ReturnType<typeof createAppManagementStore>;
let operator: string;
let v4Url: string;
let v6Url: string;

beforeAll(async () => {
  t = await startTestPlatform({ clock, extraEnv: { HOST: '::', TRUSTED_PROXIES: '127.0.0.1/32' } });
  store = createAppManagementStore(t.platform.database.db);
  v4Url = t.url;
  v6Url = t.url.replace('127.0.0.1', '[::1]');
  await store.createOperator({ email: 'ops@portico.example', name: 'Olga Ops', password: 'a long operator password' });
  operator = await (await enrolOperator(t, 'ops@portico.example', 'a long operator password', clock)).token();
});
afterAll(() => t?.stop());

/** A LIVE app of its own holding orders:read and messages:orders; its app-level token. */
async function newApp() {
  const key = `app_ip_${crypto.randomBytes(4).toString('hex')}`;
  const developer = await store.createDeveloper({ kind: 'COMPANY', name: 'IP ISV', email: `${key}@example.com`, verificationStatus: 'VERIFIED' });
  await store.createApp({ key, name: key, developerId: developer.id, status: 'LIVE' });
  const pkg = await store.createPackage({ name: `${key} package`, description: 'test', tier: 'FREE', scopes: ['orders:read', 'messages:orders'] });
  await store.grantPackage('system:tests', { appKey: key, packageId: pkg.id, reason: 'test' });
  return { key, token: await t.token({ merchantId: null, appKey: key, scopes: ['orders:read'] }) };
}

/** A GraphQL call over IPv4 (from 127.0.0.1, the trusted proxy) or IPv6 (from ::1), with an X-Forwarded-For if given. */
async function call(token: string, query: string, options: { over?: 'ipv4' | 'ipv6'; forwardedFor?: string; variables?: Record<string, unknown> } = {}): Promise<GraphQLResponse> {
  const response = await fetch(options.over === 'ipv6' ? v6Url : v4Url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      ...(options.forwardedFor ? { 'x-forwarded-for': options.forwardedFor } : {}),
    },
    body: JSON.stringify({ query, variables: options.variables }),
  });
  return { status: response.status, headers: response.headers, ...((await response.json()) as object) };
}

const VIEWER = '{ viewerApp { key } }';
const SET_LIST = 'mutation($in: SetIpAllowListInput!) { setIpAllowList(input: $in) { key ipAllowList } }';

/** Sets the app's list with its own token, and lets the gateway's cache of it lapse. */
async function allow(app: { token: string }, entries: string[]) {
  const set = await call(app.token, SET_LIST, { variables: { in: { entries } } });
  expect(set.errors).toBeUndefined();
  await clock.advance(t.platform.config.appAccessCacheMs + 1);
}

function expectRefused(res: GraphQLResponse, address: string) {
  expect(res.status).toBe(403);
  expect(res.data ?? null).toBeNull();
  expect(res.errors?.[0]?.extensions?.code).toBe('IP_NOT_ALLOWED');
  expect(res.errors?.[0]?.message).toContain(`from ${address}:`);
}

describe('enforcement', () => {
  test('an empty list admits every address; an IPv4 address and a CIDR range admit what they cover and nothing else', async () => {
    const app = await newApp();
    expect((await call(app.token, VIEWER, { over: 'ipv6' })).data).toEqual({ viewerApp: { key: app.key } });

    await allow(app, ['127.0.0.1']);
    expect((await call(app.token, VIEWER)).data).toEqual({ viewerApp: { key: app.key } });
    expectRefused(await call(app.token, VIEWER, { over: 'ipv6' }), '::1');

    // Behind the trusted proxy: the address it forwards is the client's.
    await allow(app, ['10.0.0.0/8']);
    expect((await call(app.token, VIEWER, { forwardedFor: '10.20.30.40' })).data).toEqual({ viewerApp: { key: app.key } });
    expectRefused(await call(app.token, VIEWER, { forwardedFor: '11.0.0.1' }), '11.0.0.1');
    expectRefused(await call(app.token, VIEWER), '127.0.0.1');

    // Its own list refuses the app's edit from elsewhere too: an app locked out asks an operator.
    expectRefused(await call(app.token, SET_LIST, { variables: { in: { entries: [] } } }), '127.0.0.1');
    const cleared = await call(operator, SET_LIST, { variables: { in: { appKey: app.key, entries: [], reason: 'Developer locked out' } } });
    expect(cleared.data).toEqual({ setIpAllowList: { key: app.key, ipAllowList: [] } });
    await clock.advance(t.platform.config.appAccessCacheMs + 1);
    expect((await call(app.token, VIEWER, { over: 'ipv6' })).data).toEqual({ viewerApp: { key: app.key } });
  });

  test('IPv6: a peer connecting over ::1 and a client forwarded by the trusted proxy, by address and by range', async () => {
    const app = await newApp();
    await allow(app, ['::1', '2001:db8::/32']);
    expect((await call(app.token, VIEWER, { over: 'ipv6' })).data).toEqual({ viewerApp: { key: app.key } });
    expect((await call(app.token, VIEWER, { forwardedFor: '2001:db8:1:2::99' })).data).toEqual({ viewerApp: { key: app.key } });
    expectRefused(await call(app.token, VIEWER, { forwardedFor: '2001:db9::1' }), '2001:db9::1');
    // An IPv4 client is not in an IPv6 range.
    expectRefused(await call(app.token, VIEWER), '127.0.0.1');
  });

  test('X-Forwarded-For from an untrusted peer is ignored, and from the trusted proxy only its rightmost untrusted hop counts', async () => {
    const app = await newApp();
    await allow(app, ['203.0.113.0/24']);
    // ::1 is no trusted proxy: what it claims proves nothing, its own address is what is judged.
    expectRefused(await call(app.token, VIEWER, { over: 'ipv6', forwardedFor: '203.0.113.7' }), '::1');
    expect((await call(app.token, VIEWER, { forwardedFor: '203.0.113.7' })).data).toEqual({ viewerApp: { key: app.key } });
    // The client wrote the left entry itself; the proxy appended the address it saw.
    expectRefused(await call(app.token, VIEWER, { forwardedFor: '203.0.113.7, 198.51.100.1' }), '198.51.100.1');
  });

  test('operators are not subject to any app\'s list', async () => {
    const app = await newApp();
    await allow(app, ['192.0.2.1']);
    const res = await call(operator, 'query($key: String!) { app(key: $key) { key ipAllowList } }', { over: 'ipv6', variables: { key: app.key } });
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ app: { key: app.key, ipAllowList: ['192.0.2.1'] } });
  });

  test('a WebSocket from a refused address is closed at connection with 4403, an SSE stream refused with 403; an open subscription ends when the list stops admitting it', async () => {
    const app = await newApp();
    const merchant = await createMerchant(t);
    const merchantToken = await t.token({ merchantId: merchant.id, appKey: app.key, scopes: ['orders:read', 'messages:orders'] });
    await allow(app, ['127.0.0.1']);

    const refused = connectWs(v6Url, merchantToken);
    const closed = subscribeWs(refused, 'subscription { orderEvents { id } }');
    await closed.waitForEnd();
    expect(closed.error).toMatchObject({ code: 4403, reason: expect.stringContaining('from ::1:') });
    await refused.dispose();

    const sse = await fetch(v6Url.replace(/\/graphql$/, '/graphql/stream'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${merchantToken}` },
      body: JSON.stringify({ query: 'subscription { orderEvents { id } }' }),
    });
    expect(sse.status).toBe(403);
    expect(((await sse.json()) as { errors: Received['errors'] }).errors![0]!.extensions!.code).toBe('IP_NOT_ALLOWED');

    // Admitted over IPv4, and still open a re-check later.
    const admitted = connectWs(v4Url, merchantToken);
    const open = subscribeWs(admitted, 'subscription { orderEvents { id } }');
    await clock.advance(2 * t.platform.config.appAccessCacheMs);
    expect(open.completed).toBe(false);
    // The list changes: by the next re-check past the cache, the subscription ends with the refusal.
    expect((await call(app.token, SET_LIST, { variables: { in: { entries: ['10.0.0.0/8'] } } })).errors).toBeUndefined();
    await clock.advance(t.platform.config.appAccessCacheMs + 1);
    await clock.advance(t.platform.config.appAccessCacheMs);
    await open.waitForEnd(5000);
    expect(open.received.at(-1)!.errors![0]!.extensions!.code).toBe('IP_NOT_ALLOWED');
    await admitted.dispose();
  });
});

describe('editing the list', () => {
  test('entries are normalized: ranges to their network, single-address ranges to the address, IPv6 lower-case and compressed, IPv4-mapped to IPv4, duplicates once', async () => {
    const app = await newApp();
    const res = await call(app.token, SET_LIST, {
      variables: { in: { entries: [' 10.1.2.3/8 ', '2001:DB8:0:0::1', '192.0.2.1/32', '::ffff:198.51.100.7', '10.0.0.0/8', '2001:db8::ff/64', '::ffff:203.0.113.0/120'] } },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data!.setIpAllowList.ipAllowList).toEqual(['10.0.0.0/8', '2001:db8::1', '192.0.2.1', '198.51.100.7', '2001:db8::/64', '203.0.113.0/24']);
  });

  test('a bad entry is refused with BAD_USER_INPUT naming it, and nothing changes', async () => {
    const app = await newApp();
    expect((await call(app.token, SET_LIST, { variables: { in: { entries: ['192.0.2.1'] } } })).errors).toBeUndefined();
    for (const bad of ['10.0.0.256', '10.0.0.0/33', '2001:db8::/129', 'fe80::1%eth0', '127.1', '0x7f.0.0.1', 'example.com', '10.0.0.1/', '10.0.0.1/08x', '']) {
      const res = await call(app.token, SET_LIST, { variables: { in: { entries: ['198.51.100.1', bad] } } });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'entries', entry: bad });
      expect(res.errors?.[0]?.message).toContain(`"${bad}"`);
    }
    const tooMany = await call(app.token, SET_LIST, { variables: { in: { entries: Array.from({ length: 101 }, (_, i) => `10.0.${i}.1`) } } });
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'entries' });
    expect(tooMany.errors?.[0]?.message).toMatch(/at most 100/);
    expect((await store.appByKey(app.key))!.ipAllowList).toEqual(['192.0.2.1']);
  });

  test('an app edits only its own list and only with its own token; operators edit any app\'s with a reason; every change is audited', async () => {
    const app = await newApp();
    const other = await newApp();
    const merchant = await createMerchant(t);
    const merchantAuthorized = await t.token({ merchantId: merchant.id, appKey: app.key, scopes: ['orders:read'] });
    expect((await call(merchantAuthorized, SET_LIST, { variables: { in: { entries: ['192.0.2.1'] } } })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await call(app.token, SET_LIST, { variables: { in: { appKey: other.key, entries: ['192.0.2.1'] } } })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const own = await call(app.token, SET_LIST, { variables: { in: { appKey: app.key, entries: ['192.0.2.0/24'] } } });
    expect(own.data).toEqual({ setIpAllowList: { key: app.key, ipAllowList: ['192.0.2.0/24'] } });

    const noReason = await call(operator, SET_LIST, { variables: { in: { appKey: app.key, entries: ['198.51.100.0/24'] } } });
    expect(noReason.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    const noApp = await call(operator, SET_LIST, { variables: { in: { entries: ['198.51.100.0/24'], reason: 'x' } } });
    expect(noApp.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'appKey' });
    const byOperator = await call(operator, SET_LIST, { variables: { in: { appKey: app.key, entries: ['198.51.100.0/24'], reason: 'Developer asked by ticket 42' } } });
    expect(byOperator.data).toEqual({ setIpAllowList: { key: app.key, ipAllowList: ['198.51.100.0/24'] } });

    const audit = await call(operator, '{ auditLog(first: 20) { nodes { actor action targetId reason details } } }');
    const changes = audit.data!.auditLog.nodes.filter((e: { action: string; targetId: string }) => e.action === 'app.ip_allow_list_changed' && e.targetId === app.key);
    expect(changes).toHaveLength(2);
    expect(changes[0]).toMatchObject({ actor: expect.stringMatching(/^operator:/), reason: 'Developer asked by ticket 42' });
    expect(JSON.parse(changes[0].details)).toEqual({ before: ['192.0.2.0/24'], after: ['198.51.100.0/24'] });
    expect(changes[1]).toMatchObject({ actor: `app:${app.key}`, reason: null });
    expect(JSON.parse(changes[1].details)).toEqual({ before: [], after: ['192.0.2.0/24'] });
  });
});
