/**
 * A guest buys, later signs in, and keeps every order: orders placed for a guest id belong to a
 * virtual buyer; once the app binds the guest to the buyer who signed in (OpenID Connect through
 * the passport), the virtual buyer is merged, its orders re-pointed by the order service, and
 * USER_MERGED reaches every subscribed app that saw the guest, each with its own old and new
 * openid and unionid. Nothing is lost, nothing points at a merged buyer, and nothing leaks the
 * platform's user ids.
 */
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import * as oauth from 'openid-client';
import { systemClock } from '../core/clock.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { createBuyerAccounts } from '../subgraphs/account/buyers.js';
import { actionOf, Browser, csrfOf } from './helpers/browser.js';
import { ADDRESS, createMerchant, createProduct } from './helpers/factories.js';
import { connectWs, subscribeWs, type Collector } from './helpers/messages.js';
import { ALL_SCOPES, startTestPlatform, waitUntil, type TestPlatform } from './helpers/platform.js';

const REDIRECT = 'http://127.0.0.1:8976/callback';
const SCOPES = [...ALL_SCOPES, 'users:write'];
let t: TestPlatform;
let merchant: { id: string };
let skuId: string;
const apps: { key: string; secret: string; token: string }[] = [];
const subscriptions: { client: ReturnType<typeof connectWs>; events: Collector }[] = [];
const email = `guest.${crypto.randomBytes(4).toString('hex')}@example.com`;
const password = 'guest turned buyer';

const rows = <T>(result: unknown): T[] => ((result as { rows?: T[] }).rows ?? (result as T[]));
const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id buyer { openid unionid guest } } } }`;
const MERGED = `subscription { accountEvents(types: [USER_MERGED]) { id type mergedOpenid mergedUnionid survivingOpenid survivingUnionid mergedUserRef } }`;

beforeAll(async () => {
  t = await startTestPlatform({ seed: true });
  const store = createAppManagementStore(t.platform.database.db);
  const pkg = await store.createPackage({ name: `Guest merge ${crypto.randomUUID()}`, description: 'test', tier: 'FREE', scopes: SCOPES });
  const dev = await store.createDeveloper({ kind: 'COMPANY', name: 'Guest Dev', email: `${crypto.randomUUID()}@example.com`, verificationStatus: 'VERIFIED' });
  const m = await createMerchant(t);
  merchant = m;
  skuId = (await createProduct(t, m.token, [{ code: 'GUEST-1', stock: 100 }])).skus[0]!.id;
  for (const name of ['Shop app', 'ERP app']) {
    const { app, secret } = await store.createApp({ name, developerId: dev.id, status: 'LIVE', redirectUris: [REDIRECT] });
    await store.grantPackage('system:tests', { appKey: app.key, packageId: pkg.id, reason: 'guest merge' });
    apps.push({ key: app.key, secret, token: await t.token({ merchantId: m.id, appKey: app.key, scopes: SCOPES }) });
  }
  const accounts = createBuyerAccounts(t.platform.database.db, systemClock);
  const { code } = await accounts.register({ email, name: 'Gwen', password });
  expect((await accounts.verify(email, code)).ok).toBe(true);
}, 120_000);
afterAll(async () => {
  for (const s of subscriptions) {
    s.events.stop();
    await s.client.dispose();
  }
  await t?.stop();
});

/** The buyer signs in to an app through the passport; the app's ID token claims. */
async function signIn(app: { key: string; secret: string }, account = { email, password }) {
  const config = await oauth.discovery(new URL(t.platform.config.publicUrl), app.key, undefined, oauth.ClientSecretBasic(app.secret), { execute: [oauth.allowInsecureRequests] });
  const verifier = oauth.randomPKCECodeVerifier();
  const state = oauth.randomState();
  const url = oauth.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state });
  const browser = new Browser(t.platform.config.publicUrl);
  const login = await browser.follow(url.href);
  const consent = await browser.follow(actionOf(login.body, 'login'), { method: 'POST', form: { csrf: csrfOf(login.body), email: account.email, password: account.password } });
  const landing = await browser.follow(actionOf(consent.body, 'confirm'), { method: 'POST', form: { csrf: csrfOf(consent.body) } });
  const tokens = await oauth.authorizationCodeGrant(config, new URL(landing.location!), { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true });
  return tokens.claims() as unknown as { sub: string; unionid: string };
}

const place = (token: string, buyer: Record<string, string>) =>
  t.gql<any>(token, PLACE, { input: { idempotencyKey: crypto.randomUUID(), lines: [{ skuId, quantity: 1 }], shippingAddress: ADDRESS, buyer } });

test('a guest orders, signs in, is bound: every order is kept, and each subscribed app hears of it with its own ids', async () => {
  const [shop, erp] = apps as [(typeof apps)[0], (typeof apps)[0]];
  for (const app of apps) {
    const client = connectWs(t.url, app.token);
    subscriptions.push({ client, events: subscribeWs(client, MERGED) });
  }

  // The guest orders twice in the shop app.
  const guestId = `device-${crypto.randomUUID()}`;
  const first = await place(shop.token, { guestId });
  expect(first.errors).toBeUndefined();
  const second = await place(shop.token, { guestId });
  const guestInShop = first.data.placeOrder.order.buyer;
  expect(guestInShop.guest).toBe(true);
  expect(second.data.placeOrder.order.buyer).toEqual(guestInShop);
  // The ERP app of the same developer sees the guest too, by its own openid and the same unionid.
  const guestInErp = (await t.gql<any>(erp.token, 'query($id: ID!) { order(id: $id) { buyer { openid unionid } } }', { id: first.data.placeOrder.order.id })).data.order.buyer;
  expect(guestInErp.openid).not.toBe(guestInShop.openid);
  expect(guestInErp.unionid).toBe(guestInShop.unionid);

  // She signs in to the shop app; the app binds the guest to her.
  const claims = await signIn(shop);
  expect(claims.sub).not.toBe(guestInShop.openid);
  const bound = await t.gql<any>(shop.token, 'mutation($input: BindBuyerInput!) { bindBuyer(input: $input) { merged created buyer { openid unionid guest } } }', { input: { openid: claims.sub, guestId } });
  expect(bound.data.bindBuyer).toEqual({ merged: 1, created: false, buyer: { openid: claims.sub, unionid: claims.unionid, guest: false } });

  // USER_MERGED, to each app with its own ids: the shop's guest openid now names her shop openid;
  // the ERP app never saw her signed in, so its openid of the guest is now hers.
  const [shopEvent] = (await subscriptions[0]!.events.waitFor(1)).map((r) => r.data!.accountEvents);
  const [erpEvent] = (await subscriptions[1]!.events.waitFor(1)).map((r) => r.data!.accountEvents);
  expect(shopEvent).toMatchObject({ type: 'USER_MERGED', mergedOpenid: guestInShop.openid, survivingOpenid: claims.sub, mergedUnionid: guestInShop.unionid, survivingUnionid: claims.unionid });
  expect(erpEvent).toMatchObject({ type: 'USER_MERGED', mergedOpenid: guestInErp.openid, survivingOpenid: guestInErp.openid, mergedUnionid: guestInErp.unionid, survivingUnionid: claims.unionid });
  expect(shopEvent.id).toBe(erpEvent.id);

  // Her orders follow her: the order service re-pointed them (the saga's second step).
  const ordersOf = async (openid: string) =>
    (await t.gql<any>(shop.token, 'query($o: String) { buyer(openid: $o) { orders(first: 10) { totalCount nodes { id buyer { openid } } } } }', { o: openid })).data?.buyer.orders;
  await waitUntil('the orders re-pointed', async () => (await ordersOf(claims.sub))?.totalCount === 2);
  const mine = await ordersOf(claims.sub);
  expect(mine.nodes.map((n: any) => n.id).sort()).toEqual([first.data.placeOrder.order.id, second.data.placeOrder.order.id].sort());
  expect(mine.nodes.every((n: any) => n.buyer.openid === claims.sub)).toBe(true);
  // The guest's old openid still finds her, with every order.
  expect((await ordersOf(guestInShop.openid)).totalCount).toBe(2);
  // orders(buyer:) at the root answers the same, by her openid, the guest's old one, or the guest id.
  for (const buyer of [{ openid: claims.sub }, { openid: guestInShop.openid }, { guestId }, { unionid: claims.unionid }]) {
    const root = await t.gql<any>(shop.token, 'query($b: OrderBuyerInput) { orders(buyer: $b, first: 10) { totalCount nodes { id } } }', { b: buyer });
    expect(root.errors).toBeUndefined();
    expect(root.data.orders.nodes.map((n: any) => n.id).sort()).toEqual(mine.nodes.map((n: any) => n.id).sort());
  }
  // Another app's openid of her is nobody here; the ERP app's own works.
  const crossed = await t.gql<any>(shop.token, 'query($b: OrderBuyerInput) { orders(buyer: $b) { totalCount } }', { b: { openid: guestInErp.openid } });
  expect(crossed.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  expect((await t.gql<any>(erp.token, 'query($b: OrderBuyerInput) { orders(buyer: $b) { totalCount } }', { b: { openid: guestInErp.openid } })).data.orders.totalCount).toBe(2);
  const dangling = rows<{ n: number }>(
    await t.platform.database.db.execute(sql`select count(*)::int as n from "order".orders o join account.users u on u.id = o.buyer_id where u.merged_into is not null`),
  )[0]!;
  expect(dangling.n).toBe(0);

  // The merge is done, once: binding again merges nothing; a new order for the guest id is hers.
  expect((await t.gql<any>(shop.token, 'mutation($input: BindBuyerInput!) { bindBuyer(input: $input) { merged } }', { input: { openid: claims.sub, guestId } })).data.bindBuyer.merged).toBe(0);
  expect((await place(shop.token, { guestId })).data.placeOrder.order.buyer).toEqual({ openid: claims.sub, unionid: claims.unionid, guest: false });
  expect((await ordersOf(claims.sub)).totalCount).toBe(3);
  const merges = rows<{ n: number; done: number }>(await t.platform.database.db.execute(sql`select count(*)::int as n, count(repointed_at)::int as done from account.user_merges`))[0]!;
  expect(merges).toEqual({ n: 1, done: 1 });

  // The app's record of the event holds its own ids only, never the platform's user ids.
  const records = await t.gql<any>(shop.token, '{ messageRecords(topics: [ACCOUNTS]) { nodes { type payload } } }');
  const record = records.data.messageRecords.nodes.find((n: any) => n.type === 'USER_MERGED' || n.type === 'user.merged');
  expect(record.payload).toMatchObject({ mergedOpenid: guestInShop.openid, survivingOpenid: claims.sub });
  expect(JSON.stringify(record.payload)).not.toContain(guestInErp.openid);
  expect(record.payload).not.toHaveProperty('mergedUserId');
  expect(record.payload).not.toHaveProperty('identities');
});

test('a buyer on placeOrder needs users:write, orders(buyer:) users:read and no filter; an unknown openid is NOT_FOUND and takes no stock', async () => {
  const noUsers = await t.token({ merchantId: merchant.id, appKey: apps[0]!.key, scopes: ['orders:write', 'orders:read', 'products:read'] });
  const refused = await place(noUsers, { guestId: 'someone' });
  expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  const unread = await t.gql<any>(noUsers, '{ orders(buyer: { guestId: "someone" }) { totalCount } }');
  expect(unread.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  const filtered = await t.gql<any>(apps[0]!.token, '{ orders(buyer: { guestId: "someone" }, filter: { status: [PAID] }) { totalCount } }');
  expect(filtered.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  const stockBefore = (await t.gql<any>(apps[0]!.token, 'query($id: ID!) { sku(id: $id) { stock } }', { id: skuId })).data.sku.stock;
  const unknown = await place(apps[0]!.token, { openid: `o${'A'.repeat(24)}` });
  expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  expect((await t.gql<any>(apps[0]!.token, 'query($id: ID!) { sku(id: $id) { stock } }', { id: skuId })).data.sku.stock).toBe(stockBefore);
});

test('the demo: its buyer signs in to the demo app and to its sister app (same unionid, another openid), and the demo guest merges into her with both orders', async () => {
  const demo = t.platform.demo!;
  const login = { email: demo.buyerLogin.emails[0]!, password: demo.buyerLogin.password! };
  const erp = await signIn({ key: demo.appKey, secret: demo.appSecret! }, login);
  const storefront = demo.otherApps[0]!;
  const sister = await signIn({ key: storefront.key, secret: storefront.secret! }, login);
  const bluebird = demo.otherApps[1]!;
  const other = await signIn({ key: bluebird.key, secret: bluebird.secret! }, login);
  expect(sister.unionid).toBe(erp.unionid);
  expect(sister.sub).not.toBe(erp.sub);
  expect(other.unionid).not.toBe(erp.unionid);

  const token = await t.token({ merchantId: demo.merchantId, appKey: demo.appKey, scopes: demo.scope.split(' ') });
  const guestOrders = await t.gql<any>(token, '{ orders(first: 2) { nodes { id buyer { guest openid } } } }');
  expect(guestOrders.data.orders.nodes.every((n: any) => n.buyer.guest)).toBe(true);
  const bound = await t.gql<any>(token, 'mutation($input: BindBuyerInput!) { bindBuyer(input: $input) { merged buyer { openid } } }', { input: { openid: erp.sub, guestId: demo.guestId } });
  expect(bound.data.bindBuyer).toEqual({ merged: 1, buyer: { openid: erp.sub } });
  await waitUntil('the demo guest\'s orders re-pointed', async () => {
    const mine = await t.gql<any>(token, 'query($o: String) { buyer(openid: $o) { orders { totalCount } } }', { o: erp.sub });
    return mine.data?.buyer.orders.totalCount === 2;
  });
});
