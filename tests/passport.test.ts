/**
 * The passport with a real OAuth client (openid-client) over HTTP: authorization code + PKCE through
 * the sign-in and consent pages, tokens used at the gateway, and each failure the issue names.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { sql, type SQL } from 'drizzle-orm';
import * as oauth from 'openid-client';
import { DEMO_APP_KEY, DEMO_STAFF_EMAIL } from '../demo/seed.js';
import { oauthStoreKey } from '../subgraphs/account/passport/store-key.js';
import { actionOf, Browser, csrfOf } from './helpers/browser.js';
import { adjustableClock } from './helpers/clock.js';
import { enrolOperator, type EnrolledOperator } from './helpers/operator.js';
import { postGraphQL, startTestPlatform, type TestPlatform } from './helpers/platform.js';

let t: TestPlatform;
/** Moved past the gateway's access cache instead of sleeping it out. */
const clock = adjustableClock();
/** The demo operator, once their first console sign-in enrolled TOTP: operator tokens need a code. */
let demoOperator: EnrolledOperator | undefined;
async function demoOperatorToken(): Promise<string> {
  demoOperator ??= await enrolOperator(t, t.platform.demo!.operator.email, t.platform.demo!.operator.password!, clock);
  return demoOperator.token();
}
let origin: string;
let appSecret: string;
let staffPassword: string;
const REDIRECT = 'http://127.0.0.1:8976/callback';

beforeAll(async () => {
  t = await startTestPlatform({ seed: true, clock });
  origin = t.platform.config.publicUrl;
  appSecret = t.platform.demo!.appSecret!;
  staffPassword = t.platform.demo!.staffLogin.password!;
}, 120_000);
afterAll(() => t.stop());

function clientConfig(secret = appSecret) {
  return oauth.discovery(new URL(origin), DEMO_APP_KEY, undefined, oauth.ClientSecretBasic(secret), { execute: [oauth.allowInsecureRequests] });
}

/** Runs the whole code flow with PKCE; returns the page the browser lands on (the app's redirect) and what the client needs. */
async function authorize(options: { scope?: string; deny?: boolean; email?: string; password?: string; browser?: Browser; beforeConsent?: (consent: { body: string }) => Promise<void> } = {}) {
  const config = await clientConfig();
  const verifier = oauth.randomPKCECodeVerifier();
  const state = oauth.randomState();
  const url = oauth.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: options.scope ?? 'orders:read merchant:read',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const browser = options.browser ?? new Browser(origin);
  const login = await browser.follow(url.href);
  expect(login.status).toBe(200);
  expect(login.body).toContain('Acme ERP Sync');
  expect(login.headers.get('x-frame-options')).toBe('DENY');
  expect(login.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  const consent = await browser.follow(actionOf(login.body, 'login'), {
    method: 'POST',
    form: { email: options.email ?? DEMO_STAFF_EMAIL, password: options.password ?? staffPassword, csrf: csrfOf(login.body) },
  });
  if (consent.status !== 200) return { config, verifier, state, browser, landing: consent };
  await options.beforeConsent?.(consent);
  const landing = await browser.follow(actionOf(consent.body, options.deny ? 'abort' : 'confirm'), { method: 'POST', form: { csrf: csrfOf(consent.body) } });
  return { config, verifier, state, browser, landing, consent };
}

async function exchange(flow: Awaited<ReturnType<typeof authorize>>, verifier = flow.verifier) {
  return oauth.authorizationCodeGrant(flow.config, new URL(flow.landing.location!), { pkceCodeVerifier: verifier, expectedState: flow.state });
}

describe('authorization code with PKCE', () => {
  test('staff sign in, see the app and its scopes, approve; the code becomes tokens the gateway accepts', async () => {
    const flow = await authorize();
    expect(flow.consent!.body).toContain('Acme ERP Ltd.');
    expect(flow.consent!.body).toContain('orders:read');
    expect(flow.landing.status).toBe(303);
    expect(flow.landing.location).toMatch(/^http:\/\/127\.0\.0\.1:8976\/callback\?code=/);
    const tokens = await exchange(flow);
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.expires_in).toBeLessThanOrEqual(7200);
    expect(tokens.refresh_token).toBeDefined();
    const [header, payload] = tokens.access_token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    expect(payload).toMatchObject({ sub: t.platform.demo!.merchantId, client_id: DEMO_APP_KEY, aud: 'urn:portico:api', iss: origin, scope: 'orders:read merchant:read' });
    const res = await postGraphQL<any>(t.url, tokens.access_token, '{ merchant { name } orders(first: 1) { totalCount } }');
    expect(res.data).toEqual({ merchant: { name: t.platform.demo!.merchantName }, orders: { totalCount: 110 } });
  });

  test('the consent page names the shop and the staff member who signed in, escaped, and says readably what the app asks for', async () => {
    const { createAccountStore } = await import('../subgraphs/account/store.js');
    // "Lotus Home & Kitchen", a test merchant, so the SANDBOX demo app may ask it.
    const lotus = t.platform.demo!.otherMerchantIds[0]!;
    const email = `o'brien.${crypto.randomBytes(4).toString('hex')}@lotushome.example`;
    const password = 'a long enough password';
    await createAccountStore(t.platform.database.db).createStaff({ merchantId: lotus, email, name: "Zoë <b>O'Brien</b>", password });

    const flow = await authorize({ email, password, scope: 'orders:read merchant:read', deny: true });
    expect(flow.consent).toBeDefined();
    const page = flow.consent!.body;
    expect(page).toContain('<h1>Acme ERP Sync wants to act for Lotus Home &amp; Kitchen</h1>');
    expect(page).toContain(`Signed in as <strong>Zoë &lt;b&gt;O&#39;Brien&lt;/b&gt;</strong> (${email.replace("'", '&#39;')}), staff of <strong>Lotus Home &amp; Kitchen</strong>.`);
    expect(page).not.toContain('<b>O');
    expect(page).toContain('<li>Read the merchant&#39;s orders: status, lines, totals, shipment and history. Buyer contact details need orders:read_pii. <code>orders:read</code></li>');
    expect(page).toContain('<code>merchant:read</code>');
  });

  test('the sign-in and consent pages wear the portal\'s look: its logo and name, one stylesheet from the platform, no inline style or script, a primary and a secondary button', async () => {
    const config = await clientConfig();
    const url = oauth.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'orders:read',
      code_challenge: await oauth.calculatePKCECodeChallenge(oauth.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state: oauth.randomState(),
    });
    const browser = new Browser(origin);
    const login = await browser.follow(url.href);
    const consent = await browser.follow(actionOf(login.body, 'login'), { method: 'POST', form: { email: DEMO_STAFF_EMAIL, password: staffPassword, csrf: csrfOf(login.body) } });
    expect(consent.status).toBe(200);
    const stylesheets = new Set<string>();
    for (const page of [login, consent]) {
      const csp = page.headers.get('content-security-policy')!;
      expect(csp).toContain("style-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toMatch(/script-src/);
      expect(page.body).not.toMatch(/<style|style="|<script|\son[a-z]+="/i);
      expect(page.body).toMatch(/<header class="brand"><svg aria-hidden="true"[^>]*>[\s\S]*<\/svg><span class="brand-name">Portico<\/span>/);
      for (const [, href] of page.body.matchAll(/<link rel="stylesheet" href="([^"]+)">/g)) stylesheets.add(href!);
    }
    expect(login.body).toContain('<button type="submit" class="button button-primary">Sign in</button>');
    expect(login.body).toContain('class="button button-secondary">Cancel and go back to the app</button>');
    expect(consent.body).toContain('class="button button-primary">Approve</button>');
    expect(consent.body).toContain('class="button button-secondary">Deny</button>');
    // The scope's description comes first, its name after.
    expect(consent.body.indexOf('Read the merchant&#39;s orders')).toBeLessThan(consent.body.indexOf('<code>orders:read</code>'));

    expect([...stylesheets]).toHaveLength(1);
    const [href] = [...stylesheets];
    expect(href).toMatch(/^\/interaction\/passport\.css\?v=[\w-]+$/);
    const css = await fetch(new URL(href!, origin));
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toContain('immutable');
    const sheet = await css.text();
    expect(sheet).toContain('.button-primary');
    // The portal's primary color (web/src/theme.ts: the light scheme's primary shade of its blue) is the passport's.
    const theme = fs.readFileSync(new URL('../web/src/theme.ts', import.meta.url), 'utf8');
    const shade = Number(/primaryShade: \{ light: (\d+)/.exec(theme)![1]);
    const blue = /porticoBlue: MantineColorsTuple = \[([^\]]+)\]/.exec(theme)![1]!.split(',').map((c) => c.trim().replace(/'/g, ''));
    expect(sheet).toContain(`--primary: ${blue[shade]};`);
    expect((await fetch(new URL(href!, origin), { method: 'POST' })).status).toBe(405);

    // The pages still work as plain forms: deny sends the browser back to the app.
    const landing = await browser.follow(actionOf(consent.body, 'abort'), { method: 'POST', form: { csrf: csrfOf(consent.body) } });
    expect(new URL(landing.location!).searchParams.get('error')).toBe('access_denied');
  });
});

/** The token endpoint called directly, to send exactly what a failure case needs. */
async function tokenRequest(params: Record<string, string>, secret = appSecret) {
  const response = await fetch(`${origin}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(DEMO_APP_KEY)}:${encodeURIComponent(secret)}`).toString('base64')}`,
    },
    body: new URLSearchParams(params).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

const codeOf = (location: string | null) => new URL(location!).searchParams.get('code')!;

/** Polls the gateway until the token is refused (or 6 s pass); returns how long that took. */
async function refusedWithin(accessToken: string): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < 6000) {
    const res = await postGraphQL(t.url, accessToken, '{ orders(first: 1) { totalCount } }');
    if (res.status === 401) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 100));
  }
  return Infinity;
}

describe('redirect URIs are matched exactly (only a loopback port may vary)', () => {
  test.each([
    ['a trailing slash', 'http://127.0.0.1:8976/callback/'],
    ['another case', 'http://127.0.0.1:8976/Callback'],
    ['an extra path', 'http://127.0.0.1:8976/callback/extra'],
    ['http on a non-loopback host', 'http://example.com/callback'],
  ])('%s is refused on the platform, never redirected to', async (_label, redirectUri) => {
    const config = await clientConfig();
    const url = oauth.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'orders:read', code_challenge: await oauth.calculatePKCECodeChallenge(oauth.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const page = await new Browser(origin).follow(url.href);
    expect(page.status).toBe(400);
    expect(page.location).toBeNull();
    expect(page.body).toMatch(/redirect_uri/);
  });

  test('the port varies only for loopback IP literals (RFC 8252 §7.3): an app registered on localhost is matched exactly', async () => {
    const { createAppManagementStore } = await import('../subgraphs/app-management/store.js');
    const store = createAppManagementStore(t.platform.database.db);
    const developer = await store.createDeveloper({ kind: 'COMPANY', name: 'Native tools', email: `native-${crypto.randomUUID()}@example.com` });
    const pkg = await store.createPackage({ name: `Orders ${crypto.randomUUID()}`, description: 'test', tier: 'FREE', scopes: ['orders:read'] });
    const appWith = async (redirectUri: string) => {
      const key = `app_native_${crypto.randomBytes(4).toString('hex')}`;
      await store.createApp({ key, name: 'Native tool', developerId: developer.id, status: 'LIVE', redirectUris: [redirectUri] });
      await store.grantPackage('system:tests', { appKey: key, packageId: pkg.id, reason: 'tests' });
      return key;
    };
    /** Whether the passport takes the redirect URI: it shows the sign-in page, or refuses with 400 and sends the browser nowhere. */
    const accepted = async (key: string, redirectUri: string) => {
      const url = new URL('/oauth/authorize', origin);
      const params = { response_type: 'code', client_id: key, redirect_uri: redirectUri, scope: 'orders:read', code_challenge: await oauth.calculatePKCECodeChallenge(oauth.randomPKCECodeVerifier()), code_challenge_method: 'S256' };
      url.search = new URLSearchParams(params).toString();
      const page = await new Browser(origin).follow(url.href);
      if (page.status === 400 && page.location === null) return false;
      expect(page.body).toContain('Sign in to authorize Native tool');
      return true;
    };
    const ipv6 = await appWith('http://[::1]/callback');
    expect(await accepted(ipv6, 'http://[::1]:8976/callback')).toBe(true);
    const named = await appWith('http://localhost:5173/callback');
    expect(await accepted(named, 'http://localhost:5173/callback')).toBe(true);
    expect(await accepted(named, 'http://localhost:8976/callback')).toBe(false);
  });
});

describe('PKCE S256 is required', () => {
  test('no challenge, or the plain method, is refused with invalid_request', async () => {
    const config = await clientConfig();
    for (const extra of [{}, { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }] as Record<string, string>[]) {
      const url = oauth.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'orders:read', ...extra });
      const page = await new Browser(origin).follow(url.href);
      expect(page.status).toBe(303);
      expect(new URL(page.location!).searchParams.get('error')).toBe('invalid_request');
    }
  });

  test('a code without its verifier, or with a wrong one, is invalid_grant', async () => {
    const flow = await authorize();
    const code = codeOf(flow.landing.location);
    const missing = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    expect(missing).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const flow2 = await authorize();
    const wrong = await tokenRequest({ grant_type: 'authorization_code', code: codeOf(flow2.landing.location), redirect_uri: REDIRECT, code_verifier: oauth.randomPKCECodeVerifier() });
    expect(wrong).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });
});

describe('codes and refresh tokens work once', () => {
  test('a code used twice fails the second time and revokes what the first produced', async () => {
    const flow = await authorize();
    const params = { grant_type: 'authorization_code', code: codeOf(flow.landing.location), redirect_uri: REDIRECT, code_verifier: flow.verifier };
    const first = await tokenRequest(params);
    expect(first.status).toBe(200);
    const second = await tokenRequest(params);
    expect(second).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token! })).toMatchObject({ body: { error: 'invalid_grant' } });
    expect(await refusedWithin(first.body.access_token!)).toBeLessThan(5000);
  });

  test('the same code sent twice at the same moment: exactly one exchange succeeds', async () => {
    const flow = await authorize();
    const params = { grant_type: 'authorization_code', code: codeOf(flow.landing.location), redirect_uri: REDIRECT, code_verifier: flow.verifier };
    const results = await Promise.all([tokenRequest(params), tokenRequest(params)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
    const winner = results.find((r) => r.status === 200)!;
    // The loser revoked the grant: the winner's tokens stop working too.
    expect(await tokenRequest({ grant_type: 'refresh_token', refresh_token: winner.body.refresh_token! })).toMatchObject({ body: { error: 'invalid_grant' } });
  });

  test('refresh tokens rotate; presenting a rotated one revokes the whole grant', async () => {
    const flow = await authorize();
    const tokens = await exchange(flow);
    const rotated = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refresh_token).not.toBe(tokens.refresh_token);
    const replay = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await tokenRequest({ grant_type: 'refresh_token', refresh_token: rotated.body.refresh_token! })).toMatchObject({ body: { error: 'invalid_grant' } });
    expect(await refusedWithin(rotated.body.access_token!)).toBeLessThan(5000);
  });

  test('refresh keeps working after the staff member\'s sign-in session has ended: the authorization is not the browser session', async () => {
    const tokens = await exchange(await authorize());
    // Sessions last an hour: end every one, as the hour passing would.
    await t.platform.database.db.execute(sql`delete from account.oauth_store where model = 'Session'`);
    const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect(refreshed.status).toBe(200);
    expect((await postGraphQL<any>(t.url, refreshed.body.access_token!, '{ orders(first: 1) { totalCount } }')).status).toBe(200);
    const again = await tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token! });
    expect(again.status).toBe(200);
  });

  test('each refresh keeps the authorization alive another 30 days; one not refreshed within them has ended', async () => {
    const tokens = await exchange(await authorize());
    const grantId = (JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as { portico_grant: string }).portico_grant;
    const key = oauthStoreKey(grantId);
    const grantExpiry = async () =>
      ((await t.platform.database.db.execute(sql`select expires_at from account.oauth_store where model = 'Grant' and id = ${key}`)) as unknown as { rows: { expires_at: Date | string }[] }).rows[0]?.expires_at;
    // 29 days and 23 hours after the consent: a minute left.
    const soon = Math.floor(Date.now() / 1000) + 60;
    await t.platform.database.db.execute(
      sql`update account.oauth_store set expires_at = to_timestamp(${soon}), payload = jsonb_set(payload, '{exp}', to_jsonb(${soon}::bigint)) where model = 'Grant' and id = ${key}`,
    );
    const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect(refreshed.status).toBe(200);
    let extended = 0;
    for (let i = 0; i < 50 && extended < Date.now() + 29 * 24 * 3600_000; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      extended = new Date((await grantExpiry())!).getTime();
    }
    expect(extended).toBeGreaterThan(Date.now() + 29 * 24 * 3600_000);

    // Not refreshed in time: the authorization has ended, and refreshing fails.
    await t.platform.database.db.execute(sql`update account.oauth_store set expires_at = now() - interval '1 second' where model = 'Grant' and id = ${key}`);
    expect(await tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token! })).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  test('revoking a refresh token (RFC 7009) ends the authorization: its access tokens stop at the gateway within 5 s', async () => {
    const tokens = await exchange(await authorize());
    expect((await postGraphQL<any>(t.url, tokens.access_token, '{ orders(first: 1) { totalCount } }')).status).toBe(200);
    const response = await fetch(`${origin}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${DEMO_APP_KEY}:${encodeURIComponent(appSecret)}`).toString('base64')}` },
      body: new URLSearchParams({ token: tokens.refresh_token!, token_type_hint: 'refresh_token' }).toString(),
    });
    expect(response.status).toBe(200);
    expect(await refusedWithin(tokens.access_token)).toBeLessThan(5000);
  });
});

describe('introspection and revocation are for a client\'s own tokens', () => {
  const call = (path: string, key: string, secret: string, token: string) =>
    fetch(`${origin}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${key}:${encodeURIComponent(secret)}`).toString('base64')}` },
      body: new URLSearchParams({ token, token_type_hint: 'refresh_token' }).toString(),
    });

  test('another app sees the token inactive and cannot revoke it; the owner can do both', async () => {
    const { createAppManagementStore } = await import('../subgraphs/app-management/store.js');
    const store = createAppManagementStore(t.platform.database.db);
    const otherKey = `app_other_${crypto.randomUUID().slice(0, 8)}`;
    const otherSecret = crypto.randomBytes(24).toString('base64url');
    const developer = await store.createDeveloper({ kind: 'COMPANY', name: 'Other ISV', email: `${otherKey}@example.com` });
    await store.createApp({ key: otherKey, name: 'Other app', developerId: developer.id, status: 'LIVE', secret: otherSecret });
    const pkg = await store.createPackage({ name: `Orders ${otherKey}`, description: 'test', tier: 'FREE', scopes: ['orders:read'] });
    await store.grantPackage('system:tests', { appKey: otherKey, packageId: pkg.id, reason: 'test' });

    // An app without redirect URIs is a client for client credentials only.
    const ownToken = await fetch(`${origin}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${otherKey}:${encodeURIComponent(otherSecret)}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read' }).toString(),
    });
    expect(ownToken.status).toBe(200);

    const tokens = await exchange(await authorize());
    const byOther = await call('/oauth/introspect', otherKey, otherSecret, tokens.refresh_token!);
    expect(byOther.status).toBe(200);
    expect(await byOther.json()).toEqual({ active: false });
    const byOwner = await call('/oauth/introspect', DEMO_APP_KEY, appSecret, tokens.refresh_token!);
    expect(await byOwner.json()).toMatchObject({ active: true, client_id: DEMO_APP_KEY });

    const revokedByOther = await call('/oauth/revoke', otherKey, otherSecret, tokens.refresh_token!);
    expect(revokedByOther.status).toBe(400);
    expect(((await revokedByOther.json()) as { error: string }).error).toBe('invalid_request');
    expect((await call('/oauth/introspect', DEMO_APP_KEY, appSecret, tokens.refresh_token!).then((r) => r.json())) as { active: boolean }).toMatchObject({ active: true });
    expect((await call('/oauth/revoke', DEMO_APP_KEY, appSecret, tokens.refresh_token!)).status).toBe(200);
    expect((await call('/oauth/introspect', DEMO_APP_KEY, appSecret, tokens.refresh_token!).then((r) => r.json())) as { active: boolean }).toEqual({ active: false });
  });
});

describe('the passport behind the gateway', () => {
  test('a request body past 64 KB is refused with 413 before the account service is asked; the passport keeps answering', async () => {
    const huge = await fetch(`${origin}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&padding=${'x'.repeat(100_000)}`,
    });
    expect(huge.status).toBe(413);
    const discovery = await fetch(`${origin}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
  });
});

describe('merchant consent', () => {
  test('deny sends access_denied back to the app and authorizes nothing', async () => {
    const flow = await authorize({ deny: true });
    expect(flow.landing.status).toBe(303);
    const back = new URL(flow.landing.location!);
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('code')).toBeNull();
  });

  test('an app in SANDBOX cannot be authorized by a real merchant\'s staff: the consent page says so and the app gets access_denied', async () => {
    const { createAccountStore } = await import('../subgraphs/account/store.js');
    const accounts = createAccountStore(t.platform.database.db);
    const real = await accounts.createMerchant({ name: 'Real Shop', contactEmail: 'real@shop.example' });
    await accounts.createStaff({ merchantId: real.id, email: 'owner@realshop.example', name: 'Owner', password: 'a staff password' });
    // The demo app is in SANDBOX and the demo's merchants are test merchants; this one is not.
    const flow = await authorize({ email: 'owner@realshop.example', password: 'a staff password' });
    const shown = flow.landing.body;
    expect(flow.landing.status).toBe(403);
    expect(shown).toContain('<h1>Acme ERP Sync is not available to Real Shop yet</h1>');
    expect(shown).not.toContain('/confirm');
    // Approving anyway (a hand-made POST) is refused the same way.
    const forced = await flow.browser.follow(actionOf(shown, 'abort').replace(/abort$/, 'confirm'), { method: 'POST', form: { csrf: csrfOf(shown) } });
    const error = new URL(forced.location!).searchParams;
    expect(error.get('error')).toBe('access_denied');
    expect(error.get('error_description')).toMatch(/sandbox/);
    const rows = await t.platform.database.db.execute(sql`select count(*)::int as n from account.merchant_authorizations where merchant_id = ${real.id}`);
    expect((rows as unknown as { rows: { n: number }[] }).rows[0]!.n).toBe(0);
  });

  test('a wrong staff password keeps the browser on the sign-in page', async () => {
    const flow = await authorize({ password: 'not the password' });
    expect(flow.landing.status).toBe(401);
    expect(flow.landing.body).toContain('Wrong email or password');
  });

  test('a form posted without the page\'s CSRF token is refused', async () => {
    const config = await clientConfig();
    const url = oauth.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'orders:read', code_challenge: await oauth.calculatePKCECodeChallenge(oauth.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const browser = new Browser(origin);
    const login = await browser.follow(url.href);
    const forged = await browser.go(actionOf(login.body, 'login'), { method: 'POST', form: { email: DEMO_STAFF_EMAIL, password: staffPassword, csrf: 'forged' } });
    expect(forged.status).toBe(403);
  });
});

describe('client authentication and app-level tokens', () => {
  test('a wrong secret is invalid_client', async () => {
    const res = await tokenRequest({ grant_type: 'client_credentials', scope: 'orders:read' }, 'wrong-secret');
    expect(res).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  test('a client-credentials token acts for no merchant: it reads no merchant data', async () => {
    const res = await tokenRequest({ grant_type: 'client_credentials', scope: 'orders:read' });
    expect(res.status).toBe(200);
    const orders = await postGraphQL<any>(t.url, res.body.access_token!, '{ orders { totalCount } }');
    expect(orders.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const app = await postGraphQL<any>(t.url, res.body.access_token!, '{ viewerApp { key } }');
    expect(app.data).toEqual({ viewerApp: { key: DEMO_APP_KEY } });
  });

  test('a token a merchant authorized cannot rotate the app\'s secret: only the app\'s own (client credentials) can', async () => {
    const merchantToken = (await exchange(await authorize())).access_token;
    const refused = await postGraphQL<any>(t.url, merchantToken, 'mutation { rotateAppSecret(graceHours: 0) { secret } }');
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // The secret is unchanged: the app still authenticates with it.
    expect((await tokenRequest({ grant_type: 'client_credentials', scope: 'orders:read' })).status).toBe(200);
  });

  test('a rotated secret: the old one works during the grace the developer picked, not after', async () => {
    const appToken = (await tokenRequest({ grant_type: 'client_credentials', scope: 'orders:read' })).body.access_token!;
    const rotate = (hours: number) => postGraphQL<any>(t.url, appToken, 'mutation($h: Int!) { rotateAppSecret(graceHours: $h) { secret previousSecretExpiresAt } }', { h: hours });
    const tooLong = await rotate(25);
    expect(tooLong.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'graceHours' });
    const withGrace = (await rotate(1)).data!.rotateAppSecret;
    expect(withGrace.previousSecretExpiresAt).not.toBeNull();
    expect((await tokenRequest({ grant_type: 'client_credentials', scope: 'orders:read' }, appSecret)).status).toBe(200);
    expect((await tokenRequest({ grant_type: 'client_credentials', scope: 'orders:read' }, withGrace.secret)).status).toBe(200);
    const noGrace = (await rotate(0)).data!.rotateAppSecret;
    expect(noGrace.previousSecretExpiresAt).toBeNull();
    expect((await tokenRequest({ grant_type: 'client_credentials', scope: 'orders:read' }, withGrace.secret)).body.error).toBe('invalid_client');
    expect((await tokenRequest({ grant_type: 'client_credentials', scope: 'orders:read' }, appSecret)).body.error).toBe('invalid_client');
    appSecret = noGrace.secret;
    expect((await tokenRequest({ grant_type: 'client_credentials', scope: 'orders:read' })).status).toBe(200);
  });
});

describe('merchants stay in control', () => {
  async function consoleToken(merchantId: string) {
    const { createAppManagementStore } = await import('../subgraphs/app-management/store.js');
    const store = createAppManagementStore(t.platform.database.db);
    const key = `app_console_${merchantId.slice(0, 8)}`;
    if (!(await store.appByKey(key))) {
      const developer = await store.createDeveloper({ kind: 'COMPANY', name: 'Merchant own R&D', email: `${key}@example.com` });
      await store.createApp({ key, name: 'Shop console', developerId: developer.id, status: 'LIVE' });
      const pkg = await store.createPackage({ name: `Console ${key}`, description: 'Manage authorizations', tier: 'FREE', scopes: ['authorizations:manage', 'merchant:read'] });
      await store.grantPackage('system:tests', { appKey: key, packageId: pkg.id, reason: 'merchant console' });
    }
    return t.token({ merchantId, appKey: key, scopes: ['authorizations:manage', 'merchant:read'] });
  }

  test("the merchant's console lists the apps it authorized and revokes one; that app's tokens stop within 5 s", async () => {
    const tokens = await exchange(await authorize({ scope: 'orders:read products:read' }));
    const merchantId = t.platform.demo!.merchantId;
    const console = await consoleToken(merchantId);
    const listed = await postGraphQL<any>(t.url, console, '{ merchant { authorizedApps { id appKey appName scopes authorizedAt revokedAt } } }');
    expect(listed.errors).toBeUndefined();
    const grantId = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()).portico_grant as string;
    const mine = listed.data.merchant.authorizedApps.find((a: { id: string }) => a.id === grantId);
    expect(mine).toMatchObject({ appKey: DEMO_APP_KEY, appName: 'Acme ERP Sync', scopes: ['orders:read', 'products:read'], revokedAt: null });

    // Another merchant's console cannot see or revoke it.
    const otherConsole = await consoleToken(t.platform.demo!.otherMerchantIds[0]!);
    const foreign = await postGraphQL<any>(t.url, otherConsole, 'mutation($id: ID!) { revokeAppAuthorization(id: $id) { id } }', { id: grantId });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    // An ISV token without authorizations:manage cannot either.
    const isv = await postGraphQL<any>(t.url, tokens.access_token, 'mutation($id: ID!) { revokeAppAuthorization(id: $id) { id } }', { id: grantId });
    expect(isv.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const revoked = await postGraphQL<any>(t.url, console, 'mutation($id: ID!) { revokeAppAuthorization(id: $id, reason: "No longer used") { revokedAt revokedBy } }', { id: grantId });
    expect(revoked.data.revokeAppAuthorization.revokedAt).not.toBeNull();
    expect(revoked.data.revokeAppAuthorization.revokedBy).toMatch(/^merchant:/);
    expect(await refusedWithin(tokens.access_token)).toBeLessThan(5000);
    expect(await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! })).toMatchObject({ body: { error: 'invalid_grant' } });
  });

  test('a second consent in the same session adds scopes: the console lists everything the app holds', async () => {
    const browser = new Browser(origin);
    const first = await exchange(await authorize({ scope: 'orders:read products:read', browser }));
    const config = await clientConfig();
    const verifier = oauth.randomPKCECodeVerifier();
    const state = oauth.randomState();
    const url = oauth.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'merchant:read', code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state });
    const consent = await browser.follow(url.href); // signed in already: straight to consent
    expect(consent.body).toContain('merchant:read');
    const landing = await browser.follow(actionOf(consent.body, 'confirm'), { method: 'POST', form: { csrf: csrfOf(consent.body) } });
    const second = await oauth.authorizationCodeGrant(config, new URL(landing.location!), { pkceCodeVerifier: verifier, expectedState: state });
    const grantOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).portico_grant as string;
    expect(grantOf(second.access_token)).toBe(grantOf(first.access_token));

    const listed = await postGraphQL<any>(t.url, await consoleToken(t.platform.demo!.merchantId), '{ merchant { authorizedApps { id scopes } } }');
    const mine = listed.data.merchant.authorizedApps.find((a: { id: string }) => a.id === grantOf(first.access_token));
    expect([...mine.scopes].sort()).toEqual(['merchant:read', 'orders:read', 'products:read']);
  });

  test('operators list any merchant\'s authorizations and revoke one', async () => {
    const tokens = await exchange(await authorize());
    const grantId = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()).portico_grant as string;
    const operator = await demoOperatorToken();
    const list = await postGraphQL<any>(t.url, operator, 'query($m: ID!) { merchantAuthorizations(merchantId: $m) { id appKey revokedAt } }', { m: t.platform.demo!.merchantId });
    expect(list.data.merchantAuthorizations).toEqual(expect.arrayContaining([{ id: grantId, appKey: DEMO_APP_KEY, revokedAt: null }]));
    const revoked = await postGraphQL<any>(t.url, operator, 'mutation($id: ID!) { revokeAppAuthorization(id: $id, reason: "Abuse report") { revokedBy } }', { id: grantId });
    expect(revoked.data.revokeAppAuthorization.revokedBy).toMatch(/^operator:/);
    expect(await refusedWithin(tokens.access_token)).toBeLessThan(5000);
  });

  test("the demo token names only scopes the demo app's packages grant, and runs the merchant-console example", async () => {
    const demo = t.platform.demo!;
    const demoScopes = demo.scope.split(' ');
    const app = await postGraphQL<any>(t.url, demo.accessToken, '{ viewerApp { key grantedScopes grantedPackages { package { name scopes { name } } } } }');
    expect(app.errors).toBeUndefined();
    expect(app.data.viewerApp.key).toBe(DEMO_APP_KEY);
    expect([...demoScopes].sort()).toEqual([...app.data.viewerApp.grantedScopes].sort());
    const tokenScopes = (JSON.parse(Buffer.from(demo.accessToken.split('.')[1]!, 'base64url').toString()) as { scope: string }).scope.split(' ');
    expect(tokenScopes.sort()).toEqual([...demoScopes].sort());
    // The package that lets the demo merchant's token act as its console.
    expect(app.data.viewerApp.grantedPackages.flatMap((g: { package: { scopes: { name: string }[] } }) => g.package.scopes.map((s) => s.name))).toContain('authorizations:manage');

    // The console example: list the merchant's authorized apps, revoke one; the app's token stops.
    const tokens = await exchange(await authorize({ scope: 'orders:read' }));
    const grantId = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()).portico_grant as string;
    const listed = await postGraphQL<any>(t.url, demo.accessToken, '{ merchant { authorizedApps { id appKey appName scopes authorizedAt revokedAt } } }');
    expect(listed.errors).toBeUndefined();
    expect(listed.data.merchant.authorizedApps).toContainEqual(expect.objectContaining({ id: grantId, appKey: DEMO_APP_KEY, appName: 'Acme ERP Sync', scopes: ['orders:read'], revokedAt: null }));
    const revoked = await postGraphQL<any>(t.url, demo.accessToken, 'mutation($id: ID!) { revokeAppAuthorization(id: $id) { id revokedAt revokedBy } }', { id: grantId });
    expect(revoked.errors).toBeUndefined();
    expect(revoked.data.revokeAppAuthorization).toMatchObject({ id: grantId, revokedBy: `merchant:${demo.merchantId} via ${DEMO_APP_KEY}` });
    expect(await refusedWithin(tokens.access_token)).toBeLessThan(5000);
  });
});

describe('operators introspect tokens; staff accounts lock', () => {
  const operatorToken = demoOperatorToken;
  const introspect = (bearer: string, token: string) =>
    fetch(new URL('/auth/operator/introspect', t.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${bearer}` },
      body: new URLSearchParams({ token }).toString(),
    });

  test('introspection says what a token carries while it is active, and inactive once revoked; only for operators', async () => {
    const tokens = await exchange(await authorize());
    const operator = await operatorToken();
    const active = await introspect(operator, tokens.access_token);
    expect(active.status).toBe(200);
    expect(await active.json()).toMatchObject({ active: true, client_id: DEMO_APP_KEY, sub: t.platform.demo!.merchantId, scope: 'orders:read merchant:read' });
    expect((await introspect(tokens.access_token, tokens.access_token)).status).toBe(401);
    await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }); // replay: the grant is revoked
    await clock.advance(t.platform.config.appAccessCacheMs + 1); // past any cache of the gateway's
    expect(await (await introspect(operator, tokens.access_token)).json()).toEqual({ active: false });
    expect(await (await introspect(operator, 'garbage')).json()).toEqual({ active: false });
  });

  test('five failed staff sign-ins lock the account, even against the right password', async () => {
    const { createAccountStore } = await import('../subgraphs/account/store.js');
    const accounts = createAccountStore(t.platform.database.db);
    await accounts.createStaff({ merchantId: t.platform.demo!.merchantId, email: 'locked@northwind.example', name: 'Locked', password: 'the right password' });
    for (let i = 0; i < 5; i++) expect(await accounts.staffSignIn('locked@northwind.example', `guess ${i}`)).toEqual({ ok: false, reason: 'invalid' });
    expect(await accounts.staffSignIn('locked@northwind.example', 'the right password')).toMatchObject({ ok: false, reason: 'locked' });
  });
});

describe('the passport stores no bearer secret in plaintext', () => {
  const sha256 = (value: string) => crypto.createHash('sha256').update(value).digest('hex');
  type Executor = { execute(query: SQL): Promise<unknown> };
  async function rows<T = { model: string; id: string; payload: string }>(
    query: SQL = sql`select model, id, payload::text as payload from account.oauth_store`,
    db: Executor = t.platform.database.db,
  ): Promise<T[]> {
    return ((await db.execute(query)) as { rows: T[] }).rows;
  }
  /** The secrets of `values` that some row of account.oauth_store holds, in its key or its payload. */
  async function leaked(values: string[], db?: Executor): Promise<string[]> {
    const all = await rows(undefined, db);
    return values.filter((v) => all.some((r) => r.id.includes(v) || r.payload.includes(v)));
  }
  const interactionUidOf = (html: string) => /action="\/interaction\/([^/"]+)\//.exec(html)![1]!;

  test('after a code flow and a refresh, no row holds the code, a refresh or access token, the session cookie or the interaction id', async () => {
    const browser = new Browser(origin);
    let midFlow: string[] = [];
    const flow = await authorize({
      browser,
      async beforeConsent(consent) {
        // The interaction and the signed-in session are stored now.
        midFlow = [interactionUidOf(consent.body), ...browser.cookies.values()];
        expect(await leaked(midFlow)).toEqual([]);
      },
    });
    const code = codeOf(flow.landing.location);
    const tokens = await exchange(flow);
    const rotated = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect(rotated.status).toBe(200);
    const secrets = [code, tokens.access_token, tokens.refresh_token!, rotated.body.access_token!, rotated.body.refresh_token!, ...midFlow, ...browser.cookies.values()];
    expect(midFlow.length).toBeGreaterThanOrEqual(3);
    expect(secrets.every((s) => s.length >= 16)).toBe(true);
    expect(await leaked(secrets)).toEqual([]);
    // Not vacuous: the rows are there, under the hash of what they were saved under.
    const keys = new Set((await rows()).map((r) => `${r.model}:${r.id}`));
    expect(keys).toContain(`RefreshToken:${sha256(rotated.body.refresh_token!)}`);
    expect(keys).toContain(`RefreshToken:${sha256(tokens.refresh_token!)}`); // consumed, kept to detect reuse
    expect(keys).toContain(`AuthorizationCode:${sha256(code)}`);
    expect(keys).toContain(`Session:${sha256(browser.cookies.get('_session')!)}`);
  });

  test('migration 0004: tokens, grants, sessions and interactions stored before it keep working after it', async () => {
    // Before the upgrade: a merchant authorized the app (a refresh token, its grant, a signed-in browser)…
    const signedIn = new Browser(origin);
    const tokens = await exchange(await authorize({ browser: signedIn }));
    const grantId = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()).portico_grant as string;
    // …and another one is on the consent page (an interaction bound to its session).
    const midway = new Browser(origin);
    const config = await clientConfig();
    const verifier = oauth.randomPKCECodeVerifier();
    const url = oauth.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'orders:read', code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const login = await midway.follow(url.href);
    const consent = await midway.follow(actionOf(login.body, 'login'), { method: 'POST', form: { email: DEMO_STAFF_EMAIL, password: staffPassword, csrf: csrfOf(login.body) } });
    expect(consent.body).toContain('Approve');
    const interactionUid = interactionUidOf(consent.body);
    const olds: [model: string, id: string][] = [
      ['RefreshToken', tokens.refresh_token!],
      ['Grant', grantId],
      ['Session', signedIn.cookies.get('_session')!],
      ['Session', midway.cookies.get('_session')!],
      ['Interaction', interactionUid],
    ];
    const ids = olds.map(([, id]) => id);
    await t.platform.database.db.transaction(async (tx) => {
      // Those rows as the adapter stored them before: keyed by the id, which the payload repeats
      // (an Interaction's also in its resume URL, and its session's cookie in session.cookie).
      for (const [model, id] of olds) {
        await tx.execute(sql`update account.oauth_store set id = ${id}, payload = payload || jsonb_build_object('jti', ${id}::text) where model = ${model} and id = ${sha256(id)}`);
      }
      await tx.execute(sql`update account.oauth_store set payload = jsonb_set(jsonb_set(payload, '{returnTo}', to_jsonb(replace(payload->>'returnTo', '{id}', id))), '{session,cookie}', to_jsonb(${midway.cookies.get('_session')!}::text))
        where model = 'Interaction' and id = ${interactionUid}`);
      expect(await leaked(ids, tx)).toEqual(ids);
      // The migration, on those rows only (the others are stored as the adapter stores them now).
      await tx.execute(sql`create temp table oauth_store_aside as select * from account.oauth_store where id not in ${ids}`);
      await tx.execute(sql`delete from account.oauth_store where id not in ${ids}`);
      const migration = fs.readFileSync(new URL('../subgraphs/account/migrations/0004_oauth_store_hashed_ids.sql', import.meta.url), 'utf8');
      for (const statement of migration.split('--> statement-breakpoint')) await tx.execute(sql.raw(statement));
      expect((await rows<{ n: number }>(sql`select count(*)::int as n from account.oauth_store`, tx))[0]!.n).toBe(olds.length);
      await tx.execute(sql`insert into account.oauth_store select * from oauth_store_aside`);
      await tx.execute(sql`drop table oauth_store_aside`);
    });
    expect(await leaked(ids.filter((id) => id !== grantId))).toEqual([]);

    // After it: the refresh token still refreshes (its grant is found)…
    const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect(refreshed.status).toBe(200);
    // …the signed-in browser is still signed in (no sign-in page), and approving again extends the same grant…
    const againVerifier = oauth.randomPKCECodeVerifier();
    const again = await signedIn.follow(
      oauth.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'orders:read merchant:read', code_challenge: await oauth.calculatePKCECodeChallenge(againVerifier), code_challenge_method: 'S256' }).href,
    );
    expect(again.status).toBe(200);
    expect(again.body).toContain('wants to act for Northwind Outfitters');
    const againLanding = await signedIn.follow(actionOf(again.body, 'confirm'), { method: 'POST', form: { csrf: csrfOf(again.body) } });
    const againTokens = await tokenRequest({ grant_type: 'authorization_code', code: codeOf(againLanding.location), redirect_uri: REDIRECT, code_verifier: againVerifier });
    expect(againTokens.status).toBe(200);
    expect(JSON.parse(Buffer.from(againTokens.body.access_token!.split('.')[1]!, 'base64url').toString()).portico_grant).toBe(grantId);
    // …and the consent page left open is approved and yields a code that becomes tokens.
    const landing = await midway.follow(actionOf(consent.body, 'confirm'), { method: 'POST', form: { csrf: csrfOf(consent.body) } });
    expect(landing.status).toBe(303);
    const code = codeOf(landing.location);
    expect((await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier })).status).toBe(200);
  });
});
