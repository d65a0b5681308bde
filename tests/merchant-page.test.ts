/**
 * The merchant page's API (/auth/merchant/* and /graphql with its session): merchant staff sign in
 * with the passport's staff password and lockout, see every app their merchant authorized (with its
 * developer, scopes and last use) and revoke one, whose tokens then stop within 5 s. A staff session
 * reaches its own merchant's authorizations only: another merchant's is NOT_FOUND, and no operator's
 * or app's operation accepts it. Real HTTP against a real database (PGlite, or DATABASE_URL).
 */
import crypto from 'node:crypto';
import { createAccountStore } from '../subgraphs/account/store.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { MAX_FAILED_SIGN_INS } from '../core/password-sign-in.js';
import { adjustableClock } from './helpers/clock.js';
import { createMerchant } from './helpers/factories.js';
import { cookieHeaderOf, originOf, postJson } from './helpers/developer.js';
import { postGraphQL, startTestPlatform, type GraphQLResponse, type TestPlatform } from './helpers/platform.js';

let t: TestPlatform;
/** The platform's time: the last test moves it past a session's 8 hours. */
const clock = adjustableClock();
const PASSWORD = 'staff-password-1234';

interface Shop {
  id: string;
  name: string;
  staff: { id: string; email: string; name: string };
  /** The merchant's authorization of the sync app, and a token of the app under it. */
  grantId: string;
  appToken: string;
}
let alpha: Shop;
let beta: Shop;
let syncApp: { key: string; name: string };
let reportApp: { key: string; name: string };

interface StaffSession {
  cookie: string;
  csrfToken: string;
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
}

async function signIn(email: string, password = PASSWORD): Promise<StaffSession> {
  const answer = await postJson(t, '/auth/merchant/sign-in', { email, password });
  if (answer.status !== 200) throw new Error(`sign-in answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  const session = { cookie: cookieHeaderOf(answer.headers), csrfToken: answer.body.csrfToken as string };
  return { ...session, gql: (query, variables) => sessionGraphQL(session, query, variables) };
}

async function sessionGraphQL<T>(session: { cookie: string; csrfToken?: string }, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>> {
  const response = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: session.cookie, ...(session.csrfToken ? { 'x-csrf-token': session.csrfToken } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: GraphQLResponse['errors'] };
  return { status: response.status, headers: response.headers, ...body };
}

/** How long until an app token is refused (HTTP 401), polling every 100 ms for up to 6 s. */
async function refusedWithin(accessToken: string): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < 6000) {
    const res = await postGraphQL(t.url, accessToken, '{ orders(first: 1) { totalCount } }');
    if (res.status === 401) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 100));
  }
  return Infinity;
}

const AUTHORIZED_APPS = `{
  viewerStaff { id name email merchant { id name } }
  merchant { id name authorizedApps { id appKey appName merchantId merchantName scopes authorizedAt revokedAt revokedBy developerName lastUsedAt } }
}`;

beforeAll(async () => {
  t = await startTestPlatform({ clock });
  const accounts = createAccountStore(t.platform.database.db);
  const apps = createAppManagementStore(t.platform.database.db, t.platform.keys.messageKeks);
  const developer = await apps.createDeveloper({ kind: 'INDIVIDUAL', name: 'Ada Lovelace', email: `ada-${crypto.randomUUID()}@example.com`, verificationStatus: 'VERIFIED' });
  const orders = await apps.createPackage({ name: `Orders ${crypto.randomUUID()}`, description: 'Orders, for the merchant page test', tier: 'FREE', scopes: ['orders:read', 'products:read'] });
  syncApp = { key: `app_${crypto.randomBytes(6).toString('hex')}`, name: 'Inventory Sync' };
  reportApp = { key: `app_${crypto.randomBytes(6).toString('hex')}`, name: 'Sales Reports' };
  for (const app of [syncApp, reportApp]) {
    await apps.createApp({ key: app.key, name: app.name, developerId: developer.id, status: 'LIVE' });
    await apps.grantPackage('system:tests', { appKey: app.key, packageId: orders.id, reason: 'merchant page test' });
  }
  const shop = async (name: string): Promise<Shop> => {
    const merchant = await createMerchant(t, name);
    const staff = { email: `staff-${crypto.randomUUID()}@example.com`, name: `${name} Manager` };
    const row = await accounts.createStaff({ merchantId: merchant.id, email: staff.email, name: staff.name, password: PASSWORD });
    const grantId = `grant_${crypto.randomUUID()}`;
    await accounts.recordAuthorization({ grantId, merchantId: merchant.id, appKey: syncApp.key, appName: syncApp.name, scopes: ['orders:read', 'products:read'], authorizedBy: row.id });
    const appToken = await t.token({ merchantId: merchant.id, appKey: syncApp.key, scopes: ['orders:read', 'products:read'], grantId });
    return { id: merchant.id, name, staff: { id: row.id, ...staff }, grantId, appToken };
  };
  alpha = await shop('Alpha Outfitters');
  beta = await shop('Beta Bakery');
  // Alpha also authorized a second app, which never called.
  await accounts.recordAuthorization({ grantId: `grant_${crypto.randomUUID()}`, merchantId: alpha.id, appKey: reportApp.key, appName: reportApp.name, scopes: ['orders:read'], authorizedBy: alpha.staff.id });
}, 60_000);
afterAll(() => t?.stop());

describe('signing in', () => {
  test('a staff member signs in: their merchant, a CSRF token, and an 8-hour HttpOnly session cookie', async () => {
    const answer = await postJson(t, '/auth/merchant/sign-in', { email: alpha.staff.email.toUpperCase(), password: PASSWORD });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ staff: alpha.staff, merchant: { id: alpha.id, name: alpha.name }, csrfToken: expect.any(String) });
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const cookies = answer.headers.getSetCookie();
    const session = cookies.find((c) => c.startsWith('portico_merchant='))!;
    const csrf = cookies.find((c) => c.startsWith('portico_merchant_csrf='))!;
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Lax/);
    expect(session).toMatch(/Max-Age=28800/);
    expect(csrf).not.toMatch(/HttpOnly/);
    expect(csrf).toContain(`=${answer.body.csrfToken};`);

    const current = await fetch(`${originOf(t)}/auth/merchant/session`, { headers: { cookie: cookieHeaderOf(answer.headers) } });
    expect(current.status).toBe(200);
    expect(await current.json()).toEqual({ staff: alpha.staff, merchant: { id: alpha.id, name: alpha.name }, csrfToken: answer.body.csrfToken });
    expect((await fetch(`${originOf(t)}/auth/merchant/session`)).status).toBe(401);
  });

  test('a wrong password or an unknown email is 401 invalid_grant, and a form post is refused', async () => {
    expect(await postJson(t, '/auth/merchant/sign-in', { email: beta.staff.email, password: 'not-the-password' })).toMatchObject({ status: 401, body: { error: 'invalid_grant' } });
    expect(await postJson(t, '/auth/merchant/sign-in', { email: 'nobody@example.com', password: PASSWORD })).toMatchObject({ status: 401, body: { error: 'invalid_grant' } });
    expect((await postJson(t, '/auth/merchant/sign-in', { email: beta.staff.email })).status).toBe(400);
    const form = await fetch(`${originOf(t)}/auth/merchant/sign-in`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `email=${encodeURIComponent(beta.staff.email)}&password=${PASSWORD}` });
    expect(form.status).toBe(415);
    // Beta's failure above counts towards the lockout; a right password clears it.
    await signIn(beta.staff.email);
  });

  test('repeated failures lock the account, even against the right password: 429 with Retry-After', async () => {
    const merchant = await createMerchant(t, 'Gamma Goods');
    const email = `locked-${crypto.randomUUID()}@example.com`;
    await createAccountStore(t.platform.database.db).createStaff({ merchantId: merchant.id, email, name: 'Gamma Clerk', password: PASSWORD });
    for (let i = 0; i < MAX_FAILED_SIGN_INS; i++) expect((await postJson(t, '/auth/merchant/sign-in', { email, password: `wrong-${i}-password` })).status).toBe(401);
    const locked = await postJson(t, '/auth/merchant/sign-in', { email, password: PASSWORD });
    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ error: 'account_locked', lockedUntil: expect.any(String) });
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(locked.headers.getSetCookie()).toEqual([]);
  });
});

describe('the authorized apps', () => {
  test('staff see every app their merchant authorized, with its developer, scopes, when, and last use', async () => {
    // The sync app calls for Alpha: its last use shows once the gateway has written its call report.
    expect((await postGraphQL(t.url, alpha.appToken, '{ orders(first: 1) { totalCount } }')).status).toBe(200);
    const staff = await signIn(alpha.staff.email);
    let answer = await staff.gql(AUTHORIZED_APPS);
    for (let waited = 0; waited < 12_000 && !answer.data?.merchant?.authorizedApps?.find((a: any) => a.appKey === syncApp.key)?.lastUsedAt; waited += 500) {
      await new Promise((r) => setTimeout(r, 500));
      answer = await staff.gql(AUTHORIZED_APPS);
    }
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.viewerStaff).toEqual({ ...alpha.staff, merchant: { id: alpha.id, name: alpha.name } });
    const apps = answer.data!.merchant.authorizedApps as any[];
    expect(apps.map((a) => a.appKey).sort()).toEqual([syncApp.key, reportApp.key].sort());
    expect(apps.find((a) => a.appKey === syncApp.key)).toEqual({
      id: alpha.grantId,
      appKey: syncApp.key,
      appName: syncApp.name,
      merchantId: alpha.id,
      merchantName: alpha.name,
      scopes: ['orders:read', 'products:read'],
      authorizedAt: expect.any(String),
      revokedAt: null,
      revokedBy: null,
      developerName: 'Ada Lovelace',
      lastUsedAt: expect.any(String),
    });
    expect(Date.now() - Date.parse(apps.find((a) => a.appKey === syncApp.key).lastUsedAt)).toBeLessThan(5 * 60_000);
    expect(apps.find((a) => a.appKey === reportApp.key)).toMatchObject({ developerName: 'Ada Lovelace', lastUsedAt: null, revokedAt: null });
    // Not one of Beta's.
    expect(JSON.stringify(answer.data)).not.toContain(beta.grantId);
  });

  test("another merchant's authorizations are out of reach: NOT_FOUND, and nothing changes", async () => {
    const staff = await signIn(alpha.staff.email);
    const foreign = await staff.gql('mutation($id: ID!) { revokeAppAuthorization(id: $id, reason: "not mine") { id revokedAt } }', { id: beta.grantId });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(foreign.data ?? null).toBeNull();
    const other = await staff.gql('query($id: ID!) { merchant(id: $id) { id name authorizedApps { id } } }', { id: beta.id });
    expect(other.data?.merchant ?? null).toBeNull();
    expect(JSON.stringify(other)).not.toContain(beta.grantId);
    // Beta's app still calls.
    expect((await postGraphQL(t.url, beta.appToken, '{ orders(first: 1) { totalCount } }')).status).toBe(200);
    const betaStaff = await signIn(beta.staff.email);
    expect((await betaStaff.gql('{ merchant { authorizedApps { id revokedAt } } }')).data!.merchant.authorizedApps).toEqual([{ id: beta.grantId, revokedAt: null }]);
  });

  test("revoking an app: it is marked revoked by the merchant's staff member, and the app's next calls are refused within 5 s", async () => {
    const staff = await signIn(alpha.staff.email);
    expect((await postGraphQL(t.url, alpha.appToken, '{ orders(first: 1) { totalCount } }')).status).toBe(200);
    const revoked = await staff.gql('mutation($id: ID!, $reason: String) { revokeAppAuthorization(id: $id, reason: $reason) { id appKey revokedAt revokedBy } }', { id: alpha.grantId, reason: 'We stopped using it' });
    expect(revoked.errors).toBeUndefined();
    expect(revoked.data!.revokeAppAuthorization).toEqual({ id: alpha.grantId, appKey: syncApp.key, revokedAt: expect.any(String), revokedBy: `merchant:${alpha.id} staff:${alpha.staff.id}` });
    expect(await refusedWithin(alpha.appToken)).toBeLessThan(5000);
    const listed = await staff.gql('{ merchant { authorizedApps { id revokedAt } } }');
    expect(listed.data!.merchant.authorizedApps).toContainEqual({ id: alpha.grantId, revokedAt: expect.any(String) });
  });
});

describe('a staff session is for the merchant page only', () => {
  const operatorAndAppOperations: [string, string, Record<string, unknown>?][] = [
    ['orders', '{ orders(first: 1) { totalCount } }'],
    ['products', '{ products(first: 1) { totalCount } }'],
    ["the merchant's profile", '{ merchant { contact { email } } }'],
    ['createProduct', 'mutation { createProduct(input: { title: "Nope", skus: [{ code: "N-1", price: { amount: 100, currency: "USD" }, stock: 1 }] }) { product { id } } }'],
    ['merchantAuthorizations', 'query($m: ID!) { merchantAuthorizations(merchantId: $m) { id } }'],
    ['apps', '{ apps(first: 1) { totalCount } }'],
    ['developers', '{ developers(first: 1) { totalCount } }'],
    ['auditLog', '{ auditLog(first: 1) { totalCount } }'],
    ['setAppStatus', 'mutation($k: String!) { setAppStatus(input: { appKey: $k, status: SUSPENDED, reason: "no" }) { key } }'],
    ['viewerDeveloper', '{ viewerDeveloper { id } }'],
    ['messageStream', '{ messageStream { topics { topic } } }'],
    ['rotateAppSecret', 'mutation($k: String) { rotateAppSecret(graceHours: 0, appKey: $k) { secret } }'],
  ];

  // One session for the matrix: each sign-in costs a scrypt.
  let staff: StaffSession;
  beforeAll(async () => {
    staff = await signIn(beta.staff.email);
  });

  test.each(operatorAndAppOperations)('%s is FORBIDDEN', async (_name, query) => {
    const answer = await staff.gql(query, { m: beta.id, k: syncApp.key });
    expect(answer.errors?.length).toBeGreaterThan(0);
    // A query the schema refuses (an operation shaped for apps) would not prove the session is refused.
    expect(answer.errors!.map((e) => e.extensions?.code)).not.toContain('GRAPHQL_VALIDATION_FAILED');
    expect(answer.errors![0]!.extensions?.code).toBe('FORBIDDEN');
    // Nothing answered: no data, or the (nullable) field null.
    for (const value of Object.values(answer.data ?? {})) expect(value).toBeNull();
  });

  test('an app token cannot use the merchant page operations', async () => {
    const answer = await postGraphQL(t.url, beta.appToken, '{ viewerStaff { id } }');
    expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const revoke = await postGraphQL(t.url, beta.appToken, 'mutation($id: ID!) { revokeAppAuthorization(id: $id) { id } }', { id: beta.grantId });
    expect(revoke.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  test('every /graphql request with the session cookie needs its CSRF token', async () => {
    const staff = await signIn(beta.staff.email);
    const without = await sessionGraphQL({ cookie: staff.cookie }, '{ viewerStaff { id } }');
    expect(without.status).toBe(403);
    expect(without.errors?.[0]?.extensions?.code).toBe('CSRF_TOKEN_INVALID');
    const wrong = await sessionGraphQL({ cookie: staff.cookie, csrfToken: crypto.randomBytes(32).toString('base64url') }, '{ viewerStaff { id } }');
    expect(wrong.status).toBe(403);
    const signOut = await fetch(`${originOf(t)}/auth/merchant/sign-out`, { method: 'POST', headers: { cookie: staff.cookie } });
    expect(signOut.status).toBe(403);
    expect((await staff.gql('{ viewerStaff { id } }')).data).toEqual({ viewerStaff: { id: beta.staff.id } });
  });

  test('signing out ends the session: its cookie is cleared and refused from then on', async () => {
    const staff = await signIn(beta.staff.email);
    const signOut = await fetch(`${originOf(t)}/auth/merchant/sign-out`, { method: 'POST', headers: { cookie: staff.cookie, 'x-csrf-token': staff.csrfToken } });
    expect(signOut.status).toBe(204);
    expect(signOut.headers.getSetCookie().every((c) => c.includes('Max-Age=0'))).toBe(true);
    const after = await staff.gql('{ viewerStaff { id } }');
    expect(after.status).toBe(401);
    expect(after.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await fetch(`${originOf(t)}/auth/merchant/session`, { headers: { cookie: staff.cookie } })).status).toBe(401);
  });

  test('signing in again in the same browser ends the session it held', async () => {
    const first = await signIn(beta.staff.email);
    const again = await postJson(t, '/auth/merchant/sign-in', { email: beta.staff.email, password: PASSWORD }, { cookie: first.cookie });
    expect(again.status).toBe(200);
    expect((await first.gql('{ viewerStaff { id } }')).status).toBe(401);
    const second = { cookie: cookieHeaderOf(again.headers), csrfToken: again.body.csrfToken as string };
    expect((await sessionGraphQL(second, '{ viewerStaff { id } }')).data).toEqual({ viewerStaff: { id: beta.staff.id } });
  });
});

// Last: it moves the platform's clock 8 hours on, past every token the tests above hold.
describe('a session lasts 8 hours', () => {
  test('the session answers until its eighth hour ends, and is refused after', async () => {
    const staff = await signIn(beta.staff.email);
    await clock.advance(8 * 3_600_000 - 60_000);
    expect((await staff.gql('{ viewerStaff { id } }')).data).toEqual({ viewerStaff: { id: beta.staff.id } });
    await clock.advance(2 * 60_000);
    const after = await staff.gql('{ viewerStaff { id } }');
    expect(after.status).toBe(401);
    expect(after.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await fetch(`${originOf(t)}/auth/merchant/session`, { headers: { cookie: staff.cookie } })).status).toBe(401);
  });
});
