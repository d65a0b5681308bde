/** Field-by-field authorization: scopes from the schema, effective scopes from granted packages. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { execute, parse } from 'graphql';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { SUBGRAPH_NAMES } from '../core/config.js';
import { applyPermissions, readFieldRequirements } from '../core/permissions.js';
import { createAccountStore } from '../subgraphs/account/store.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { createMerchant, createProduct, placeOrder } from './helpers/factories.js';
import { adjustableClock } from './helpers/clock.js';
import { enrolOperator } from './helpers/operator.js';
import { ALL_SCOPES, startTestPlatform, type TestPlatform } from './helpers/platform.js';

test.each(SUBGRAPH_NAMES)('every field of the %s subgraph says who may read it (@authenticated or @requiresScopes)', (name) => {
  const sdl = parse(fs.readFileSync(new URL(`../schema/${name}.graphql`, import.meta.url), 'utf8'));
  const { uncovered, requirements } = readFieldRequirements(sdl);
  expect(uncovered).toEqual([]);
  expect(requirements.size).toBeGreaterThan(0);
});

describe('the shield over a schema', () => {
  const sdl = parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated", "@requiresScopes"])
    type Thing @key(fields: "id") @authenticated {
      id: ID!
    }
    type Query {
      open: String @authenticated
      scoped: String @requiresScopes(scopes: [["orders:read"]])
      undeclared: String
    }
  `);
  const schema = applyPermissions(
    buildSubgraphSchema({ typeDefs: sdl, resolvers: { Query: { open: () => 'o', scoped: () => 's', undeclared: () => 'u' } } }),
    sdl,
  );
  const caller = { kind: 'app' as const, appKey: 'app', merchantId: 'm', scopes: ['products:read'] };

  test('refuses a field whose scope the caller lacks, and a field that declares nothing', async () => {
    const result = await execute({ schema, document: parse('{ open scoped undeclared }'), contextValue: { caller } });
    expect(result.data).toEqual({ open: 'o', scoped: null, undeclared: null });
    expect(result.errors?.map((e) => [e.path?.[0], e.extensions.code])).toEqual([
      ['scoped', 'FORBIDDEN'],
      ['undeclared', 'FORBIDDEN'],
    ]);
  });

  test('leaves a field that needs only an authenticated caller synchronous (subgraphs execute nothing without one)', () => {
    // graphql-js answers synchronously only when no resolver returned a promise: shield's middleware is async.
    const result = execute({ schema, document: parse('{ open }'), contextValue: { caller } });
    expect(result).not.toBeInstanceOf(Promise);
    expect(result).toEqual({ data: { open: 'o' } });
    expect(execute({ schema, document: parse('{ scoped }'), contextValue: { caller } })).toBeInstanceOf(Promise);
  });
});

let t: TestPlatform;
/** Moved past the gateway's access cache instead of sleeping it out. */
const clock = adjustableClock();
let shop: Awaited<ReturnType<typeof createMerchant>>;
let orderId: string;
let store: ReturnType<typeof createAppManagementStore>;

/** Registers an app holding exactly the given scopes through one package. */
async function appWith(scopes: string[], status: 'LIVE' | 'SANDBOX' = 'LIVE') {
  const key = `app_${crypto.randomBytes(6).toString('hex')}`;
  const developer = await store.createDeveloper({ kind: 'INDIVIDUAL', name: 'Dev', email: `${key}@example.com` });
  await store.createApp({ key, name: key, developerId: developer.id, status });
  const pkg = await store.createPackage({ name: `pkg ${key}`, description: 'test', tier: 'FREE', scopes });
  await store.grantPackage('system:tests', { appKey: key, packageId: pkg.id, reason: 'test' });
  return { key, packageId: pkg.id };
}

beforeAll(async () => {
  t = await startTestPlatform({ clock });
  store = createAppManagementStore(t.platform.database.db);
  shop = await createMerchant(t, 'Scoped Shop');
  const product = await createProduct(t, shop.token, [{ stock: 50 }]);
  orderId = (await placeOrder(t, shop.token, [{ skuId: product.skus[0]!.id, quantity: 1 }])).data!.placeOrder.order.id;
});
afterAll(() => t.stop());

const ORDER = `query($id: ID!) { order(id: $id) { number status shippingAddress { name phone city } lines { quantity } } }`;

describe('partial answers', () => {
  test('without orders:read_pii the shipping address is null with FORBIDDEN naming the scope; the rest is returned', async () => {
    const token = await t.token({ merchantId: shop.id, scopes: ['orders:read'] });
    const res = await t.gql(token, ORDER, { id: orderId });
    expect(res.data?.order).toMatchObject({ status: 'PENDING_PAYMENT', shippingAddress: null, lines: [{ quantity: 1 }] });
    expect(res.errors).toHaveLength(1);
    // Everything the field needs: its type's orders:read and its own orders:read_pii.
    expect(res.errors![0]).toMatchObject({ path: ['order', 'shippingAddress'], extensions: { code: 'FORBIDDEN', requiredScopes: [['orders:read', 'orders:read_pii']] } });
  });

  test('with orders:read_pii the address is there', async () => {
    const token = await t.token({ merchantId: shop.id, scopes: ['orders:read', 'orders:read_pii'] });
    const res = await t.gql(token, ORDER, { id: orderId });
    expect(res.errors).toBeUndefined();
    expect(res.data?.order.shippingAddress).toMatchObject({ name: 'Ada Buyer', city: 'Springfield' });
  });

  test('a field on another subgraph is checked there: merchant name needs merchant:read', async () => {
    const token = await t.token({ merchantId: shop.id, scopes: ['orders:read'] });
    const res = await t.gql(token, '{ merchant { id name } }');
    expect(res.data).toEqual({ merchant: null }); // name is non-null, so the (nullable) merchant nulls out
    // merchant:read, or the staff scope of a merchant page session (which no app token holds).
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', requiredScopes: [['merchant:read'], ['staff']] });
    const withScope = await t.gql(await t.token({ merchantId: shop.id, scopes: ['merchant:read'] }), '{ merchant { name } }');
    expect(withScope.data).toEqual({ merchant: { name: 'Scoped Shop' } });
  });

  test('a mutation without its scope is FORBIDDEN and changes nothing', async () => {
    const token = await t.token({ merchantId: shop.id, scopes: ['orders:read', 'orders:read_pii'] });
    const res = await t.gql(token, 'mutation($id: ID!) { cancelOrder(input: { orderId: $id }) { order { status } } }', { id: orderId });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', requiredScopes: [['orders:write']] });
    expect((await t.gql(token, ORDER, { id: orderId })).data?.order.status).toBe('PENDING_PAYMENT');
  });

  test('an entity another subgraph references is checked against its own type: product fields need products:read', async () => {
    const token = await t.token({ merchantId: shop.id, scopes: ['orders:read'] });
    const res = await t.gql(token, 'query($id: ID!) { order(id: $id) { number lines { quantity product { title } } } }', { id: orderId });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', requiredScopes: [['products:read']] });
  });
});

describe('effective scopes: the token\'s scopes that the app\'s granted packages still cover', () => {
  test('a scope in the token but in no granted package is not usable', async () => {
    const app = await appWith(['orders:read']);
    const token = await t.token({ merchantId: shop.id, appKey: app.key, scopes: ['orders:read', 'orders:read_pii', 'products:read'] });
    const res = await t.gql(token, ORDER, { id: orderId });
    expect(res.data?.order.shippingAddress).toBeNull();
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const products = await t.gql(token, '{ products { totalCount } }');
    expect(products.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  test('revoking a package takes effect within 5 s, before the token expires', async () => {
    const app = await appWith(['orders:read']);
    const token = await t.token({ merchantId: shop.id, appKey: app.key, scopes: ['orders:read'], ttlSeconds: 3600 });
    expect((await t.gql(token, '{ orders { totalCount } }')).errors).toBeUndefined();
    await store.revokePackage('operator:test', { appKey: app.key, packageId: app.packageId, reason: 'abuse' });
    const revokedAt = Date.now();
    let deniedAfter = Infinity;
    while (Date.now() - revokedAt < 6000) {
      const res = await t.gql(token, '{ orders { totalCount } }');
      if (res.errors?.[0]?.extensions?.code === 'FORBIDDEN') {
        deniedAfter = Date.now() - revokedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(deniedAfter).toBeLessThan(5000);
  });

  test('an app in SANDBOX acts for test merchants only: a real merchant\'s data is refused with 403 FORBIDDEN', async () => {
    const app = await appWith(['orders:read'], 'SANDBOX');
    const real = await t.gql(await t.token({ merchantId: shop.id, appKey: app.key, scopes: ['orders:read'] }), '{ orders { totalCount } }');
    expect(real.status).toBe(403);
    expect(real.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' }, message: expect.stringMatching(/SANDBOX/) });
    const testShop = await createAccountStore(t.platform.database.db).createMerchant({ name: 'Sandbox Shop', contactEmail: 'sandbox@example.com', isTest: true });
    const sandboxed = await t.gql(await t.token({ merchantId: testShop.id, appKey: app.key, scopes: ['orders:read'] }), '{ orders { totalCount } }');
    expect(sandboxed.errors).toBeUndefined();
    expect(sandboxed.data).toEqual({ orders: { totalCount: 0 } });
  });

  test('an unknown app is refused with 403 FORBIDDEN, a suspended one with 403 APP_SUSPENDED', async () => {
    const unknown = await t.token({ merchantId: shop.id, appKey: 'app_nobody' });
    const res = await t.gql(unknown, '{ orders { totalCount } }');
    expect(res.status).toBe(403);
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const app = await appWith(['orders:read']);
    const token = await t.token({ merchantId: shop.id, appKey: app.key, scopes: ['orders:read'] });
    await store.createOperator({ email: `ops-${app.key}@portico.example`, name: 'Ops', password: 'a long operator password' });
    const operator = await (await enrolOperator(t, `ops-${app.key}@portico.example`, 'a long operator password', clock)).token();
    const suspend = await t.gql(operator, 'mutation($in: SetAppStatusInput!) { setAppStatus(input: $in) { key status } }', { in: { appKey: app.key, status: 'SUSPENDED', reason: 'Scraping' } });
    expect(suspend.data).toEqual({ setAppStatus: { key: app.key, status: 'SUSPENDED' } });
    await clock.advance(t.platform.config.appAccessCacheMs + 1); // past the gateway's access cache
    const suspended = await t.gql(token, '{ orders { totalCount } }');
    expect(suspended.status).toBe(403);
    expect(suspended.errors?.[0]?.extensions?.code).toBe('APP_SUSPENDED');
    expect(suspended.errors?.[0]?.message).toMatch(/suspended/);
  });

  test('an app token can never call operator operations, even with "operator" in its scope', async () => {
    const token = await t.token({ merchantId: shop.id, scopes: [...ALL_SCOPES, 'operator', 'internal'] });
    const res = await t.gql(token, 'mutation { createPermissionPackage(input: { name: "x", description: "x", tier: FREE, scopes: ["orders:read"] }) { id } }');
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', requiredScopes: [['operator']] });
    const audit = await t.gql(token, '{ auditLog { nodes { id } } }');
    expect(audit.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('the API catalog', () => {
  test('lists every field with the scopes it needs and whether the caller holds them now', async () => {
    const app = await appWith(['orders:read']);
    const token = await t.token({ merchantId: shop.id, appKey: app.key, scopes: ['orders:read', 'orders:read_pii'] });
    const res = await t.gql<{ apiCatalog: { fields: { coordinate: string; requiredScopes: string[][]; available: boolean }[]; scopes: { scope: { name: string }; held: boolean }[] } }>(
      token,
      '{ apiCatalog { fields { coordinate requiredScopes available } scopes { scope { name } held } } }',
    );
    expect(res.errors).toBeUndefined();
    const field = (c: string) => res.data!.apiCatalog.fields.find((f) => f.coordinate === c);
    expect(field('Query.orders')).toEqual({ coordinate: 'Query.orders', requiredScopes: [['orders:read']], available: true });
    expect(field('Order.shippingAddress')).toEqual({ coordinate: 'Order.shippingAddress', requiredScopes: [['orders:read', 'orders:read_pii']], available: false });
    expect(field('Mutation.shipOrder')?.available).toBe(false);
    expect(field('Mutation.releaseStock')).toBeUndefined(); // internal: not in the public API
    const held = res.data!.apiCatalog.scopes.filter((s) => s.held).map((s) => s.scope.name);
    expect(held).toEqual(['orders:read']);
  });
});
