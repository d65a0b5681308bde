/** Data survives a restart: stop the platform, start it again on the same DATA_DIR (or database). So do open passport forms. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createMerchant, createProduct, placeOrder } from './helpers/factories.js';
import { DEMO_APP_KEY, DEMO_STAFF_EMAIL } from '../demo/seed.js';
import { createTestDatabase, startTestPlatform } from './helpers/platform.js';

/** Just enough of a browser for the passport's pages: keeps cookies, follows redirects on one origin. */
function browserOn(origin: string) {
  const cookies = new Map<string, string>();
  async function go(url: string, form?: Record<string, string>) {
    let next: string | null = url;
    let response: Response;
    let method = form ? 'POST' : 'GET';
    do {
      response = await fetch(new URL(next, origin), {
        method,
        redirect: 'manual',
        headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '), ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        ...(method === 'POST' ? { body: new URLSearchParams(form).toString() } : {}),
      });
      for (const cookie of response.headers.getSetCookie()) {
        const [name, ...value] = cookie.split(';')[0]!.split('=');
        cookies.set(name!, value.join('='));
      }
      method = 'GET';
      next = response.headers.get('location');
    } while (next && new URL(next, origin).origin === origin);
    return { status: response.status, body: await response.text() };
  }
  return { go };
}

test('orders, products and the demo seed are still there after a restart, and the seed is not repeated', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-persist-'));
  const database = await createTestDatabase();
  try {
    const first = await startTestPlatform({ dataDir, seed: true, ...(database ? { databaseUrl: database.url } : {}) });
    const shop = await createMerchant(first, 'Durable Shop');
    const product = await createProduct(first, shop.token, [{ stock: 9 }]);
    const order = (await placeOrder(first, shop.token, [{ skuId: product.skus[0]!.id, quantity: 2 }])).data!.placeOrder.order;
    const demoToken = first.platform.demo!.accessToken;
    const demoOrders = (await first.gql(demoToken, '{ orders { totalCount } }')).data!.orders.totalCount;
    // A merchant's staff member has the passport's sign-in page open while the platform restarts.
    const origin = new URL(first.url).origin;
    const browser = browserOn(origin);
    const authorize = new URL('/oauth/authorize', origin);
    for (const [name, value] of Object.entries({
      client_id: DEMO_APP_KEY,
      response_type: 'code',
      redirect_uri: 'http://127.0.0.1:8976/callback',
      scope: 'orders:read',
      state: 'persisted',
      code_challenge: crypto.createHash('sha256').update('a verifier long enough for pkce, forty-three+').digest('base64url'),
      code_challenge_method: 'S256',
    })) authorize.searchParams.set(name, value);
    const signInPage = await browser.go(authorize.href);
    expect(signInPage.status).toBe(200);
    const csrf = /name="csrf" value="([^"]+)"/.exec(signInPage.body)![1]!;
    const action = /action="(\/interaction\/[^"]+\/login)"/.exec(signInPage.body)![1]!;
    const staffPassword = first.platform.demo!.staffLogin.password!;
    await first.stop();

    // Restarted as an operator would: same data, same port (the token issuer names the public URL).
    const port = String(first.platform.config.port);
    const second = await startTestPlatform({ dataDir, seed: true, extraEnv: { PORT: port }, ...(database ? { databaseUrl: database.url } : {}) });
    try {
      const token = await second.token({ merchantId: shop.id });
      const res = await second.gql(token, 'query($id: ID!) { order(id: $id) { number lines { sku { stock } } } }', { id: order.id });
      expect(res.data).toEqual({ order: { number: order.number, lines: [{ sku: { stock: 7 } }] } });
      // Same signing key after restart: a token minted before still works.
      expect((await second.gql(demoToken, '{ orders { totalCount } }')).data!.orders.totalCount).toBe(demoOrders);
      expect(demoOrders).toBe(110);
      const demo = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo.json'), 'utf8'));
      expect(demo).toMatchObject({ appKey: 'app_demo_erp_sync', merchantId: first.platform.demo!.merchantId, graphqlUrl: second.url });
      // The form rendered before the restart is still accepted (its CSRF token is signed with a key
      // every process derives from KEYS_DIR, as replicas behind a load balancer need): on to consent.
      const consent = await browser.go(action, { email: DEMO_STAFF_EMAIL, password: staffPassword, csrf });
      expect(consent.status).toBe(200);
      expect(consent.body).toContain('/confirm');
    } finally {
      await second.stop();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
    await database?.drop();
  }
}, 120_000);
