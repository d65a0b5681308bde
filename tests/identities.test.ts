/**
 * Buyers' identities as apps see them: the matrix (2 developers x 3 apps x 3 buyers: an openid per
 * app, a unionid per developer, no lookup crossing either), the passport's OpenID Connect sign-in
 * driven by a certified client library (openid-client) with the ID token validated, and the one
 * bind-or-login entry for every case the account-system article lists.
 */
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import * as oauth from 'openid-client';
import { SMTPServer } from 'smtp-server';
import { actionOf, Browser, csrfOf } from './helpers/browser.js';
import { ALL_SCOPES, startTestPlatform, type TestPlatform } from './helpers/platform.js';
import { createMerchant, createProduct, placeOrder } from './helpers/factories.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { createAccountStore } from '../subgraphs/account/store.js';

let t: TestPlatform;
let merchant: { id: string; token: string };
let skuId: string;
const apps: { key: string; developer: number; secret: string }[] = [];
const REDIRECT = 'http://127.0.0.1:8976/callback';
let smtp: SMTPServer;
const inbox: { to: string[]; raw: string }[] = [];
const buyers: { id: string; orderId: string }[] = [];
const tokens = new Map<string, string>();

const rows = <T>(result: unknown): T[] => ((result as { rows?: T[] }).rows ?? (result as T[]));

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        inbox.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  t = await startTestPlatform({ extraEnv: { SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as { port: number }).port}`, MAIL_FROM: 'Portico Test <passport@example.com>' } });
  const store = createAppManagementStore(t.platform.database.db);
  const everything = await store.createPackage({ name: `Identities: every scope ${crypto.randomUUID()}`, description: 'test', tier: 'FREE', scopes: [...ALL_SCOPES, 'users:write'] });
  for (const developer of [0, 1]) {
    const dev = await store.createDeveloper({ kind: 'COMPANY', name: `Identity Dev ${developer}`, email: `${crypto.randomUUID()}@example.com`, verificationStatus: 'VERIFIED' });
    for (let i = 0; i < 3; i++) {
      const key = `app_${crypto.randomBytes(6).toString('hex')}`;
      const { secret } = await store.createApp({ key, name: `Dev ${developer} app ${i}`, developerId: dev.id, status: 'LIVE', redirectUris: [REDIRECT] });
      await store.grantPackage('system:tests', { appKey: key, packageId: everything.id, reason: 'identities' });
      apps.push({ key, developer, secret });
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
afterAll(async () => {
  await t?.stop();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

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

describe('buyers sign in to apps with OpenID Connect (openid-client, ID token validated)', () => {
  const email = `buyer.${crypto.randomBytes(4).toString('hex')}@example.com`;
  const password = 'correct horse battery';
  /** One browser: the buyer's passport session carries from one app's sign-in to the next. */
  const browser = () => new Browser(t.platform.config.publicUrl);
  let buyerBrowser: Browser;

  const clientOf = (app: { key: string; secret: string }) =>
    oauth.discovery(new URL(t.platform.config.publicUrl), app.key, undefined, oauth.ClientSecretBasic(app.secret), { execute: [oauth.allowInsecureRequests] });

  /** Starts the code flow with PKCE and a nonce; returns the first passport page and what the client needs to finish. */
  async function start(app: { key: string; secret: string }, b: Browser, scope = 'openid profile') {
    const config = await clientOf(app);
    const verifier = oauth.randomPKCECodeVerifier();
    const state = oauth.randomState();
    const nonce = oauth.randomNonce();
    const url = oauth.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce });
    const first = await b.follow(url.href);
    const finish = async (landing: { location: string | null }) =>
      oauth.authorizationCodeGrant(config, new URL(landing.location!), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    return { config, first, finish };
  }

  const codeIn = (to: string) => {
    const mail = inbox.filter((m) => m.to.includes(to)).at(-1);
    return /code: ([A-Z0-9]{8})/.exec(mail?.raw ?? '')?.[1];
  };

  test('a new buyer registers (email verified by a code), consents, and the app gets an ID token: sub is its openid, unionid its developer\'s', async () => {
    buyerBrowser = browser();
    const app = apps[0]!;
    const flow = await start(app, buyerBrowser);
    expect(flow.first.status).toBe(200);
    expect(flow.first.body).toContain(`Sign in to Dev 0 app 0`);
    expect(flow.first.body).toContain('Create an account');
    expect(flow.first.body).not.toMatch(/<style|style="|<script/i);
    expect(flow.first.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");

    const verify = await buyerBrowser.follow(actionOf(flow.first.body, 'register'), { method: 'POST', form: { csrf: csrfOf(flow.first.body), name: 'Dana Buyer', email, password } });
    expect(verify.status).toBe(200);
    expect(verify.body).toContain('Check your email');
    const code = codeIn(email);
    expect(code).toMatch(/^[A-Z0-9]{8}$/);
    // A wrong code is refused (and counts as a failed sign-in).
    const wrong = await buyerBrowser.follow(actionOf(verify.body, 'verify'), { method: 'POST', form: { csrf: csrfOf(verify.body), email, code: 'AAAAAAAA' } });
    expect(wrong.status).toBe(401);
    const consent = await buyerBrowser.follow(actionOf(wrong.body, 'verify'), { method: 'POST', form: { csrf: csrfOf(wrong.body), email, code: code! } });
    expect(consent.status).toBe(200);
    expect(consent.body).toContain('Sign in to Dev 0 app 0?');
    expect(consent.body).toContain('Signed in as <strong>Dana Buyer</strong>');
    const landing = await buyerBrowser.follow(actionOf(consent.body, 'confirm'), { method: 'POST', form: { csrf: csrfOf(consent.body) } });
    expect(landing.location).toMatch(/^http:\/\/127\.0\.0\.1:8976\/callback\?code=/);

    const tokens = await flow.finish(landing);
    const claims = tokens.claims()!;
    expect(claims.iss).toBe(t.platform.config.publicUrl);
    expect(claims.aud).toBe(app.key);
    expect(claims.sub).toMatch(/^o[A-Za-z0-9_-]{24}$/);
    expect(claims.unionid).toMatch(/^u[A-Za-z0-9_-]{24}$/);
    expect(claims.name).toBe('Dana Buyer');
    // The sub is the openid the app sees in the API, the unionid its developer's.
    const seen = await t.gql<any>(tokens_(app.key), 'query($o: String) { buyer(openid: $o) { openid unionid nickname guest } }', { o: claims.sub });
    expect(seen.data?.buyer).toEqual({ openid: claims.sub, unionid: claims.unionid, nickname: 'Dana Buyer', guest: false });

    // userinfo answers the same; the buyer's access token is for it alone, not for the API.
    const info = await oauth.fetchUserInfo(flow.config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ sub: claims.sub, unionid: claims.unionid, name: 'Dana Buyer' });
    expect(tokens.access_token.split('.')).toHaveLength(1);
    const api = await t.gql<any>(tokens.access_token, '{ merchant { id } }');
    expect(api.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    signedIn.set(app.key, { sub: claims.sub, unionid: claims.unionid as string });
  });

  const signedIn = new Map<string, { sub: string; unionid: string }>();
  const tokens_ = (appKey: string) => tokens.get(appKey)!;

  test("the same buyer in the developer's second app and in the other developer's app: another sub each, the developer's unionid or another", async () => {
    for (const app of [apps[1]!, apps[3]!]) {
      const flow = await start(app, buyerBrowser);
      // Signed in already in this browser: straight to consent.
      expect(flow.first.body).toContain(`Sign in to ${app.developer === 0 ? 'Dev 0 app 1' : 'Dev 1 app 0'}?`);
      const landing = await buyerBrowser.follow(actionOf(flow.first.body, 'confirm'), { method: 'POST', form: { csrf: csrfOf(flow.first.body) } });
      const claims = (await flow.finish(landing)).claims()!;
      signedIn.set(app.key, { sub: claims.sub, unionid: claims.unionid as string });
    }
    const first = signedIn.get(apps[0]!.key)!;
    const sameDeveloper = signedIn.get(apps[1]!.key)!;
    const otherDeveloper = signedIn.get(apps[3]!.key)!;
    expect(sameDeveloper.sub).not.toBe(first.sub);
    expect(sameDeveloper.unionid).toBe(first.unionid);
    expect(otherDeveloper.sub).not.toBe(first.sub);
    expect(otherDeveloper.unionid).not.toBe(first.unionid);
    // Another app's openid finds nobody.
    const crossed = await t.gql<any>(tokens_(apps[1]!.key), 'query($o: String) { buyer(openid: $o) { openid } }', { o: first.sub });
    expect(crossed.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  test('signing in again (a new browser, a password this time) gives the same sub and unionid', async () => {
    const again = browser();
    const flow = await start(apps[0]!, again);
    const consent = await again.follow(actionOf(flow.first.body, 'login'), { method: 'POST', form: { csrf: csrfOf(flow.first.body), email, password } });
    expect(consent.status).toBe(200);
    const landing = await again.follow(actionOf(consent.body, 'confirm'), { method: 'POST', form: { csrf: csrfOf(consent.body) } });
    const claims = (await flow.finish(landing)).claims()!;
    expect({ sub: claims.sub, unionid: claims.unionid }).toEqual(signedIn.get(apps[0]!.key));
  });

  test('a wrong password is refused; five in a row lock the account, even against the right one', async () => {
    const b = browser();
    const flow = await start(apps[2]!, b);
    let page = flow.first;
    for (let i = 0; i < 5; i++) {
      page = await b.follow(actionOf(page.body, 'login'), { method: 'POST', form: { csrf: csrfOf(page.body), email, password: 'wrong password!' } });
      expect(page.status).toBe(401);
    }
    const locked = await b.follow(actionOf(page.body, 'login'), { method: 'POST', form: { csrf: csrfOf(page.body), email, password } });
    expect(locked.status).toBe(401);
    expect(locked.body).toContain('Too many failed sign-ins');
    await t.platform.database.db.execute(sql`update account.buyer_accounts set failed_sign_ins = 0, locked_until = null where lower(email) = lower(${email})`);
  });

  test('an email already registered cannot be registered again; an unverified account cannot sign in', async () => {
    const b = browser();
    const flow = await start(apps[2]!, b);
    const again = await b.follow(actionOf(flow.first.body, 'register'), { method: 'POST', form: { csrf: csrfOf(flow.first.body), name: 'Mallory', email, password: 'another long password' } });
    expect(again.status).toBe(400);
    expect(again.body).toContain('already has an account');
    const other = `pending.${crypto.randomBytes(4).toString('hex')}@example.com`;
    const pending = await b.follow(actionOf(again.body, 'register'), { method: 'POST', form: { csrf: csrfOf(again.body), name: 'Pending', email: other, password } });
    expect(pending.body).toContain('Check your email');
    const b2 = browser();
    const flow2 = await start(apps[2]!, b2);
    const refused = await b2.follow(actionOf(flow2.first.body, 'login'), { method: 'POST', form: { csrf: csrfOf(flow2.first.body), email: other, password } });
    expect(refused.status).toBe(401);
    expect(refused.body).toContain('Verify your email first');
  });

  test('the discovery document offers openid with pairwise subjects, the unionid claim and userinfo', async () => {
    const discovery = (await (await fetch(new URL('/.well-known/openid-configuration', t.platform.config.publicUrl))).json()) as Record<string, any>;
    expect(discovery.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile']));
    expect(discovery.subject_types_supported).toEqual(expect.arrayContaining(['pairwise']));
    expect(discovery.claims_supported).toEqual(expect.arrayContaining(['sub', 'unionid', 'name']));
    expect(discovery.userinfo_endpoint).toBe(`${t.platform.config.publicUrl}/oauth/me`);
  });
});

describe('bind-or-login: the one entry, for every case of the account-system article', () => {
  const BIND = `mutation($input: BindBuyerInput!) { bindBuyer(input: $input) { created merged buyer { openid unionid guest nickname } } }`;
  const bind = (appKey: string, input: Record<string, string>) => t.gql<any>(tokens_(appKey), BIND, { input });
  const tokens_ = (appKey: string) => tokens.get(appKey)!;
  const guest = () => `device-${crypto.randomUUID()}`;
  let matrix: { openid: string; unionid: string }[][];

  beforeAll(async () => {
    matrix = [];
    for (const app of apps) matrix.push(await identitiesSeenBy(app.key));
  });

  test('new: a guest seen for the first time becomes a virtual buyer, once; the same guest again is the same buyer', async () => {
    const g = guest();
    const first = await bind(apps[0]!.key, { guestId: g });
    expect(first.errors).toBeUndefined();
    expect(first.data!.bindBuyer).toMatchObject({ created: true, merged: 0, buyer: { guest: true } });
    const again = await bind(apps[0]!.key, { guestId: g });
    expect(again.data!.bindBuyer).toMatchObject({ created: false, merged: 0, buyer: first.data!.bindBuyer.buyer });
    // Guest ids are the app's own: another app giving the same string has another guest.
    const elsewhere = await bind(apps[1]!.key, { guestId: g });
    expect(elsewhere.data!.bindBuyer.created).toBe(true);
    expect(elsewhere.data!.bindBuyer.buyer.unionid).not.toBe(first.data!.bindBuyer.buyer.unionid);
  });

  test('known by unionid: a new guest of a buyer the developer knows is linked to that buyer, nothing created', async () => {
    const ada = { app0: matrix[0]![0]!, app1: matrix[1]![0]! };
    const g = guest();
    const bound = await bind(apps[1]!.key, { unionid: ada.app0.unionid, guestId: g });
    expect(bound.data!.bindBuyer).toEqual({ created: false, merged: 0, buyer: { openid: ada.app1.openid, unionid: ada.app0.unionid, guest: false, nickname: 'ada' } });
    const byGuest = await bind(apps[1]!.key, { guestId: g });
    expect(byGuest.data!.bindBuyer.buyer.openid).toBe(ada.app1.openid);
  });

  test('known by openid (a signed-in buyer, as the passport itself binds by user id): the same buyer, its ids unchanged', async () => {
    const bo = matrix[3]![1]!;
    const bound = await bind(apps[3]!.key, { openid: bo.openid });
    expect(bound.data!.bindBuyer).toEqual({ created: false, merged: 0, buyer: { openid: bo.openid, unionid: bo.unionid, guest: false, nickname: 'bo' } });
  });

  test("conflicting: an openid and a unionid of two different signed-in buyers are refused (CONFLICT) and nothing changes", async () => {
    const ada = matrix[0]![0]!;
    const bo = matrix[0]![1]!;
    const refused = await bind(apps[0]!.key, { openid: ada.openid, unionid: bo.unionid });
    expect(refused.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const g = guest();
    const withGuest = await bind(apps[0]!.key, { openid: ada.openid, unionid: bo.unionid, guestId: g });
    expect(withGuest.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    // Nothing was kept: the guest is unknown still, and each buyer keeps its ids.
    expect((await bind(apps[0]!.key, { guestId: g })).data!.bindBuyer.created).toBe(true);
    expect((await identitiesSeenBy(apps[0]!.key)).slice(0, 2)).toEqual([expect.objectContaining(ada), expect.objectContaining(bo)]);
  });

  test('duplicates merged: a guest named with a signed-in buyer merges into the buyer; its old openid still finds them', async () => {
    const cy = matrix[0]![2]!;
    const g = guest();
    const virtual = (await bind(apps[0]!.key, { guestId: g })).data!.bindBuyer.buyer;
    const merged = await bind(apps[0]!.key, { openid: cy.openid, guestId: g });
    expect(merged.data!.bindBuyer).toEqual({ created: false, merged: 1, buyer: { openid: cy.openid, unionid: cy.unionid, guest: false, nickname: 'cy' } });
    const old = await t.gql<any>(tokens_(apps[0]!.key), 'query($o: String) { buyer(openid: $o) { openid } }', { o: virtual.openid });
    expect(old.data?.buyer.openid).toBe(cy.openid);
    // De-duplicated after linking: the guest id names the buyer now; binding again merges nothing.
    expect((await bind(apps[0]!.key, { guestId: g })).data!.bindBuyer).toMatchObject({ created: false, merged: 0, buyer: { openid: cy.openid } });
    expect((await bind(apps[0]!.key, { openid: cy.openid, guestId: g })).data!.bindBuyer.merged).toBe(0);
  });

  test('two guests recognized as one person (same unionid) merge into the earliest, in either app', async () => {
    const earlier = (await bind(apps[0]!.key, { guestId: guest() })).data!.bindBuyer.buyer;
    const g = guest();
    const later = (await bind(apps[1]!.key, { guestId: g })).data!.bindBuyer.buyer;
    const merged = await bind(apps[1]!.key, { guestId: g, unionid: earlier.unionid });
    expect(merged.data!.bindBuyer).toMatchObject({ merged: 1, buyer: { unionid: earlier.unionid, guest: true } });
    // The earlier buyer survives; app 1's openid of the later guest moved to it (app 1 had none of the earlier one).
    expect(merged.data!.bindBuyer.buyer.openid).toBe(later.openid);
    const inApp0 = await t.gql<any>(tokens_(apps[0]!.key), 'query($u: String) { buyer(unionid: $u) { openid } }', { u: earlier.unionid });
    expect(inApp0.data?.buyer.openid).toBe(earlier.openid);
  });

  test("refusals: another app's openid is NOT_FOUND, nothing given or a malformed guest id is BAD_USER_INPUT, users:write is needed", async () => {
    expect((await bind(apps[1]!.key, { openid: matrix[0]![0]!.openid })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await bind(apps[3]!.key, { unionid: matrix[0]![0]!.unionid })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await bind(apps[0]!.key, {})).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await bind(apps[0]!.key, { guestId: 'x'.repeat(129) })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const readOnly = await t.token({ merchantId: merchant.id, appKey: apps[0]!.key, scopes: ['users:read'] });
    expect((await t.gql<any>(readOnly, BIND, { input: { guestId: guest() } })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
