/**
 * The console's traffic and authorization views: the message subscriptions open now (each gateway
 * reports its own every few seconds; a silent gateway drops out after a minute), an app's
 * authorizations by merchant, and when the app last called for each merchant.
 */
import crypto from 'node:crypto';
import type { SubgraphName } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { createContextBatchSigner, createContextSigner } from '../core/tokens.js';
import { startGateway } from '../gateway/server.js';
import { createInternalClient } from '../gateway/upstream/internal-client.js';
import { createSubgraphFetcher } from '../gateway/upstream/subgraph-fetcher.js';
import { LIVE_SUBSCRIPTIONS_REPORT_MS, LIVE_SUBSCRIPTIONS_ROWS_PER_CALL, startLiveSubscriptionReports, type LiveSubscriptionRow } from '../gateway/live-subscriptions.js';
import { createAccountStore } from '../subgraphs/account/store.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { apps, liveSubscriptions } from '../subgraphs/app-management/tables.js';
import { eq } from 'drizzle-orm';
import { adjustableClock } from './helpers/clock.js';
import { createMerchant } from './helpers/factories.js';
import { connectWs, subscribeWs } from './helpers/messages.js';
import { TEST_APP_KEY, startTestPlatform, waitUntil, type TestPlatform } from './helpers/platform.js';
import { mintTestOperatorToken } from './helpers/operator.js';

const clock = adjustableClock();
let t: TestPlatform;

beforeAll(async () => {
  t = await startTestPlatform({ clock });
}, 60_000);
afterAll(() => t?.stop());

const operatorToken = () =>
  mintTestOperatorToken(t, { clock });

interface Live {
  total: number;
  reportedAt: string | null;
  apps: { app: { key: string }; subscriptions: number; merchants: number }[];
}

const LIVE = '{ liveSubscriptions { total reportedAt apps(first: 50) { app { key } subscriptions merchants } } }';

async function live(): Promise<Live> {
  const res = await t.gql<{ liveSubscriptions: Live }>(await operatorToken(), LIVE);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.liveSubscriptions;
}

/** Lets the gateway's report timer fire (and its call report flush, on the same period), then waits until `check` holds. */
async function afterReports(what: string, check: () => Promise<boolean>) {
  await waitUntil(what, async () => {
    await clock.advance(LIVE_SUBSCRIPTIONS_REPORT_MS);
    return check();
  });
}

/** An app of its own with a developer named `developerName`, so its authorizations are the test's alone. */
async function appOf(developerName: string, description: string) {
  const store = createAppManagementStore(t.platform.database.db);
  const key = `app_console_${crypto.randomUUID().slice(0, 8)}`;
  const developer = await store.createDeveloper({ kind: 'INDIVIDUAL', name: developerName, email: `${key}@example.com`, verificationStatus: 'VERIFIED' });
  const { app } = await store.createApp({ key, name: `App ${key}`, developerId: developer.id, status: 'LIVE' });
  await t.platform.database.db.update(apps).set({ description }).where(eq(apps.id, app.id));
  const merchantRead = await store.createPackage({ name: `${key} merchant:read`, description: 'test', tier: 'FREE', scopes: ['merchant:read'] });
  await store.grantPackage('system:tests', { appKey: key, packageId: merchantRead.id, reason: 'test' });
  return key;
}

async function authorize(appKey: string, merchantId: string) {
  const grantId = `grant-${crypto.randomUUID()}`;
  await createAccountStore(t.platform.database.db).recordAuthorization({ grantId, merchantId, appKey, appName: `Name of ${appKey}`, scopes: ['merchant:read'], authorizedBy: null });
  return grantId;
}

const AUTHORIZATIONS = `query Authorizations($key: String!, $first: Int) {
  app(key: $key) { key authorizations(first: $first) { id appKey merchantId merchantName appName scopes revokedAt revokedBy developerName appDescription lastUsedAt } }
}`;

interface Authorization {
  id: string;
  merchantId: string;
  merchantName: string;
  revokedAt: string | null;
  revokedBy: string | null;
  developerName: string | null;
  appDescription: string | null;
  lastUsedAt: string | null;
}

async function authorizationsOf(appKey: string, first?: number): Promise<Authorization[]> {
  const res = await t.gql<{ app: { authorizations: Authorization[] } }>(await operatorToken(), AUTHORIZATIONS, { key: appKey, ...(first ? { first } : {}) });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.app.authorizations;
}

test('a message subscription shows in liveSubscriptions at the next report and leaves once it closes', async () => {
  expect(await live()).toEqual({ total: 0, reportedAt: null, apps: [] });
  const shop = await createMerchant(t);
  const other = await createMerchant(t);
  const clients = [connectWs(t.url, shop.token, { lazy: false }), connectWs(t.url, shop.token, { lazy: false }), connectWs(t.url, other.token, { lazy: false })];
  const subscriptions = clients.map((client) => subscribeWs(client, 'subscription { orderEvents { id } }'));
  try {
    await waitUntil('three subscriptions open on the gateway', async () => (t.platform.gateway.channel?.size ?? 0) === 3);
    await afterReports('the report of three subscriptions', async () => (await live()).total === 3);
    const reported = await live();
    expect(reported.apps).toEqual([{ app: { key: TEST_APP_KEY }, subscriptions: 3, merchants: 2 }]);
    expect(Date.parse(reported.reportedAt!)).toBeGreaterThan(clock.now() - 60_000);

    subscriptions[0]!.stop();
    await waitUntil('one subscription closed', async () => t.platform.gateway.channel?.size === 2);
    await afterReports('the report of two subscriptions', async () => (await live()).total === 2);
    expect((await live()).apps).toEqual([{ app: { key: TEST_APP_KEY }, subscriptions: 2, merchants: 2 }]);
  } finally {
    for (const s of subscriptions) s.stop();
    for (const client of clients) await client.dispose();
  }
  await waitUntil('every subscription closed', async () => t.platform.gateway.channel?.size === 0);
  await afterReports('the report of none', async () => (await live()).total === 0);
  expect((await live()).apps).toEqual([]);
});

test("two gateways' reports add up, and a gateway that stops withdraws its own at once", async () => {
  const { platform } = t;
  const second = await startGateway({
    config: platform.config,
    keys: platform.keys,
    logger: createLogger('silent'),
    database: platform.database,
    subgraphUrls: Object.fromEntries(Object.entries(platform.subgraphs).map(([name, s]) => [name, s.url])) as Record<SubgraphName, string>,
    port: 0,
    host: '127.0.0.1',
    clock,
  });
  const shop = await createMerchant(t);
  const onFirst = connectWs(t.url, shop.token, { lazy: false });
  const onSecond = connectWs(second.url, shop.token);
  const subscriptions = [subscribeWs(onFirst, 'subscription { orderEvents { id } }'), subscribeWs(onSecond, 'subscription { orderEvents { id } }')];
  try {
    await waitUntil('a subscription open on each gateway', async () => t.platform.gateway.channel?.size === 1 && second.channel?.size === 1);
    await afterReports('both gateways reported', async () => (await live()).total === 2);
    expect((await live()).apps).toEqual([{ app: { key: TEST_APP_KEY }, subscriptions: 2, merchants: 1 }]);
    // A gateway that stops withdraws its rows as it goes, not a minute later.
    await second.stop();
    expect((await live()).total).toBe(1);
  } finally {
    for (const s of subscriptions) s.stop();
    await onFirst.dispose();
    await onSecond.dispose();
    await second.stop().catch(() => {});
  }
  await waitUntil('the first gateway closed its subscription', async () => t.platform.gateway.channel?.size === 0);
  await afterReports('the report of none', async () => (await live()).total === 0);
});

test("a report in several calls replaces the gateway's rows at its final call: meanwhile readers see the old count, never none", async () => {
  // What the gateway sends, through the gateway's own internal client (the system caller).
  const { keys, config, subgraphs } = t.platform;
  const signContext = createContextSigner(keys.context, config.contextTokenTtlSeconds, clock);
  const fetcher = createSubgraphFetcher({ signContext, signBatch: createContextBatchSigner(keys.context, clock) });
  const callSubgraph = createInternalClient(fetcher, signContext);
  const record = async (rows: { appKey: string; merchantId: string; subscriptions: number }[], final: boolean, reportStartedAt: string | null = null) =>
    (
      await callSubgraph<{ recordLiveSubscriptions: string }>(
        subgraphs['app-management'].url,
        'mutation($g: String!, $rows: [LiveSubscriptionRowInput!]!, $final: Boolean!, $at: DateTime) { recordLiveSubscriptions(gatewayId: $g, rows: $rows, final: $final, reportStartedAt: $at) }',
        { g: 'gateway-chunked', rows, final, at: reportStartedAt },
      )
    ).recordLiveSubscriptions;
  const [a, b, c] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
  try {
    await record([{ appKey: TEST_APP_KEY, merchantId: a, subscriptions: 2 }, { appKey: TEST_APP_KEY, merchantId: b, subscriptions: 3 }], true);
    expect((await live()).apps).toEqual([{ app: { key: TEST_APP_KEY }, subscriptions: 5, merchants: 2 }]);

    await clock.advance(1);
    const startedAt = await record([{ appKey: TEST_APP_KEY, merchantId: b, subscriptions: 1 }], false);
    // Mid-report: b's new count, a's old one (not yet known to be gone).
    expect((await live()).apps).toEqual([{ app: { key: TEST_APP_KEY }, subscriptions: 3, merchants: 2 }]);
    await clock.advance(1);
    await record([{ appKey: TEST_APP_KEY, merchantId: c, subscriptions: 4 }], true, startedAt);
    expect((await live()).apps).toEqual([{ app: { key: TEST_APP_KEY }, subscriptions: 5, merchants: 2 }]);

    // A report in one call replaces every row of the gateway; one of nothing withdraws them.
    await record([], true);
    expect((await live()).total).toBe(0);
    const tooMany = Array.from({ length: 5_001 }, (_, i) => ({ appKey: TEST_APP_KEY, merchantId: `m${i}`, subscriptions: 1 }));
    await expect(record(tooMany, true)).rejects.toThrow(/At most 5000 rows per call/);
  } finally {
    await fetcher.close();
    await t.platform.database.db.delete(liveSubscriptions);
  }
});

test("a gateway with more open pairs than one call carries reports them all, and its next report replaces them", async () => {
  const { keys, config, subgraphs } = t.platform;
  const signContext = createContextSigner(keys.context, config.contextTokenTtlSeconds, clock);
  const fetcher = createSubgraphFetcher({ signContext, signBatch: createContextBatchSigner(keys.context, clock) });
  const pairs = (count: number, subscriptions: number): LiveSubscriptionRow[] => Array.from({ length: count }, (_, i) => ({ appKey: TEST_APP_KEY, merchantId: `merchant-${i}`, subscriptions }));
  // More than one call may carry (5,000 rows): the report must come in several.
  let open = pairs(3 * LIVE_SUBSCRIPTIONS_ROWS_PER_CALL + 500, 1);
  const reports = startLiveSubscriptionReports({ openSubscriptions: () => open, callSubgraph: createInternalClient(fetcher, signContext), appManagementUrl: subgraphs['app-management'].url, clock, logger: createLogger('silent') });
  try {
    await afterReports('a report in four calls', async () => (await live()).total === open.length);
    expect((await live()).apps).toEqual([{ app: { key: TEST_APP_KEY }, subscriptions: 6_500, merchants: 6_500 }]);
    open = pairs(10, 2);
    await afterReports('the next report, in one call', async () => (await live()).total === 20);
    expect((await live()).apps).toEqual([{ app: { key: TEST_APP_KEY }, subscriptions: 20, merchants: 10 }]);
  } finally {
    await reports.stop();
    await fetcher.close();
  }
  expect((await live()).total).toBe(0);
});

test("a gateway silent for a minute counts no more: only reports of the last 60 s are summed", async () => {
  const now = clock.now();
  const db = t.platform.database.db;
  await db.insert(liveSubscriptions).values([
    { gatewayId: 'gateway-quiet', appKey: TEST_APP_KEY, merchantId: crypto.randomUUID(), subscriptions: 4, reportedAt: new Date(now - 10_000) },
    { gatewayId: 'gateway-gone', appKey: TEST_APP_KEY, merchantId: crypto.randomUUID(), subscriptions: 7, reportedAt: new Date(now - 61_000) },
  ]);
  try {
    const reported = await live();
    expect(reported.total).toBe(4);
    expect(reported.apps).toEqual([{ app: { key: TEST_APP_KEY }, subscriptions: 4, merchants: 1 }]);
    expect(reported.reportedAt).toBe(new Date(now - 10_000).toISOString());
    await clock.advance(51_000);
    expect((await live()).total).toBe(0);
  } finally {
    await db.delete(liveSubscriptions);
  }
});

test('the gateways report through an internal mutation no client reaches, operators included', async () => {
  const res = await t.gql(await operatorToken(), 'mutation { recordLiveSubscriptions(gatewayId: "forged", rows: [{ appKey: "app_test", merchantId: "m", subscriptions: 99 }]) }');
  expect(res.data ?? null).toBeNull();
  expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  expect((await live()).total).toBe(0);
});

test("an app's authorizations list each merchant by name, newest first, revoked ones included, with the app's developer and description", async () => {
  const key = await appOf('Ada Developer', 'Syncs stock levels');
  const first = await createMerchant(t, 'First Shop');
  const second = await createMerchant(t, 'Second Shop');
  const firstGrant = await authorize(key, first.id);
  const secondGrant = await authorize(key, second.id);
  await createAccountStore(t.platform.database.db).revokeAuthorization(firstGrant, 'operator:tests', null);

  const listed = await authorizationsOf(key);
  expect(listed.map((a) => [a.id, a.merchantId, a.merchantName])).toEqual([
    [secondGrant, second.id, 'Second Shop'],
    [firstGrant, first.id, 'First Shop'],
  ]);
  expect(listed[0]).toMatchObject({ revokedAt: null, developerName: 'Ada Developer', appDescription: 'Syncs stock levels', lastUsedAt: null });
  expect(listed[1]).toMatchObject({ revokedAt: expect.any(String), revokedBy: 'operator:tests', developerName: 'Ada Developer' });
  expect((await authorizationsOf(key, 1)).map((a) => a.id)).toEqual([secondGrant]);

  // The merchant's side of the same authorizations names the merchant too.
  const byMerchant = await t.gql<{ merchantAuthorizations: Authorization[] }>(await operatorToken(), 'query($m: ID!) { merchantAuthorizations(merchantId: $m) { id merchantName developerName } }', { m: second.id });
  expect(byMerchant.data?.merchantAuthorizations).toEqual([{ id: secondGrant, merchantName: 'Second Shop', developerName: 'Ada Developer' }]);

  const tooMany = await t.gql(await operatorToken(), AUTHORIZATIONS, { key, first: 201 });
  expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
});

test("an authorization's last use moves with the app's calls for that merchant, and only that merchant's", async () => {
  const key = await appOf('Grace Developer', '');
  const used = await createMerchant(t, 'Busy Shop');
  const idle = await createMerchant(t, 'Quiet Shop');
  await authorize(key, used.id);
  await authorize(key, idle.id);
  const lastUse = async () => Object.fromEntries((await authorizationsOf(key)).map((a) => [a.merchantName, a.lastUsedAt]));
  const minuteOf = (ms: number) => new Date(ms - (ms % 60_000)).toISOString();

  const call = async () => {
    const res = await t.gql(await t.token({ merchantId: used.id, appKey: key, scopes: ['merchant:read'] }), '{ merchant { name } }');
    expect(res.errors).toBeUndefined();
    return clock.now();
  };
  const firstCall = await call();
  await afterReports('the first call in the call report', async () => (await lastUse())['Busy Shop'] !== null);
  expect(await lastUse()).toEqual({ 'Busy Shop': minuteOf(firstCall), 'Quiet Shop': null });

  await clock.advance(3 * 60_000);
  const secondCall = await call();
  expect(minuteOf(secondCall)).not.toBe(minuteOf(firstCall));
  await afterReports('the second call in the call report', async () => (await lastUse())['Busy Shop'] === minuteOf(secondCall));
  expect((await lastUse())['Quiet Shop']).toBeNull();
});

test("a page of an app's authorizations costs the same SQL statements for 2 merchants as for 12 (names, developer and last use batched)", async () => {
  const few = await appOf('Few Developer', 'few');
  const many = await appOf('Many Developer', 'many');
  for (let i = 0; i < 12; i++) {
    const shop = await createMerchant(t);
    if (i < 2) await authorize(few, shop.id);
    await authorize(many, shop.id);
  }
  const operator = await operatorToken();
  // The fewest of three: the counter also counts background work meanwhile, which only adds.
  const statementsFor = async (appKey: string, expected: number) => {
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = t.platform.database.statements.count;
      const res = await t.gql<{ app: { authorizations: Authorization[] } }>(operator, AUTHORIZATIONS, { key: appKey });
      expect(res.errors).toBeUndefined();
      expect(res.data!.app.authorizations).toHaveLength(expected);
      counts.push(t.platform.database.statements.count - before);
    }
    return Math.min(...counts);
  };
  const two = await statementsFor(few, 2);
  expect(two).toBeGreaterThan(0);
  expect(await statementsFor(many, 12)).toBe(two);
});
