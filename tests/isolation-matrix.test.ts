/**
 * Object-level isolation, proven over a matrix: 2 developers x 2 apps each x 3 merchants. Every
 * token tries every query, nested field, mutation and entity reference on the other merchants'
 * objects, through the gateway and (with a genuine gateway-signed context token carrying forged
 * representations) straight at each subgraph. Not one field of another merchant's data may come back
 * and nothing of theirs may change.
 */
import crypto from 'node:crypto';
import { ALL_SCOPES, startTestPlatform, type TestPlatform } from './helpers/platform.js';
import { createMerchant, createProduct, placeOrder, stockOf } from './helpers/factories.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { CONTEXT_TOKEN_HEADER, createContextSigner } from '../core/tokens.js';
import type { SubgraphName } from '../core/config.js';

interface MerchantFixture {
  id: string;
  name: string;
  productId: string;
  productTitle: string;
  skuId: string;
  skuCode: string;
  orderId: string;
}

let t: TestPlatform;
const merchants: MerchantFixture[] = [];
const apps: { key: string; developer: string }[] = [];

beforeAll(async () => {
  t = await startTestPlatform();
  const store = createAppManagementStore(t.platform.database.db);
  const everything = await store.createPackage({ name: 'Matrix: every scope', description: 'test', tier: 'FREE', scopes: ALL_SCOPES });
  for (const developer of ['Dev One', 'Dev Two']) {
    const dev = await store.createDeveloper({ kind: 'COMPANY', name: developer, email: `${crypto.randomUUID()}@example.com` });
    for (let i = 0; i < 2; i++) {
      const key = `app_${crypto.randomBytes(6).toString('hex')}`;
      await store.createApp({ key, name: `${developer} app ${i}`, developerId: dev.id, status: 'LIVE' });
      await store.grantPackage('system:tests', { appKey: key, packageId: everything.id, reason: 'matrix' });
      apps.push({ key, developer });
    }
  }
  for (const name of ['Matrix Alpha', 'Matrix Beta', 'Matrix Gamma']) {
    const m = await createMerchant(t, name);
    const code = `SECRET-${name.split(' ')[1]!.toUpperCase()}`;
    const product = await createProduct(t, m.token, [{ code, stock: 10 }], { title: `Secret ${name} product` });
    const order = (await placeOrder(t, m.token, [{ skuId: product.skus[0]!.id, quantity: 1 }])).data!.placeOrder.order;
    merchants.push({ id: m.id, name, productId: product.id, productTitle: product.title, skuId: product.skus[0]!.id, skuCode: code, orderId: order.id });
  }
}, 120_000);
afterAll(() => t.stop());

/**
 * Strings that identify another merchant's data: none may appear in a response. (Not order numbers:
 * they count per merchant, so every merchant's first order is SO100001. The order id identifies it.)
 */
const secretsOf = (m: MerchantFixture) => [m.name, m.productTitle, m.skuCode, m.productId, m.skuId, m.orderId];

function expectNothingOf(others: MerchantFixture[], body: unknown) {
  const text = JSON.stringify(body);
  // Ids may echo back inside our own error messages ("Order <id> was not found"); data may not.
  const data = JSON.stringify((body as { data?: unknown }).data ?? null);
  for (const other of others) {
    for (const secret of [other.name, other.productTitle, other.skuCode]) expect(text).not.toContain(secret);
    for (const secret of secretsOf(other)) expect(data).not.toContain(secret);
  }
}

function queriesAgainst(victim: MerchantFixture) {
  return [
    ['query($id: ID!) { order(id: $id) { number status total { amount } lines { skuCode product { title } } shippingAddress { name } } }', { id: victim.orderId }],
    ['query($id: ID!) { product(id: $id) { title skus { code stock } merchant { name } } }', { id: victim.productId }],
    ['query($id: ID!) { sku(id: $id) { code stock product { title } } }', { id: victim.skuId }],
    ['query($id: ID!) { merchant(id: $id) { name contact { email } products { nodes { title } } orders { nodes { number } } } }', { id: victim.id }],
  ] as const;
}

function mutationsAgainst(victim: MerchantFixture) {
  return [
    ['mutation($id: ID!) { shipOrder(input: { orderId: $id, carrier: "X", trackingNumber: "Y" }) { order { number } } }', { id: victim.orderId }],
    ['mutation($id: ID!) { cancelOrder(input: { orderId: $id }) { order { number } } }', { id: victim.orderId }],
    ['mutation($id: ID!) { payOrder(input: { orderId: $id }) { order { number } } }', { id: victim.orderId }],
    ['mutation($id: ID!) { updateProduct(input: { id: $id, title: "pwned" }) { product { title } } }', { id: victim.productId }],
    ['mutation($id: ID!) { changeProductStatus(input: { id: $id, status: OFF_SHELF }) { product { title } } }', { id: victim.productId }],
    ['mutation($id: ID!) { setStock(input: { skuId: $id, stock: 0 }) { sku { code } } }', { id: victim.skuId }],
    [`mutation($id: ID!) { adjustStock(input: { skuId: $id, delta: -1, idempotencyKey: "${crypto.randomUUID()}" }) { sku { code } } }`, { id: victim.skuId }],
    [
      `mutation($id: ID!) { placeOrder(input: { idempotencyKey: "${crypto.randomUUID()}", lines: [{ skuId: $id, quantity: 1 }], shippingAddress: { name: "x", line1: "x", city: "x", country: "US" } }) { order { number } } }`,
      { id: victim.skuId },
    ],
  ] as const;
}

/** Entity representations of the victim's objects, as a forged `_entities` call would carry them. */
const ENTITY_CALLS: { subgraph: SubgraphName; typename: string; id: (m: MerchantFixture) => string; selection: string }[] = [
  { subgraph: 'order', typename: 'Order', id: (m) => m.orderId, selection: '... on Order { number status lines { skuCode } }' },
  { subgraph: 'order', typename: 'Merchant', id: (m) => m.id, selection: '... on Merchant { orders { nodes { number } } }' },
  { subgraph: 'product', typename: 'Product', id: (m) => m.productId, selection: '... on Product { title skus { code } }' },
  { subgraph: 'product', typename: 'Sku', id: (m) => m.skuId, selection: '... on Sku { code stock }' },
  { subgraph: 'product', typename: 'Merchant', id: (m) => m.id, selection: '... on Merchant { products { nodes { title } } }' },
  { subgraph: 'account', typename: 'Merchant', id: (m) => m.id, selection: '... on Merchant { name contact { email } }' },
];

test('2 developers x 2 apps x 3 merchants: nothing of another merchant is read or changed, by any path', async () => {
  const signContext = createContextSigner(t.platform.keys.context, 60);
  let attempts = 0;
  for (const app of apps) {
    for (const me of merchants) {
      const token = await t.token({ merchantId: me.id, appKey: app.key, scopes: ALL_SCOPES });
      const others = merchants.filter((m) => m !== me);
      for (const victim of others) {
        for (const [query, variables] of [...queriesAgainst(victim), ...mutationsAgainst(victim)]) {
          const res = await t.gql(token, query, variables);
          attempts++;
          expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
          expectNothingOf(others, res);
        }
        // _entities is not part of the public API: the gateway refuses it before planning.
        const forgedThroughGateway = await t.gql(token, `{ _entities(representations: [{ __typename: "Order", id: "${victim.orderId}" }]) { ... on Order { number } } }`);
        expect(forgedThroughGateway.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
        expectNothingOf(others, forgedThroughGateway);

        // A genuine context token for me, with the victim's representations, straight at each subgraph.
        const context = await signContext({ kind: 'app', merchantId: me.id, appKey: app.key, scopes: ALL_SCOPES });
        for (const call of ENTITY_CALLS) {
          const response = await fetch(t.platform.subgraphs[call.subgraph].url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', [CONTEXT_TOKEN_HEADER]: context },
            body: JSON.stringify({
              query: `query($r: [_Any!]!) { _entities(representations: $r) { ${call.selection} } }`,
              variables: { r: [{ __typename: call.typename, id: call.id(victim) }] },
            }),
          });
          const body = (await response.json()) as { data?: { _entities: unknown[] } };
          attempts++;
          expect(body.data?._entities ?? [null]).toEqual([null]);
          expectNothingOf(others, body);
        }
      }
    }
  }
  // Every merchant's own data is untouched after all of that.
  for (const m of merchants) {
    const token = await t.token({ merchantId: m.id, scopes: ALL_SCOPES });
    const mine = await t.gql(token, 'query($o: ID!, $p: ID!) { order(id: $o) { status } product(id: $p) { title status } }', { o: m.orderId, p: m.productId });
    expect(mine.data).toEqual({ order: { status: 'PENDING_PAYMENT' }, product: { title: m.productTitle, status: 'ON_SHELF' } });
    expect(await stockOf(t, token, m.skuId)).toBe(9);
  }
  expect(attempts).toBe(apps.length * merchants.length * 2 * (4 + 8 + ENTITY_CALLS.length));
}, 180_000);

test("an app sees only itself and its own developer, never another app's, through the gateway or directly", async () => {
  const signContext = createContextSigner(t.platform.keys.context, 60);
  for (const app of apps) {
    const token = await t.token({ merchantId: merchants[0]!.id, appKey: app.key, scopes: ALL_SCOPES });
    const mine = await t.gql(token, '{ viewerApp { key developer { name } } }');
    expect(mine.data).toEqual({ viewerApp: { key: app.key, developer: { name: app.developer } } });
    const context = await signContext({ kind: 'app', merchantId: merchants[0]!.id, appKey: app.key, scopes: ALL_SCOPES });
    for (const other of apps.filter((a) => a !== app)) {
      const response = await fetch(t.platform.subgraphs['app-management'].url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [CONTEXT_TOKEN_HEADER]: context },
        body: JSON.stringify({ query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on App { key name redirectUris } } }', variables: { r: [{ __typename: 'App', key: other.key }] } }),
      });
      const body = (await response.json()) as { data: { _entities: unknown[] } };
      expect(body.data._entities).toEqual([null]);
    }
  }
});
