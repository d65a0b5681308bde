/**
 * The developer's app lifecycle over the portal session: create an app (SANDBOX, FREE packages, its
 * secret once, its own sandbox merchant with generated data), the sandbox token and its isolation,
 * resetting the sandbox, reviews, package requests, message views and the call report; another
 * developer's app is NOT_FOUND for every operation, and principals never cross (matrices).
 */
import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import { hashSecret } from '../core/secrets.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { apps, developers } from '../subgraphs/app-management/tables.js';
import { MAX_APPS_PER_DEVELOPER } from '../subgraphs/app-management/developer-apps.js';
import { SANDBOX_RESET_INTERVAL_MS, sandboxMerchantIdOf } from '../subgraphs/app-management/sandbox-provisioner.js';
import { createAccountStore } from '../subgraphs/account/store.js';
import { merchants } from '../subgraphs/account/tables.js';
import { signUpDeveloper, type SignedUpDeveloper } from './helpers/developer.js';
import { CALL_REPORT_FLUSH_MS } from '../gateway/call-reports.js';
import { adjustableClock } from './helpers/clock.js';
import { enrolOperator, type EnrolledOperator } from './helpers/operator.js';
import { connectWs, subscribeWs } from './helpers/messages.js';
import { TEST_APP_KEY, startTestPlatform, waitUntil, type TestPlatform } from './helpers/platform.js';

let t: TestPlatform;
/** Moved past the gateway's call-report flush instead of waiting for it. */
const clock = adjustableClock();
let store: ReturnType<typeof createAppManagementStore>;
let operator: string;
let alice: SignedUpDeveloper;
let bob: SignedUpDeveloper;
/** Alice's first app, as createApp answered it. */
let created: { app: { key: string; status: string; sandbox: { merchantId: string; state: string } }; secret: string };
let paidPackageId: string;

const CREATE_APP = `mutation Create($input: CreateAppInput!) {
  createApp(input: $input) {
    secret
    app { key name description status redirectUris ipAllowList signingPublicKey grantedScopes grantedPackages { package { name tier } }
          sandbox { merchantId merchantName state error resetAt } authorizeUrl }
  }
}`;

const ORDERS = `{ orders(first: 50) { nodes { id number status lines { skuCode quantity } shipments { status } paid { amount } refunded { amount } total { amount } } } products(first: 50) { nodes { id title skus { code stock } } } }`;

/** Enrolled in the console (TOTP) once; each token takes a fresh code. */
let ops: EnrolledOperator | undefined;
async function operatorToken(): Promise<string> {
  ops ??= await enrolOperator(t, 'ops-lifecycle@portico.example', 'a long operator password', clock);
  return ops.token();
}

async function sandboxToken(dev: SignedUpDeveloper, appKey: string) {
  const issued = await dev.gql(`mutation T($k: String!) { issueSandboxToken(appKey: $k) { accessToken expiresAt merchantId scopes } }`, { k: appKey });
  expect(issued.errors).toBeUndefined();
  return issued.data!.issueSandboxToken as { accessToken: string; expiresAt: string; merchantId: string; scopes: string[] };
}

beforeAll(async () => {
  t = await startTestPlatform({ clock });
  store = createAppManagementStore(t.platform.database.db);
  await store.createOperator({ email: 'ops-lifecycle@portico.example', name: 'Olga Ops', password: 'a long operator password' });
  operator = await operatorToken();
  paidPackageId = (await store.createPackage({ name: 'Buyer data (paid)', description: 'PII', tier: 'PAID', scopes: ['orders:read_pii'] })).id;
  [alice, bob] = await Promise.all([signUpDeveloper(t, { name: 'Alice' }), signUpDeveloper(t, { name: 'Bob' })]);
  const started = Date.now();
  const answer = await alice.gql(CREATE_APP, {
    input: { name: 'Alice ERP', description: 'Syncs orders', redirectUris: ['https://alice.example/callback', 'http://127.0.0.1:8976/cb'], ipAllowList: [] },
  });
  expect(answer.errors).toBeUndefined();
  created = answer.data!.createApp;
  // The tests read the whole sandbox a few times in a row: more than a FREE bucket restores meanwhile.
  const raised = await t.gql(operator, `mutation L($k: String!) { setAppFlowLimits(input: { appKey: $k, bucketSize: 100000, restoreRate: 10000, reason: "tests" }) { key } }`, { k: created.app.key });
  expect(raised.errors).toBeUndefined();
  // Measured: createApp with the sandbox provisioned (four internal calls, bulk writes).
  console.log(`createApp with its sandbox: ${Date.now() - started} ms`);
}, 60_000);
afterAll(() => t?.stop());

describe('creating an app', () => {
  test('starts in SANDBOX with the FREE packages, a secret shown once, and a READY sandbox', async () => {
    const { app, secret } = created as any;
    expect(app.key).toMatch(/^app_[0-9a-f]{20}$/);
    expect(app.status).toBe('SANDBOX');
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(app.grantedPackages.map((g: any) => g.package.tier)).toEqual(expect.arrayContaining(['FREE']));
    expect(app.grantedPackages.every((g: any) => g.package.tier === 'FREE')).toBe(true);
    expect(app.grantedScopes).toContain('orders:read');
    expect(app.sandbox).toMatchObject({ state: 'READY', error: null, merchantName: 'Alice ERP (sandbox)' });
    expect(app.authorizeUrl).toContain(`client_id=${app.key}`);
    expect(app.authorizeUrl).toContain(`redirect_uri=${encodeURIComponent('https://alice.example/callback')}`);
    expect(app.authorizeUrl).toContain('code_challenge_method=S256');
    // Stored hashed and sealed, never as it was shown.
    const [row] = await t.platform.database.db.select().from(apps).where(eq(apps.key, app.key));
    expect(row!.secretHash).not.toContain(secret);
    expect(row!.secretSealed).not.toBeNull();
    expect(row!.secretSealed).not.toContain(secret);
    // The secret works: a client-credentials token for the app.
    const token = await fetch(new URL('/oauth/token', t.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${app.key}:${secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read' }).toString(),
    });
    expect(token.status).toBe(200);
    // Nothing reads the secret back.
    const read = await alice.gql(`query A($k: String!) { developerApp(key: $k) { key } }`, { k: app.key });
    expect(JSON.stringify(read)).not.toContain(secret);
  });

  test('is audited under the developer', async () => {
    const log = await t.gql(operator, `{ auditLog(first: 50) { nodes { actor action targetId } } }`);
    expect(log.data!.auditLog.nodes).toEqual(expect.arrayContaining([{ actor: `developer:${alice.developerId}`, action: 'app.created', targetId: created.app.key }]));
  });

  test.each([
    ['an http redirect URI off loopback', { redirectUris: ['http://alice.example/cb'] }, 'redirectUris'],
    ['a relative redirect URI', { redirectUris: ['/cb'] }, 'redirectUris'],
    ['a redirect URI with a fragment', { redirectUris: ['https://alice.example/cb#x'] }, 'redirectUris'],
    ['an IP allow list entry that is no address', { ipAllowList: ['10.0.0.300'] }, 'entries'],
    ['a private signing key', { signingPublicKey: '{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}' }, 'publicKey'],
    ['an empty name', { name: '  ' }, 'name'],
  ])('refuses %s, and creates nothing', async (_what, input, field) => {
    const before = (await alice.gql(`{ viewerDeveloper { apps { key } } }`)).data!.viewerDeveloper.apps.length;
    const answer = await alice.gql(CREATE_APP, { input: { name: 'Bad app', ...input } });
    expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect((await alice.gql(`{ viewerDeveloper { apps { key } } }`)).data!.viewerDeveloper.apps.length).toBe(before);
  });

  test(`holds at most ${MAX_APPS_PER_DEVELOPER} apps per developer`, async () => {
    const carol = await signUpDeveloper(t, { name: 'Carol' });
    // Her first 19 apps straight into the table (provisioning 19 sandboxes would only slow the test).
    const secretHash = await hashSecret('unused');
    await t.platform.database.db.insert(apps).values(
      Array.from({ length: MAX_APPS_PER_DEVELOPER - 1 }, (_, i) => ({ id: crypto.randomUUID(), key: `app_carol_${i}_${crypto.randomBytes(3).toString('hex')}`, name: `Carol ${i}`, developerId: carol.developerId, secretHash })),
    );
    // Two at once for the last place: one gets it (the developer's row is locked while counting).
    const both = await Promise.all([carol.gql(CREATE_APP, { input: { name: 'Twentieth' } }), carol.gql(CREATE_APP, { input: { name: 'Also twentieth' } })]);
    expect(both.filter((answer) => answer.data?.createApp).length).toBe(1);
    expect(both.map((answer) => answer.errors?.[0]?.extensions?.code ?? 'OK').sort()).toEqual(['CONFLICT', 'OK']);
    const answer = await carol.gql(CREATE_APP, { input: { name: 'One too many' } });
    expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', limit: MAX_APPS_PER_DEVELOPER });
    expect((await carol.gql(`{ viewerDeveloper { apps { key } } }`)).data!.viewerDeveloper.apps).toHaveLength(MAX_APPS_PER_DEVELOPER);
  });

  test('a developer whom operators rejected, or whose email is no longer verified, cannot create apps', async () => {
    const dave = await signUpDeveloper(t, { name: 'Dave' });
    await t.platform.database.db.update(developers).set({ verificationStatus: 'REJECTED' }).where(eq(developers.id, dave.developerId));
    expect((await dave.gql(CREATE_APP, { input: { name: 'Nope' } })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // Signing in needs a verified email; a session from before the address was un-verified must not create apps either.
    await t.platform.database.db.update(developers).set({ verificationStatus: 'PENDING', emailVerifiedAt: null }).where(eq(developers.id, dave.developerId));
    expect((await dave.gql(CREATE_APP, { input: { name: 'Nope' } })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await dave.gql(`{ viewerDeveloper { apps { key } } }`)).data?.viewerDeveloper?.apps ?? []).toEqual([]);
  });
});

describe("the app's settings, by its developer", () => {
  let key: string;
  let secret: string;
  const clientCredentials = (appKey: string, appSecret: string) =>
    fetch(new URL('/oauth/token', t.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${appKey}:${appSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read' }).toString(),
    });
  beforeAll(async () => {
    const answer = await alice.gql(CREATE_APP, { input: { name: 'Alice Tools', redirectUris: ['https://tools.example/cb'] } });
    ({ key } = answer.data!.createApp.app);
    secret = answer.data!.createApp.secret;
  });

  test('updateApp changes what it is given, audited; an invalid URI changes nothing', async () => {
    const updated = await alice.gql(`mutation U($k: String!) { updateApp(input: { appKey: $k, name: "Alice Tools 2", redirectUris: ["https://tools.example/cb2", "http://localhost:3000/cb"] }) { name description redirectUris } }`, { k: key });
    expect(updated.data!.updateApp).toEqual({ name: 'Alice Tools 2', description: '', redirectUris: ['https://tools.example/cb2', 'http://localhost:3000/cb'] });
    const refused = await alice.gql(`mutation U($k: String!) { updateApp(input: { appKey: $k, name: "Renamed", redirectUris: ["ftp://tools.example"] }) { name } }`, { k: key });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'redirectUris' });
    const renamed = await alice.gql(`query A($k: String!) { developerApp(key: $k) { name sandbox { merchantId merchantName } } }`, { k: key });
    expect(renamed.data!.developerApp).toMatchObject({ name: 'Alice Tools 2', sandbox: { merchantName: 'Alice Tools 2 (sandbox)' } });
    // The sandbox merchant itself took the new name.
    const [shop] = await t.platform.database.db.select().from(merchants).where(eq(merchants.id, renamed.data!.developerApp.sandbox.merchantId));
    expect(shop!.name).toBe('Alice Tools 2 (sandbox)');
    const log = await t.gql(operator, `{ auditLog(first: 100) { nodes { actor action targetId } } }`);
    expect(log.data!.auditLog.nodes).toContainEqual({ actor: `developer:${alice.developerId}`, action: 'app.updated', targetId: key });
  });

  test('rotateAppSecret: the new secret works, the old one no more (no grace), audited under the developer', async () => {
    expect((await clientCredentials(key, secret)).status).toBe(200);
    const rotated = await alice.gql(`mutation R($k: String) { rotateAppSecret(graceHours: 0, appKey: $k) { appKey secret previousSecretExpiresAt } }`, { k: key });
    expect(rotated.data!.rotateAppSecret).toMatchObject({ appKey: key, previousSecretExpiresAt: null });
    expect((await clientCredentials(key, rotated.data!.rotateAppSecret.secret)).status).toBe(200);
    expect((await clientCredentials(key, secret)).status).toBe(401);
    const log = await t.gql(operator, `{ auditLog(first: 100) { nodes { actor action targetId } } }`);
    expect(log.data!.auditLog.nodes).toContainEqual({ actor: `developer:${alice.developerId}`, action: 'app.secret_rotated', targetId: key });
  });

  test('setIpAllowList and registerSigningKey for the named app, normalized as for the app itself', async () => {
    const list = await alice.gql(`mutation L($k: String) { setIpAllowList(input: { appKey: $k, entries: ["10.1.2.3/8", "2001:DB8::1"] }) { ipAllowList } }`, { k: key });
    expect(list.data!.setIpAllowList.ipAllowList).toEqual(['10.0.0.0/8', '2001:db8::1']);
    const signing = await alice.gql(`mutation S($k: String) { registerSigningKey(appKey: $k, publicKey: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo") { signingPublicKey } }`, { k: key });
    expect(signing.data!.registerSigningKey.signingPublicKey).toBe('11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo');
    // A developer must name the app.
    expect((await alice.gql(`mutation { rotateAppSecret(graceHours: 0) { secret } }`)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'appKey' });
  });

  test("an app token naming another app is FORBIDDEN, not applied to itself", async () => {
    const appToken = await t.token({ merchantId: null });
    const rotate = await t.gql(appToken, `mutation R($k: String) { rotateAppSecret(graceHours: 0, appKey: $k) { secret } }`, { k: key });
    expect(rotate.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const request = await t.gql(appToken, `mutation R($k: String, $p: ID!) { requestPermissionPackage(input: { appKey: $k, packageId: $p }) { id } }`, { k: key, p: paidPackageId });
    expect(request.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('the sandbox', () => {
  test('the sandbox token reads generated orders in every status, with lines, and products with SKUs and stock', async () => {
    const token = await sandboxToken(alice, created.app.key);
    expect(token.merchantId).toBe(created.app.sandbox.merchantId);
    expect(token.scopes).toContain('orders:read');
    const lifetime = Date.parse(token.expiresAt) - clock.now();
    expect(lifetime).toBeGreaterThan(55 * 60_000);
    expect(lifetime).toBeLessThanOrEqual(60 * 60_000);
    const answer = await t.gql(token.accessToken, ORDERS);
    expect(answer.errors).toBeUndefined();
    const orders = answer.data!.orders.nodes as { status: string; lines: unknown[] }[];
    expect(new Set(orders.map((o) => o.status))).toEqual(new Set(['PENDING_PAYMENT', 'PAID', 'SHIPPED', 'DELIVERED', 'COMPLETED', 'CANCELLED', 'REFUNDING', 'REFUNDED']));
    expect(orders.every((o) => o.lines.length > 0)).toBe(true);
    // As the order service keeps them: paid in full once PAID, refunded in full when REFUNDED, a shipment once shipped.
    type Money = { amount: number };
    for (const order of orders as unknown as { status: string; shipments: { status: string }[]; paid: Money; refunded: Money; total: Money }[]) {
      expect(order.paid.amount).toBe(order.status === 'PENDING_PAYMENT' || order.status === 'CANCELLED' ? 0 : order.total.amount);
      expect(order.refunded.amount).toBe(order.status === 'REFUNDED' ? order.total.amount : 0);
      const shipped = ['SHIPPED', 'DELIVERED', 'COMPLETED', 'REFUNDING', 'REFUNDED'].includes(order.status);
      expect(order.shipments.map((x) => x.status)).toEqual(shipped ? [order.status === 'SHIPPED' ? 'IN_TRANSIT' : expect.any(String)] : []);
    }
    const products = answer.data!.products.nodes as { skus: { stock: number }[] }[];
    expect(products.length).toBeGreaterThanOrEqual(10);
    expect(products.every((p) => p.skus.length > 0)).toBe(true);
  });

  test("the merchant's consent record exists: the sandbox authorization of the app", async () => {
    const authorizations = await t.gql(operator, `query A($m: ID!) { merchantAuthorizations(merchantId: $m) { appKey scopes revokedAt } }`, { m: created.app.sandbox.merchantId });
    expect(authorizations.data!.merchantAuthorizations).toEqual([expect.objectContaining({ appKey: created.app.key, revokedAt: null, scopes: expect.arrayContaining(['orders:read']) })]);
  });

  test("a SANDBOX app acts for its own sandbox only: another developer's sandbox merchant is refused", async () => {
    const bobs = await bob.gql(CREATE_APP, { input: { name: 'Bob Tools' } });
    const bobSandbox = bobs.data!.createApp.app.sandbox.merchantId as string;
    // Alice's app, with a token naming Bob's sandbox (a test merchant, but not hers).
    const crossing = await t.token({ appKey: created.app.key, merchantId: bobSandbox, scopes: ['orders:read'] });
    const answer = await t.gql(crossing, '{ orders(first: 1) { nodes { id } } }');
    expect(answer.status).toBe(403);
    expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // Her own is fine with the same kind of token.
    const own = await t.token({ appKey: created.app.key, merchantId: created.app.sandbox.merchantId, scopes: ['orders:read'] });
    expect((await t.gql(own, '{ orders(first: 1) { nodes { id } } }')).errors).toBeUndefined();
  });

  test('resetSandbox puts the generated data back as it was', async () => {
    const token = (await sandboxToken(alice, created.app.key)).accessToken;
    const before = await t.gql(token, ORDERS);
    const pending = (before.data!.orders.nodes as { id: string; status: string }[]).find((o) => o.status === 'PENDING_PAYMENT')!;
    const cancelled = await t.gql(token, `mutation C($id: ID!) { cancelOrder(input: { orderId: $id, reason: "test" }) { order { status } } }`, { id: pending.id });
    expect(cancelled.errors).toBeUndefined();
    const RESET = `mutation R($k: String!) { resetSandbox(appKey: $k) { sandbox { state error resetAt } } }`;
    await clock.advance(SANDBOX_RESET_INTERVAL_MS);
    const started = Date.now();
    const reset = await alice.gql(RESET, { k: created.app.key });
    console.log(`resetSandbox: ${Date.now() - started} ms`);
    // Not again within seconds of the last one (the next call comes well within SANDBOX_RESET_INTERVAL_MS).
    const tooSoon = await alice.gql(RESET, { k: created.app.key });
    expect(tooSoon.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', retryAfterSeconds: expect.any(Number) });
    expect(reset.errors).toBeUndefined();
    expect(reset.data!.resetSandbox.sandbox).toMatchObject({ state: 'READY', error: null });
    const after = await t.gql(token, ORDERS);
    expect(after.errors).toBeUndefined();
    const sorted = (r: typeof before) => JSON.stringify([...(r.data!.orders.nodes as { id: string }[])].sort((a, b) => a.id.localeCompare(b.id)));
    expect(sorted(after)).toEqual(sorted(before));
    expect(after.data!.products.nodes.length).toBe(before.data!.products.nodes.length);
  });
});

describe('a sandbox that cannot be provisioned', () => {
  test('is FAILED with the reason, never touches a merchant that is not a test one, and a reset after the cause is gone makes it READY', async () => {
    // An app from before the portal (no sandbox yet) whose derived sandbox id names a real merchant.
    const key = `app_${crypto.randomBytes(10).toString('hex')}`;
    await t.platform.database.db.insert(apps).values({ id: crypto.randomUUID(), key, name: 'Old app', developerId: alice.developerId, secretHash: await hashSecret('unused') });
    const merchantId = sandboxMerchantIdOf(key);
    await createAccountStore(t.platform.database.db).createMerchant({ id: merchantId, name: 'A real shop', contactEmail: 'real@shop.example', isTest: false });
    expect((await alice.gql(`query A($k: String!) { developerApp(key: $k) { sandbox { state } } }`, { k: key })).data!.developerApp.sandbox.state).toBe('NONE');
    const failed = await alice.gql(`mutation R($k: String!) { resetSandbox(appKey: $k) { sandbox { merchantId state error } } }`, { k: key });
    expect(failed.errors).toBeUndefined();
    expect(failed.data!.resetSandbox.sandbox).toMatchObject({ merchantId, state: 'FAILED', error: expect.stringContaining('account service') });
    expect((await alice.gql(`mutation T($k: String!) { issueSandboxToken(appKey: $k) { accessToken } }`, { k: key })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', sandboxState: 'FAILED' });
    // The real merchant kept its name and is still not a test merchant.
    const [shop] = await t.platform.database.db.select().from(merchants).where(eq(merchants.id, merchantId));
    expect(shop).toMatchObject({ name: 'A real shop', isTest: false });
    // Once the cause is gone, a reset provisions it.
    await t.platform.database.db.update(merchants).set({ isTest: true }).where(eq(merchants.id, merchantId));
    const ready = await alice.gql(`mutation R($k: String!) { resetSandbox(appKey: $k) { sandbox { state error } } }`, { k: key });
    expect(ready.data!.resetSandbox.sandbox).toEqual({ state: 'READY', error: null });
  });
});

describe('reviews', () => {
  test('submit, rejected with a reason the developer reads, submitted again, approved: LIVE with its status change recorded', async () => {
    const key = created.app.key;
    const submit = (notes: string) => alice.gql(`mutation S($k: String!, $n: String) { submitAppForReview(input: { appKey: $k, notes: $n }) { id status notes } }`, { k: key, n: notes });
    const first = await submit('Please release');
    expect(first.data!.submitAppForReview).toMatchObject({ status: 'PENDING', notes: 'Please release' });
    expect((await submit('again')).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const rejected = await t.gql(operator, `mutation R($id: ID!) { rejectAppReview(input: { reviewId: $id, reason: "Add a privacy policy URL" }) { status decisionReason } }`, { id: first.data!.submitAppForReview.id });
    expect(rejected.data!.rejectAppReview).toEqual({ status: 'REJECTED', decisionReason: 'Add a privacy policy URL' });
    const seen = await alice.gql(`query A($k: String!) { developerApp(key: $k) { status reviews { status decisionReason } } }`, { k: key });
    expect(seen.data!.developerApp).toEqual({ status: 'SANDBOX', reviews: [{ status: 'REJECTED', decisionReason: 'Add a privacy policy URL' }] });
    const second = await submit('Privacy policy added');
    // Operators' queue of pending reviews names the app.
    const queue = await t.gql(operator, `{ appReviews { id notes app { key } } }`);
    expect(queue.data!.appReviews).toContainEqual({ id: second.data!.submitAppForReview.id, notes: 'Privacy policy added', app: { key } });
    // A developer cannot decide their own review.
    expect((await alice.gql(`mutation A($id: ID!) { approveAppReview(input: { reviewId: $id, reason: "me" }) { status } }`, { id: second.data!.submitAppForReview.id })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const approved = await t.gql(operator, `mutation A($id: ID!) { approveAppReview(input: { reviewId: $id, reason: "Looks good" }) { status } }`, { id: second.data!.submitAppForReview.id });
    expect(approved.data!.approveAppReview.status).toBe('APPROVED');
    const live = await alice.gql(`query A($k: String!) { developerApp(key: $k) { status statusHistory { from to reason } reviews { status } } }`, { k: key });
    expect(live.data!.developerApp.status).toBe('LIVE');
    expect(live.data!.developerApp.statusHistory[0]).toMatchObject({ from: 'SANDBOX', to: 'LIVE' });
    expect(live.data!.developerApp.reviews.map((r: { status: string }) => r.status)).toEqual(['APPROVED', 'REJECTED']);
    expect((await submit('once more')).errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });
});

describe('package requests', () => {
  test('a developer requests a package for their app and withdraws it; a withdrawn request is not decided', async () => {
    const requested = await alice.gql(`mutation R($k: String, $p: ID!) { requestPermissionPackage(input: { appKey: $k, packageId: $p, message: "Need PII for shipping labels" }) { id status app { key } } }`, { k: created.app.key, p: paidPackageId });
    expect(requested.data!.requestPermissionPackage).toMatchObject({ status: 'PENDING', app: { key: created.app.key } });
    const id = requested.data!.requestPermissionPackage.id;
    const withdrawn = await alice.gql(`mutation W($id: ID!) { withdrawPackageRequest(id: $id) { status } }`, { id });
    expect(withdrawn.errors).toBeUndefined();
    expect(withdrawn.data!.withdrawPackageRequest.status).toBe('WITHDRAWN');
    expect((await alice.gql(`mutation W($id: ID!) { withdrawPackageRequest(id: $id) { status } }`, { id })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const approve = await t.gql(operator, `mutation A($id: ID!) { approvePackageRequest(input: { requestId: $id, reason: "ok" }) { status } }`, { id });
    expect(approve.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const seen = await alice.gql(`query A($k: String!) { developerApp(key: $k) { packageRequests { status } } }`, { k: created.app.key });
    expect(seen.data!.developerApp.packageRequests).toEqual([{ status: 'WITHDRAWN' }]);
  });
});

describe('developer views', () => {
  test("the sandbox's message stream: its cursor and unacknowledged messages, records, re-push and reset", async () => {
    const streams = await alice.gql(`query A($k: String!) { developerApp(key: $k) { messageStreams { merchantId merchantName acknowledgedCursor topics { topic pending } } } }`, { k: created.app.key });
    expect(streams.errors).toBeUndefined();
    const [sandbox] = streams.data!.developerApp.messageStreams;
    expect(sandbox.merchantId).toBe(created.app.sandbox.merchantId);
    expect(sandbox.merchantName).toBe('Alice ERP (sandbox)');
    const orders = sandbox.topics.find((x: { topic: string }) => x.topic === 'ORDERS');
    expect(orders.pending).toBeGreaterThan(0);
    const records = await alice.gql(`query A($k: String!, $m: ID!) { developerApp(key: $k) { messageRecords(merchantId: $m, first: 5) { nodes { id } } } }`, { k: created.app.key, m: sandbox.merchantId });
    expect(records.errors).toBeUndefined();
    const reset = await alice.gql(
      `mutation R($k: String!, $m: ID!, $c: MessageCursor) { resetAppMessageCursor(input: { appKey: $k, merchantId: $m, to: { cursor: $c } }) { merchantId topics { topic pending } } }`,
      { k: created.app.key, m: sandbox.merchantId, c: sandbox.acknowledgedCursor },
    );
    expect(reset.errors).toBeUndefined();
    expect(reset.data!.resetAppMessageCursor.merchantId).toBe(sandbox.merchantId);
    const redeliver = await alice.gql(`mutation D($k: String!, $m: ID!) { redeliverAppMessages(input: { appKey: $k, merchantId: $m, ids: ["${crypto.randomUUID()}"] }) { queued unknown } }`, { k: created.app.key, m: sandbox.merchantId });
    expect(redeliver.data!.redeliverAppMessages.queued).toEqual([]);
    // A merchant that never authorized the app is NOT_FOUND.
    const stranger = await alice.gql(`query A($k: String!, $m: ID!) { developerApp(key: $k) { messageRecords(merchantId: $m) { nodes { id } } } }`, { k: created.app.key, m: crypto.randomUUID() });
    expect(stranger.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  test('the sandbox token subscribes to the generated events; the developer sees their delivery records and re-pushes one', async () => {
    const token = (await sandboxToken(alice, created.app.key)).accessToken;
    const client = connectWs(t.url, token);
    try {
      const subscription = subscribeWs(client, 'subscription { orderEvents { id type order { number } } }');
      const events = await subscription.waitFor(3);
      expect(events[0]!.errors).toBeUndefined();
      expect(events[0]!.data!.orderEvents).toMatchObject({ type: 'CREATED', order: { number: expect.stringMatching(/^SO/) } });
      subscription.stop();
      const first = events[0]!.data!.orderEvents.id as string;
      const RECORDS = `query A($k: String!, $m: ID!) { developerApp(key: $k) { messageRecords(merchantId: $m, first: 50) { nodes { id type deliveries { reason } } } } }`;
      let records: { id: string; type: string }[] = [];
      await waitUntil('the delivery records', async () => {
        await clock.advance(1000);
        records = (await alice.gql(RECORDS, { k: created.app.key, m: created.app.sandbox.merchantId })).data!.developerApp.messageRecords.nodes;
        return records.some((r) => r.id === first);
      });
      expect(records.find((r) => r.id === first)).toMatchObject({ type: 'order.created' });
      const redeliver = await alice.gql(`mutation D($k: String!, $m: ID!, $ids: [ID!]!) { redeliverAppMessages(input: { appKey: $k, merchantId: $m, ids: $ids }) { queued unknown } }`, { k: created.app.key, m: created.app.sandbox.merchantId, ids: [first] });
      expect(redeliver.data!.redeliverAppMessages).toEqual({ queued: [first], unknown: [] });
    } finally {
      await client.dispose();
    }
  });

  test('the call report and usage of their own app, with the sandbox calls just made in it', async () => {
    const range = () => ({ f: new Date(clock.now() - 3_600_000).toISOString(), t: new Date(clock.now() + 3_600_000).toISOString() });
    const REPORT = `query A($k: String!, $f: DateTime!, $t: DateTime!) { developerApp(key: $k) { callReport(from: $f, to: $t) { total { calls } operations { operationName } } usage { tier dailyQuota callsToday } } }`;
    await clock.advance(CALL_REPORT_FLUSH_MS);
    let report: Record<string, any> | undefined;
    await waitUntil("the sandbox calls in Alice's report", async () => ((report = (await alice.gql(REPORT, { k: created.app.key, ...range() })).data!.developerApp).callReport.total.calls as number) > 0);
    expect(report!.usage).toMatchObject({ tier: 'FREE' });
    expect(report!.usage.callsToday).toBeGreaterThan(0);
    // Bob reads no report of Alice's app (the app is NOT_FOUND for him), nor can an app token of another app.
    expect((await bob.gql(REPORT, { k: created.app.key, ...range() })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe("another developer's app is NOT_FOUND, for every developer operation", () => {
  const operations: [string, string, (key: string, merchantId: string) => Record<string, unknown>][] = [
    ['developerApp', `query Q($k: String!) { developerApp(key: $k) { key } }`, (k) => ({ k })],
    ['updateApp', `mutation Q($k: String!) { updateApp(input: { appKey: $k, name: "Taken" }) { key } }`, (k) => ({ k })],
    ['rotateAppSecret', `mutation Q($k: String) { rotateAppSecret(graceHours: 0, appKey: $k) { secret } }`, (k) => ({ k })],
    ['setIpAllowList', `mutation Q($k: String) { setIpAllowList(input: { appKey: $k, entries: ["10.0.0.1"] }) { key } }`, (k) => ({ k })],
    ['registerSigningKey', `mutation Q($k: String) { registerSigningKey(appKey: $k, publicKey: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo") { key } }`, (k) => ({ k })],
    ['requestPermissionPackage', `mutation Q($k: String, $p: ID!) { requestPermissionPackage(input: { appKey: $k, packageId: $p }) { id } }`, (k) => ({ k, p: paidPackageId })],
    ['submitAppForReview', `mutation Q($k: String!) { submitAppForReview(input: { appKey: $k }) { id } }`, (k) => ({ k })],
    ['resetSandbox', `mutation Q($k: String!) { resetSandbox(appKey: $k) { key } }`, (k) => ({ k })],
    ['issueSandboxToken', `mutation Q($k: String!) { issueSandboxToken(appKey: $k) { accessToken } }`, (k) => ({ k })],
    ['redeliverAppMessages', `mutation Q($k: String!, $m: ID!) { redeliverAppMessages(input: { appKey: $k, merchantId: $m, ids: ["${crypto.randomUUID()}"] }) { queued } }`, (k, m) => ({ k, m })],
    ['resetAppMessageCursor', `mutation Q($k: String!, $m: ID!) { resetAppMessageCursor(input: { appKey: $k, merchantId: $m, to: { time: "2026-01-01T00:00:00Z" } }) { merchantId } }`, (k, m) => ({ k, m })],
  ];

  test.each(operations)('%s: Bob on Alice\'s app, and either on a key that does not exist', async (_name, query, variables) => {
    const ownersBefore = await store.appByKey(created.app.key);
    const bobs = await bob.gql(query, variables(created.app.key, created.app.sandbox.merchantId));
    expect(bobs.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(bobs.data?.[_name] ?? null).toBeNull();
    const missing = await alice.gql(query, variables(`app_${crypto.randomBytes(10).toString('hex')}`, created.app.sandbox.merchantId));
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    // Nothing of Alice's app changed.
    expect(await store.appByKey(created.app.key)).toEqual(ownersBefore);
  });

  test("withdrawPackageRequest: Bob on Alice's request", async () => {
    const other = await alice.gql(`mutation { createApp(input: { name: "Second" }) { app { key } } }`);
    const key = other.data!.createApp.app.key;
    const requested = await alice.gql(`mutation R($k: String, $p: ID!) { requestPermissionPackage(input: { appKey: $k, packageId: $p }) { id } }`, { k: key, p: paidPackageId });
    const id = requested.data!.requestPermissionPackage.id;
    const bobs = await bob.gql(`mutation W($id: ID!) { withdrawPackageRequest(id: $id) { status } }`, { id });
    expect(bobs.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const still = await alice.gql(`query A($k: String!) { developerApp(key: $k) { packageRequests { status } } }`, { k: key });
    expect(still.data!.developerApp.packageRequests).toEqual([{ status: 'PENDING' }]);
  });

  test("Bob's list of apps holds his own only, and Alice's app does not resolve for him through any path", async () => {
    const listed = await bob.gql(`{ viewerDeveloper { apps { key } } }`);
    expect(listed.data!.viewerDeveloper.apps.map((a: { key: string }) => a.key)).not.toContain(created.app.key);
    expect(listed.data!.viewerDeveloper.apps.length).toBe(1);
  });
});

describe('principals never cross', () => {
  const developerOnly: [string, string][] = [
    ['createApp', `mutation { createApp(input: { name: "x" }) { secret } }`],
    ['developerApp', `{ developerApp(key: "${TEST_APP_KEY}") { key } }`],
    ['updateApp', `mutation { updateApp(input: { appKey: "${TEST_APP_KEY}", name: "x" }) { key } }`],
    ['withdrawPackageRequest', `mutation { withdrawPackageRequest(id: "${crypto.randomUUID()}") { id } }`],
    ['submitAppForReview', `mutation { submitAppForReview(input: { appKey: "${TEST_APP_KEY}" }) { id } }`],
    ['resetSandbox', `mutation { resetSandbox(appKey: "${TEST_APP_KEY}") { key } }`],
    ['issueSandboxToken', `mutation { issueSandboxToken(appKey: "${TEST_APP_KEY}") { accessToken } }`],
    ['redeliverAppMessages', `mutation { redeliverAppMessages(input: { appKey: "${TEST_APP_KEY}", merchantId: "${crypto.randomUUID()}", ids: ["x"] }) { queued } }`],
    ['resetAppMessageCursor', `mutation { resetAppMessageCursor(input: { appKey: "${TEST_APP_KEY}", merchantId: "${crypto.randomUUID()}", to: { time: "2026-01-01T00:00:00Z" } }) { merchantId } }`],
  ];
  const callers: [string, () => Promise<string>][] = [
    ['an app-level token', () => t.token({ merchantId: null })],
    ["a merchant's app token", async () => t.token({ merchantId: created.app.sandbox.merchantId, appKey: created.app.key })],
    ['an operator token', async () => operator],
  ];
  test.each(callers.flatMap(([who, token]) => developerOnly.map(([op, query]) => [who, op, token, query] as const)))('%s is refused on %s', async (_who, _op, token, query) => {
    const answer = await t.gql(await token(), query);
    expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  const notForDevelopers: [string, string][] = [
    ['viewerApp (app token)', `{ viewerApp { key } }`],
    ['messageStream (app token)', `{ messageStream { topics { topic } } }`],
    ['requireSignedRequests (app token)', `mutation { requireSignedRequests { key } }`],
    ['orders (merchant data)', `{ orders(first: 1) { nodes { id } } }`],
    ['app (operators)', `{ app(key: "${TEST_APP_KEY}") { key } }`],
    ['apps (operators)', `{ apps { nodes { key } } }`],
    ['setAppStatus (operators)', `mutation { setAppStatus(input: { appKey: "${TEST_APP_KEY}", status: SUSPENDED, reason: "x" }) { key } }`],
    ['appReviews (operators)', `{ appReviews { id } }`],
    ['approveAppReview (operators)', `mutation { approveAppReview(input: { reviewId: "${crypto.randomUUID()}", reason: "x" }) { id } }`],
  ];
  test.each(notForDevelopers)('a developer session is refused on %s', async (_op, query) => {
    const answer = await alice.gql(query);
    const refused = answer.errors?.[0]?.extensions?.code === 'FORBIDDEN' || (answer.data !== null && answer.data?.viewerApp === null && !answer.errors);
    expect(refused).toBe(true);
  });
});
