/**
 * Buyers' identities as apps see them: the matrix (2 developers x 3 apps x 3 buyers: an openid per
 * app, a unionid per developer, no lookup crossing either), the passport's OpenID Connect sign-in
 * driven by a certified client library (openid-client) with the ID token validated, and the one
 * bind-or-login entry for every case the account-system article lists.
 */
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { ALL_SCOPES, startTestPlatform, type TestPlatform } from './helpers/platform.js';
import { createMerchant, createProduct, placeOrder } from './helpers/factories.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { createAccountStore } from '../subgraphs/account/store.js';

let t: TestPlatform;
let merchant: { id: string; token: string };
let skuId: string;
const apps: { key: string; developer: number }[] = [];
const buyers: { id: string; orderId: string }[] = [];
const tokens = new Map<string, string>();

const rows = <T>(result: unknown): T[] => ((result as { rows?: T[] }).rows ?? (result as T[]));

beforeAll(async () => {
  t = await startTestPlatform();
  const store = createAppManagementStore(t.platform.database.db);
  const everything = await store.createPackage({ name: `Identities: every scope ${crypto.randomUUID()}`, description: 'test', tier: 'FREE', scopes: [...ALL_SCOPES, 'users:write'] });
  for (const developer of [0, 1]) {
    const dev = await store.createDeveloper({ kind: 'COMPANY', name: `Identity Dev ${developer}`, email: `${crypto.randomUUID()}@example.com`, verificationStatus: 'VERIFIED' });
    for (let i = 0; i < 3; i++) {
      const key = `app_${crypto.randomBytes(6).toString('hex')}`;
      await store.createApp({ key, name: `Dev ${developer} app ${i}`, developerId: dev.id, status: 'LIVE', redirectUris: ['http://127.0.0.1/callback'] });
      await store.grantPackage('system:tests', { appKey: key, packageId: everything.id, reason: 'identities' });
      apps.push({ key, developer });
    }
  }
  const m = await createMerchant(t);
  merchant = m;
  const product = await createProduct(t, m.token, [{ code: 'ID-1', stock: 1000 }]);
  skuId = product.skus[0]!.id;
  const users = await createAccountStore(t.platform.database.db).createUsers([{ nickname: 'ada' }, { nickname: 'bo' }, { nickname: 'cy' }]);
  for (const user of users) {
    const order = (await placeOrder(t, m.token, [{ skuId, quantity: 1 }])).data!.placeOrder.order;
    await t.platform.database.db.execute(sql`update "order".orders set buyer_id = ${user.id} where id = ${order.id}`);
    buyers.push({ id: user.id, orderId: order.id });
  }
  for (const app of apps) tokens.set(app.key, await t.token({ merchantId: m.id, appKey: app.key, scopes: [...ALL_SCOPES, 'users:write'] }));
}, 120_000);
afterAll(() => t.stop());

const BUYER_OF_ORDER = 'query($id: ID!) { order(id: $id) { buyer { openid unionid nickname guest } } }';

async function identitiesSeenBy(appKey: string) {
  const seen = [];
  for (const buyer of buyers) {
    const response = await t.gql<any>(tokens.get(appKey)!, BUYER_OF_ORDER, { id: buyer.orderId });
    expect(response.errors).toBeUndefined();
    seen.push(response.data.order.buyer as { openid: string; unionid: string; nickname: string; guest: boolean });
  }
  return seen;
}

describe('the identity matrix: 2 developers x 3 apps x 3 buyers', () => {
  let seen: Map<string, { openid: string; unionid: string }[]>;
  beforeAll(async () => {
    seen = new Map();
    for (const app of apps) seen.set(app.key, await identitiesSeenBy(app.key));
  });

  test('an openid per buyer and app: 18 different ones, random and stable on every read', async () => {
    const all = [...seen.values()].flat().map((s) => s.openid);
    expect(new Set(all).size).toBe(apps.length * buyers.length);
    for (const openid of all) expect(openid).toMatch(/^o[A-Za-z0-9_-]{24}$/);
    for (const app of apps) expect((await identitiesSeenBy(app.key)).map((s) => s.openid)).toEqual(seen.get(app.key)!.map((s) => s.openid));
    // Nothing of the platform's user id is in them.
    for (const buyer of buyers) expect(all.join(' ')).not.toContain(buyer.id.replace(/-/g, '').slice(0, 8));
  });

  test("a unionid per buyer and developer: equal in a developer's three apps, different across developers and buyers", () => {
    for (const developer of [0, 1]) {
      const ofDeveloper = apps.filter((a) => a.developer === developer).map((a) => seen.get(a.key)!.map((s) => s.unionid));
      for (const other of ofDeveloper.slice(1)) expect(other).toEqual(ofDeveloper[0]);
      expect(new Set(ofDeveloper[0]).size).toBe(buyers.length);
    }
    const first = seen.get(apps.find((a) => a.developer === 0)!.key)!.map((s) => s.unionid);
    const second = seen.get(apps.find((a) => a.developer === 1)!.key)!.map((s) => s.unionid);
    for (const unionid of first) expect(second).not.toContain(unionid);
  });

  test("a buyer is found by the app's own openid only: another app's openid is NOT_FOUND, even the same developer's", async () => {
    for (const app of apps) {
      for (const [b, buyer] of seen.get(app.key)!.entries()) {
        const own = await t.gql<any>(tokens.get(app.key)!, 'query($o: String) { buyer(openid: $o) { openid unionid nickname } }', { o: buyer.openid });
        expect(own.data?.buyer).toEqual({ openid: buyer.openid, unionid: buyer.unionid, nickname: ['ada', 'bo', 'cy'][b] });
        for (const other of apps.filter((a) => a.key !== app.key)) {
          const crossed = await t.gql<any>(tokens.get(other.key)!, 'query($o: String) { buyer(openid: $o) { openid } }', { o: buyer.openid });
          expect(crossed.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
          expect(crossed.data).toBeNull();
        }
      }
    }
  });

  test("by unionid: found by every app of the developer, NOT_FOUND for the other developer's apps", async () => {
    for (const app of apps) {
      for (const buyer of seen.get(app.key)!) {
        for (const other of apps) {
          const response = await t.gql<any>(tokens.get(other.key)!, 'query($u: String) { buyer(unionid: $u) { openid } }', { u: buyer.unionid });
          if (other.developer === app.developer) {
            expect(response.data?.buyer.openid).toBe(seen.get(other.key)!.find((s) => s.unionid === buyer.unionid)!.openid);
          } else {
            expect(response.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
          }
        }
      }
    }
  });

  test('the database holds them one-to-one: one openid per buyer and app, one unionid per buyer and developer', async () => {
    const db = t.platform.database.db;
    const openids = rows<{ n: number; pairs: number }>(await db.execute(sql`select count(*)::int as n, count(distinct (user_id, app_key))::int as pairs from account.app_openids where retired_at is null and user_id in (${sql.join(buyers.map((b) => sql`${b.id}::uuid`), sql`, `)})`))[0]!;
    expect(openids).toEqual({ n: 18, pairs: 18 });
    const unionids = rows<{ n: number; pairs: number }>(await db.execute(sql`select count(*)::int as n, count(distinct (user_id, developer_id))::int as pairs from account.developer_unionids where retired_at is null and user_id in (${sql.join(buyers.map((b) => sql`${b.id}::uuid`), sql`, `)})`))[0]!;
    expect(unionids).toEqual({ n: 6, pairs: 6 });
    const [one] = rows<{ user_id: string; app_key: string; developer_id: string }>(await db.execute(sql`select user_id, app_key, developer_id from account.app_openids where retired_at is null limit 1`));
    await expect(db.execute(sql`insert into account.app_openids (openid, user_id, app_key, developer_id) values ('oduplicate', ${one!.user_id}, ${one!.app_key}, ${one!.developer_id})`)).rejects.toThrow();
  });

  test("the platform's user id never leaves: User.id is not in the API", async () => {
    const response = await t.gql<any>(tokens.get(apps[0]!.key)!, 'query($id: ID!) { order(id: $id) { buyer { id } } }', { id: buyers[0]!.orderId });
    expect(response.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  test('openids and unionids need users:read; a lookup with neither or both identifiers is BAD_USER_INPUT', async () => {
    const narrow = await t.token({ merchantId: merchant.id, appKey: apps[0]!.key, scopes: ['orders:read'] });
    const response = await t.gql<any>(narrow, BUYER_OF_ORDER, { id: buyers[0]!.orderId });
    expect(response.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(response.data?.order?.buyer ?? null).toBeNull();
    const none = await t.gql<any>(tokens.get(apps[0]!.key)!, '{ buyer { openid } }');
    expect(none.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const unknown = await t.gql<any>(tokens.get(apps[0]!.key)!, '{ buyer(openid: "o' + 'x'.repeat(24) + '") { openid } }');
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
