/**
 * Cost-based flow control over real HTTP against a real database (in-memory counters, one gateway):
 * the cost of each answer, the refusal of an operation above the bucket, a bucket emptied and filled
 * again as time passes, and the limits by tier, operator override and violation penalty.
 */
import crypto from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { appViolations, apps as appsTable, auditLog } from '../subgraphs/app-management/tables.js';
import { adjustableClock } from './helpers/clock.js';
import { createMerchant } from './helpers/factories.js';
import { ALL_SCOPES, startTestPlatform, type GraphQLResponse, type TestPlatform } from './helpers/platform.js';
import { mintTestOperatorToken } from './helpers/operator.js';

const clock = adjustableClock();
let t: TestPlatform;

beforeAll(async () => {
  // App access (limits included) is asked on every call, so an operator's change shows at once.
  t = await startTestPlatform({ clock, extraEnv: { APP_ACCESS_CACHE_MS: '0' } });
}, 60_000);
afterAll(() => t?.stop());

interface Cost {
  requestedQueryCost: number;
  actualQueryCost: number | null;
  throttleStatus: { maximumAvailable: number; currentlyAvailable: number; restoreRate: number } | null;
}
const costOf = (response: GraphQLResponse) => (response as GraphQLResponse & { extensions?: { cost?: Cost } }).extensions?.cost;

/** A LIVE app of its own (so its buckets and quota are its own) holding every scope in a package of `tier`. */
async function registerApp(tier: 'FREE' | 'PAID' = 'FREE') {
  const store = createAppManagementStore(t.platform.database.db);
  const key = `app_flow_${crypto.randomBytes(4).toString('hex')}`;
  const developer = await store.createDeveloper({ kind: 'COMPANY', name: 'Flow ISV', email: `${key}@example.com`, verificationStatus: 'VERIFIED' });
  await store.createApp({ key, name: key, developerId: developer.id, status: 'LIVE' });
  const pkg = await store.createPackage({ name: `Everything ${key}`, description: 'tests', tier, scopes: ALL_SCOPES });
  await store.grantPackage('system:tests', { appKey: key, packageId: pkg.id, reason: 'tests' });
  const merchant = await createMerchant(t);
  const token = await t.token({ merchantId: merchant.id, appKey: key });
  return { key, id: (await store.appByKey(key))!.id, merchantId: merchant.id, token };
}

const operatorToken = () => mintTestOperatorToken(t, { clock });

const CREATE = `mutation($title: String!) { createProduct(input: { title: $title, skus: [{ code: $title, price: { amount: 100, currency: "EUR" } }] }) { product { id } } }`;
const COUNT = '{ products { totalCount } }';

test('every answer carries its cost: requested from `first`, actual from the real list, the difference refunded', async () => {
  const app = await registerApp();
  for (const title of ['A', 'B']) expect((await t.gql(app.token, CREATE, { title })).errors).toBeUndefined();
  const started = performance.now();
  const page = await t.gql<{ products: { nodes: { id: string }[] } }>(app.token, 'query($n: Int) { products(first: $n) { nodes { id title } } }', { n: 10 });
  // The bucket fills again at 50 points a second of real time while the page runs.
  const restoredMeanwhile = Math.ceil(((performance.now() - started) / 1000) * 50);
  expect(page.status).toBe(200);
  expect(page.data!.products.nodes).toHaveLength(2);
  const cost = costOf(page)!;
  // The connection (1) and 10 products asked for (1 each); 2 came back.
  expect(cost.requestedQueryCost).toBe(11);
  expect(cost.actualQueryCost).toBe(3);
  expect(cost.throttleStatus).toMatchObject({ maximumAvailable: 1000, restoreRate: 50 });
  // Each createProduct cost 21 (mutation 10, @cost 10, the product 1); this page 3 after its refund of 8.
  expect(cost.throttleStatus!.currentlyAvailable).toBeLessThanOrEqual(Math.min(1000, 1000 - 3 + restoredMeanwhile));
  expect(cost.throttleStatus!.currentlyAvailable).toBeGreaterThanOrEqual(1000 - 45 - 3);

  // Fragments, aliases and a connection's sizedFields: both edges and nodes of 5, and the skus (10 each assumed).
  const shaped = await t.gql(app.token, '{ a: products(first: 5) { edges { node { ...P } } } b: products(first: 5) { nodes { id } } } fragment P on Product { skus { id } }');
  expect(shaped.errors).toBeUndefined();
  expect(costOf(shaped)!.requestedQueryCost).toBe(1 + 5 * (1 + 1 + 10) + 1 + 5);
  expect(costOf(shaped)!.actualQueryCost).toBe(1 + 2 * (1 + 1 + 1) + 1 + 2);
});

test('an operation costing more than the whole bucket is refused before planning: HTTP 400 MAX_COST_EXCEEDED', async () => {
  const app = await registerApp();
  const refused = await t.gql(app.token, '{ products(first: 100) { nodes { skus { id attributes { name } } } } }');
  expect(refused.status).toBe(400);
  expect(refused.errors![0]!.extensions).toMatchObject({ code: 'MAX_COST_EXCEEDED', requestedQueryCost: 1 + 100 * (1 + 10 * (1 + 5)), maximumAvailable: 1000 });
  expect(refused.data).toBeUndefined();
  // Nothing was taken from the bucket.
  const next = await t.gql(app.token, COUNT);
  expect(costOf(next)!.throttleStatus!.currentlyAvailable).toBeGreaterThanOrEqual(998);
});

test('an empty bucket: HTTP 429 THROTTLED with Retry-After and nothing executed; refilled as time passes (operator override)', async () => {
  const app = await registerApp();
  const operator = await operatorToken();
  const set = await t.gql(operator, 'mutation($i: SetAppFlowLimitsInput!) { setAppFlowLimits(input: $i) { key usage { bucketSize restoreRate dailyQuota tier } flowLimitOverrides { bucketSize restoreRate dailyQuota } } }', {
    i: { appKey: app.key, bucketSize: 30, restoreRate: 1, reason: 'a small bucket for the test' },
  });
  expect(set.errors).toBeUndefined();
  expect(set.data!.setAppFlowLimits).toEqual({ key: app.key, usage: { bucketSize: 30, restoreRate: 1, dailyQuota: 10_000, tier: 'FREE' }, flowLimitOverrides: { bucketSize: 30, restoreRate: 1, dailyQuota: null } });
  const [audited] = await t.platform.database.db.select().from(auditLog).where(and(eq(auditLog.targetId, app.key), eq(auditLog.action, 'app.flow_limits_set')));
  expect(audited).toMatchObject({ action: 'app.flow_limits_set', reason: 'a small bucket for the test' });
  expect(audited!.actor).toMatch(/^operator:/);

  const first = await t.gql(app.token, CREATE, { title: 'first' });
  expect(first.errors).toBeUndefined();
  expect(costOf(first)).toMatchObject({ requestedQueryCost: 21, actualQueryCost: 21, throttleStatus: { maximumAvailable: 30, restoreRate: 1 } });
  const left = costOf(first)!.throttleStatus!.currentlyAvailable;
  expect(left).toBe(9);

  const throttled = await t.gql(app.token, CREATE, { title: 'second' });
  expect(throttled.status).toBe(429);
  expect(throttled.errors![0]!.extensions!.code).toBe('THROTTLED');
  expect(throttled.headers.get('retry-after')).toBe('12');
  expect(throttled.errors![0]!.message).toMatch(/costs 21 points and 9 are available/);
  expect(costOf(throttled)).toMatchObject({ requestedQueryCost: 21, actualQueryCost: null, throttleStatus: { maximumAvailable: 30, currentlyAvailable: 9 } });
  // The mutation changed nothing.
  const count = await t.gql<{ products: { totalCount: number } }>(app.token, COUNT);
  expect(count.data!.products.totalCount).toBe(1);

  // 7 left after the count (2 points); 14 s restore the 14 missing.
  await clock.advance(14_000);
  const later = await t.gql(app.token, CREATE, { title: 'second' });
  expect(later.errors).toBeUndefined();
  await clock.advance(2_000);
  expect((await t.gql<{ products: { totalCount: number } }>(app.token, COUNT)).data!.products.totalCount).toBe(2);

  // Cleared: the tier's numbers again.
  const cleared = await t.gql(operator, 'mutation($i: SetAppFlowLimitsInput!) { setAppFlowLimits(input: $i) { usage { bucketSize restoreRate } } }', { i: { appKey: app.key, bucketSize: null, restoreRate: null, reason: 'done' } });
  expect(cleared.data!.setAppFlowLimits.usage).toEqual({ bucketSize: 1000, restoreRate: 50 });
  // Only operators set limits. (A bucket keeps its level when its limits change: a second refills it enough.)
  await clock.advance(1000);
  const denied = await t.gql(app.token, 'mutation($i: SetAppFlowLimitsInput!) { setAppFlowLimits(input: $i) { key } }', { i: { appKey: app.key, bucketSize: 5000, reason: 'more please' } });
  expect(denied.errors![0]!.extensions!.code).toBe('FORBIDDEN');
  const bad = await t.gql(operator, 'mutation($i: SetAppFlowLimitsInput!) { setAppFlowLimits(input: $i) { key } }', { i: { appKey: app.key, bucketSize: 0, reason: 'zero' } });
  expect(bad.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
});

test('FREE and PAID tiers have their own buckets; a violation penalty scales them down (the lowest active one)', async () => {
  const free = await registerApp('FREE');
  const paid = await registerApp('PAID');
  const usage = '{ viewerApp { usage { tier bucketSize restoreRate dailyQuota flowLimitPercent } } }';
  expect((await t.gql(free.token, usage)).data!.viewerApp.usage).toEqual({ tier: 'FREE', bucketSize: 1000, restoreRate: 50, dailyQuota: 10_000, flowLimitPercent: null });
  const paidAnswer = await t.gql(paid.token, usage);
  expect(paidAnswer.data!.viewerApp.usage).toEqual({ tier: 'PAID', bucketSize: 2000, restoreRate: 100, dailyQuota: 1_000_000, flowLimitPercent: null });
  expect(costOf(paidAnswer)!.throttleStatus).toMatchObject({ maximumAvailable: 2000, restoreRate: 100 });

  const db = t.platform.database.db;
  const violation = (percent: number, endsAt: Date | null) => ({
    id: crypto.randomUUID(),
    appId: paid.id,
    kind: 'SCRAPING',
    note: 'test',
    penalty: 'FLOW_LIMIT_REDUCTION' as const,
    flowLimitPercent: percent,
    penaltyEndsAt: endsAt,
    recordedBy: 'operator:test',
  });
  await db.insert(appViolations).values([violation(50, new Date(clock.now() + 3_600_000)), violation(20, null), violation(10, new Date(clock.now() - 1000))]);
  const penalized = await t.gql(paid.token, usage);
  expect(penalized.data!.viewerApp.usage).toEqual({ tier: 'PAID', bucketSize: 400, restoreRate: 20, dailyQuota: 1_000_000, flowLimitPercent: 20 });
  expect(costOf(penalized)!.throttleStatus).toMatchObject({ maximumAvailable: 400, restoreRate: 20 });
  // 1 + 100 × (1 + 1) = 201 fits PAID's 2000 and now not... yes: it fits 400; 1 + 100 × 10 does not.
  const tooDear = await t.gql(paid.token, '{ products(first: 100) { nodes { skus { id } } } }');
  expect(tooDear.errors![0]!.extensions).toMatchObject({ code: 'MAX_COST_EXCEEDED', maximumAvailable: 400 });
});

test('operators set a tier\'s numbers (audited); every app of the tier has them', async () => {
  const app = await registerApp('PAID');
  const operator = await operatorToken();
  const before = await t.gql<{ tierLimits: { tier: string; bucketSize: number; restoreRate: number; dailyQuota: number }[] }>(operator, '{ tierLimits { tier bucketSize restoreRate dailyQuota updatedBy } }');
  const paid = before.data!.tierLimits.find((l) => l.tier === 'PAID')!;
  const set = await t.gql(operator, 'mutation($i: SetTierLimitsInput!) { setTierLimits(input: $i) { tier bucketSize restoreRate dailyQuota updatedBy } }', {
    i: { tier: 'PAID', bucketSize: 3000, restoreRate: 150, dailyQuota: 2_000_000, reason: 'bigger paid tier' },
  });
  expect(set.errors).toBeUndefined();
  expect(set.data!.setTierLimits).toMatchObject({ tier: 'PAID', bucketSize: 3000, restoreRate: 150, dailyQuota: 2_000_000 });
  expect(set.data!.setTierLimits.updatedBy).toMatch(/^operator:/);
  const answer = await t.gql(app.token, COUNT);
  expect(costOf(answer)!.throttleStatus).toMatchObject({ maximumAvailable: 3000, restoreRate: 150 });
  const [audited] = await t.platform.database.db.select().from(auditLog).where(eq(auditLog.action, 'tier_limits.set'));
  expect(audited).toMatchObject({ targetId: 'PAID', reason: 'bigger paid tier' });
  // Back as it was, for the other tests.
  await t.gql(operator, 'mutation($i: SetTierLimitsInput!) { setTierLimits(input: $i) { tier } }', { i: { tier: 'PAID', bucketSize: paid.bucketSize, restoreRate: paid.restoreRate, dailyQuota: paid.dailyQuota, reason: 'restore' } });
  const [row] = await t.platform.database.db.select().from(appsTable).where(eq(appsTable.key, app.key));
  expect(row!.bucketSizeOverride).toBeNull();
});
