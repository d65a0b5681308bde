/**
 * The daily call quota over real HTTP against a real database (in-memory counters): past it, HTTP 429
 * QUOTA_EXCEEDED with when it resets; the app and operators read its usage; a new UTC day starts again.
 */
import crypto from 'node:crypto';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { adjustableClock } from './helpers/clock.js';
import { createMerchant } from './helpers/factories.js';
import { ALL_SCOPES, startTestPlatform, type TestPlatform } from './helpers/platform.js';
import { mintTestOperatorToken } from './helpers/operator.js';

const clock = adjustableClock();
let t: TestPlatform;

beforeAll(async () => {
  t = await startTestPlatform({ clock, extraEnv: { APP_ACCESS_CACHE_MS: '0' } });
}, 60_000);
afterAll(() => t?.stop());

const operatorToken = () => mintTestOperatorToken(t, { clock });
const USAGE = 'query($key: String!) { app(key: $key) { usage { callsToday dailyQuota resetsAt tier bucketSize restoreRate } } }';

test('past its daily quota an app gets HTTP 429 QUOTA_EXCEEDED until the next UTC midnight; its usage counts the day', async () => {
  const store = createAppManagementStore(t.platform.database.db);
  const key = `app_quota_${crypto.randomBytes(4).toString('hex')}`;
  const developer = await store.createDeveloper({ kind: 'COMPANY', name: 'Quota ISV', email: `${key}@example.com`, verificationStatus: 'VERIFIED' });
  await store.createApp({ key, name: key, developerId: developer.id, status: 'LIVE' });
  const pkg = await store.createPackage({ name: `Everything ${key}`, description: 'tests', tier: 'FREE', scopes: ALL_SCOPES });
  await store.grantPackage('system:tests', { appKey: key, packageId: pkg.id, reason: 'tests' });
  const merchant = await createMerchant(t);
  const operator = await operatorToken();
  const set = await t.gql(operator, 'mutation($i: SetAppFlowLimitsInput!) { setAppFlowLimits(input: $i) { key } }', { i: { appKey: key, dailyQuota: 3, reason: 'a quota of three for the test' } });
  expect(set.errors).toBeUndefined();

  const token = await t.token({ merchantId: merchant.id, appKey: key });
  for (let i = 0; i < 2; i++) expect((await t.gql(token, '{ products { totalCount } }')).status).toBe(200);
  // The app reads its own usage (that call is the third of the day).
  const own = await t.gql(token, '{ viewerApp { usage { callsToday dailyQuota resetsAt tier } } }');
  expect(own.errors).toBeUndefined();
  const now = clock.now();
  const midnight = new Date(Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate() + 1));
  expect(own.data!.viewerApp.usage).toEqual({ callsToday: 3, dailyQuota: 3, resetsAt: midnight.toISOString(), tier: 'FREE' });

  const refused = await t.gql(token, '{ products { totalCount } }');
  expect(refused.status).toBe(429);
  expect(refused.data).toBeUndefined();
  expect(refused.errors![0]!.extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', resetsAt: midnight.toISOString(), dailyQuota: 3 });
  expect(refused.errors![0]!.message).toContain(midnight.toISOString());
  const retryAfter = Number(refused.headers.get('retry-after'));
  expect(Math.abs(retryAfter - Math.ceil((midnight.getTime() - clock.now()) / 1000))).toBeLessThanOrEqual(2);
  // Refused calls are not counted; operators read the same numbers.
  expect((await t.gql(operator, USAGE, { key })).data!.app.usage).toMatchObject({ callsToday: 3, dailyQuota: 3, tier: 'FREE', bucketSize: 1000, restoreRate: 50 });

  // Just before midnight: still refused. Just after: a new day.
  await clock.advance(midnight.getTime() - clock.now() - 2_000);
  const late = await t.gql(await t.token({ merchantId: merchant.id, appKey: key }), '{ products { totalCount } }');
  expect(late.errors![0]!.extensions!.code).toBe('QUOTA_EXCEEDED');
  await clock.advance(3_000);
  const fresh = await t.token({ merchantId: merchant.id, appKey: key });
  const again = await t.gql(fresh, '{ products { totalCount } }');
  expect(again.status).toBe(200);
  expect(again.errors).toBeUndefined();
  const next = (await t.gql(await operatorToken(), USAGE, { key })).data!.app.usage;
  expect(next.callsToday).toBe(1);
  expect(next.resetsAt).toBe(new Date(midnight.getTime() + 86_400_000).toISOString());
});
