/**
 * The passport with a real OAuth client (openid-client) over HTTP: authorization code + PKCE through
 * the sign-in and consent pages, tokens used at the gateway, and each failure the issue names.
 */
import * as oauth from 'openid-client';
import { DEMO_APP_KEY, DEMO_STAFF_EMAIL } from '../demo/seed.js';
import { postGraphQL, startTestPlatform, type TestPlatform } from './helpers/platform.js';

let t: TestPlatform;
let origin: string;
let appSecret: string;
let staffPassword: string;
const REDIRECT = 'http://127.0.0.1:8976/callback';

beforeAll(async () => {
  t = await startTestPlatform({ seed: true });
  origin = t.platform.config.publicUrl;
  appSecret = t.platform.demo!.appSecret!;
  staffPassword = t.platform.demo!.staffLogin.password!;
}, 120_000);
afterAll(() => t.stop());

function clientConfig(secret = appSecret) {
  return oauth.discovery(new URL(origin), DEMO_APP_KEY, undefined, oauth.ClientSecretBasic(secret), { execute: [oauth.allowInsecureRequests] });
}

/** A browser without JavaScript: follows nothing by itself, keeps cookies, submits forms. */
class Browser {
  private cookies = new Map<string, string>();
  async go(url: string, init: { method?: string; form?: Record<string, string> } = {}) {
    const response = await fetch(new URL(url, origin), {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const [name, ...value] = pair!.split('=');
      if (/expires=Thu, 01 Jan 1970/i.test(cookie)) this.cookies.delete(name!);
      else this.cookies.set(name!, value.join('='));
    }
    return { status: response.status, location: response.headers.get('location'), body: await response.text(), headers: response.headers };
  }
  /** Follows redirects on the platform's origin; stops at the first one that leaves it (the app's redirect URI). */
  async follow(url: string, init: { method?: string; form?: Record<string, string> } = {}) {
    let page = await this.go(url, init);
    while (page.location && new URL(page.location, origin).origin === origin) page = await this.go(page.location);
    return page;
  }
}

const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
const actionOf = (html: string, name: string) => new RegExp(`action="(/interaction/[^"]+/${name})"`).exec(html)?.[1] ?? '';

/** Runs the whole code flow with PKCE; returns the page the browser lands on (the app's redirect) and what the client needs. */
async function authorize(options: { scope?: string; deny?: boolean; password?: string } = {}) {
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
  const browser = new Browser();
  const login = await browser.follow(url.href);
  expect(login.status).toBe(200);
  expect(login.body).toContain('Acme ERP Sync');
  expect(login.headers.get('x-frame-options')).toBe('DENY');
  expect(login.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  const consent = await browser.follow(actionOf(login.body, 'login'), {
    method: 'POST',
    form: { email: DEMO_STAFF_EMAIL, password: options.password ?? staffPassword, csrf: csrfOf(login.body) },
  });
  if (consent.status !== 200) return { config, verifier, state, landing: consent };
  const landing = await browser.follow(actionOf(consent.body, options.deny ? 'abort' : 'confirm'), { method: 'POST', form: { csrf: csrfOf(consent.body) } });
  return { config, verifier, state, landing, consent };
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
});
