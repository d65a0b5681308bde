/**
 * Flow control with REDIS_URL: two gateways of one platform (each with its own Redis connection, as
 * two processes have) spend one app × merchant bucket and one daily count; with Redis unreachable,
 * REDIS_FAILURE_MODE decides (open: through, uncounted, the outage logged once; closed: 503).
 * Real Redis on 127.0.0.1:6379; every app here is new, so its keys are its own.
 */
import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { SUBGRAPH_NAMES, type SubgraphName } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { startGateway, type RunningGateway } from '../../gateway/server.js';
import { createAppManagementStore } from '../../subgraphs/app-management/store.js';
import { createMerchant } from '../helpers/factories.js';
import { ALL_SCOPES, postGraphQL, startTestPlatform, type GraphQLResponse, type TestPlatform } from '../helpers/platform.js';
import { mintTestOperatorToken } from '../helpers/operator.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
let t: TestPlatform;
const extraGateways: RunningGateway[] = [];

beforeAll(async () => {
  t = await startTestPlatform({ extraEnv: { REDIS_URL, APP_ACCESS_CACHE_MS: '0' } });
}, 60_000);
afterAll(async () => {
  for (const gateway of extraGateways) await gateway.stop();
  await t?.stop();
});

/** Another gateway of the same platform (same keys and subgraphs), with its own Redis connection. */
async function anotherGateway(access: Partial<TestPlatform['platform']['config']['access']> = {}, logLines?: string[]) {
  const config = { ...t.platform.config, access: { ...t.platform.config.access, ...access } };
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logLines?.push(String(chunk));
      done();
    },
  });
  const subgraphUrls = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, t.platform.subgraphs[name].url])) as Record<SubgraphName, string>;
  const gateway = await startGateway({ config, keys: t.platform.keys, subgraphUrls, logger: createLogger('error', 'gateway-2', destination), port: 0, host: '127.0.0.1' });
  extraGateways.push(gateway);
  return gateway;
}

async function registerApp(overrides: { bucketSize?: number; restoreRate?: number; dailyQuota?: number }) {
  const store = createAppManagementStore(t.platform.database.db);
  const key = `app_redis_${crypto.randomBytes(4).toString('hex')}`;
  const developer = await store.createDeveloper({ kind: 'COMPANY', name: 'Redis ISV', email: `${key}@example.com`, verificationStatus: 'VERIFIED' });
  await store.createApp({ key, name: key, developerId: developer.id, status: 'LIVE' });
  const pkg = await store.createPackage({ name: `Everything ${key}`, description: 'tests', tier: 'FREE', scopes: ALL_SCOPES });
  await store.grantPackage('system:tests', { appKey: key, packageId: pkg.id, reason: 'tests' });
  const operator = await mintTestOperatorToken(t);
  const set = await t.gql(operator, 'mutation($i: SetAppFlowLimitsInput!) { setAppFlowLimits(input: $i) { key } }', { i: { appKey: key, ...overrides, reason: 'test' } });
  expect(set.errors).toBeUndefined();
  const merchant = await createMerchant(t);
  return { key, token: await t.token({ merchantId: merchant.id, appKey: key }), operator };
}

const CREATE = `mutation($title: String!) { createProduct(input: { title: $title, skus: [{ code: $title, price: { amount: 100, currency: "EUR" } }] }) { product { id } } }`;
type Cost = { throttleStatus: { currentlyAvailable: number } | null; requestedQueryCost: number; actualQueryCost: number | null };
const costOf = (r: GraphQLResponse<unknown>) => (r as GraphQLResponse<unknown> & { extensions?: { cost?: Cost } }).extensions?.cost;

test('two gateways share one bucket and one daily count through Redis', async () => {
  const second = await anotherGateway();
  const app = await registerApp({ bucketSize: 30, restoreRate: 1, dailyQuota: 4 });
  const first = await postGraphQL(t.url, app.token, CREATE, { title: 'one' });
  expect(first.errors).toBeUndefined();
  expect(costOf(first)!.throttleStatus!.currentlyAvailable).toBe(9);
  // The other gateway sees the same 9 points left: too few for 21.
  const throttled = await postGraphQL(second.url, app.token, CREATE, { title: 'two' });
  expect(throttled.status).toBe(429);
  expect(throttled.errors![0]!.extensions!.code).toBe('THROTTLED');
  expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(11);
  // A cheap query fits on either, and each one counts towards the one daily quota (4).
  expect((await postGraphQL(second.url, app.token, '{ products { totalCount } }')).status).toBe(200);
  expect((await postGraphQL(t.url, app.token, '{ products { totalCount } }')).status).toBe(200);
  expect((await postGraphQL(second.url, app.token, '{ products { totalCount } }')).status).toBe(200);
  const over = await postGraphQL(t.url, app.token, '{ products { totalCount } }');
  expect(over.errors![0]!.extensions!.code).toBe('QUOTA_EXCEEDED');
  // app-management reads the shared count.
  const usage = await t.gql(app.operator, 'query($key: String!) { app(key: $key) { usage { callsToday dailyQuota } } }', { key: app.key });
  expect(usage.data!.app.usage).toEqual({ callsToday: 4, dailyQuota: 4 });
});

test('Redis unreachable: fail open lets calls through uncounted, logging the outage once; fail closed refuses with 503', async () => {
  const app = await registerApp({ bucketSize: 30, restoreRate: 1 });
  const lines: string[] = [];
  // A port where nothing listens.
  const open = await anotherGateway({ redisUrl: 'redis://127.0.0.1:1', redisFailureMode: 'open' }, lines);
  for (let i = 0; i < 3; i++) {
    const through = await postGraphQL(open.url, app.token, CREATE, { title: `open-${i}` });
    expect(through.status).toBe(200);
    expect(through.errors).toBeUndefined();
    // Its cost is still reported; there is no bucket status to give.
    expect(costOf(through)).toEqual({ requestedQueryCost: 21, actualQueryCost: 21, throttleStatus: null });
  }
  const outageLines = lines.filter((line) => /Redis/.test(line));
  expect(outageLines).toHaveLength(1);

  const closed = await anotherGateway({ redisUrl: 'redis://127.0.0.1:1', redisFailureMode: 'closed' });
  const refused = await postGraphQL(closed.url, app.token, CREATE, { title: 'closed' });
  expect(refused.status).toBe(503);
  // The first stage that needs Redis refuses (the failed-authentication limit, before flow control).
  expect(refused.errors![0]!.extensions!.code).toBe('SERVICE_UNAVAILABLE');
  expect(refused.headers.get('retry-after')).toBe('1');
  // Nothing was created by the refused call: three products from the open gateway only.
  const count = await postGraphQL<{ products: { totalCount: number } }>(t.url, app.token, '{ products { totalCount } }');
  expect(count.data!.products.totalCount).toBe(3);
});
