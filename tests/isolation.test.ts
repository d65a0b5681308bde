/**
 * Merchant isolation: a token for merchant A never reads or changes merchant B's data, through any
 * query, nested field or mutation. (The full developer x app x merchant matrix, with forged entity
 * representations, comes with the field-authorization work.)
 */
import { createMerchant, createProduct, placeOrder, stockOf } from './helpers/factories.js';
import { startTestPlatform, type TestPlatform } from './helpers/platform.js';

let t: TestPlatform;
let a: Awaited<ReturnType<typeof createMerchant>>;
let b: Awaited<ReturnType<typeof createMerchant>>;
let bProduct: Awaited<ReturnType<typeof createProduct>>;
let bOrderId: string;

beforeAll(async () => {
  t = await startTestPlatform();
  a = await createMerchant(t, 'Shop A');
  b = await createMerchant(t, 'Shop B');
  await createProduct(t, a.token, [{ stock: 5 }], { title: 'A thing' });
  bProduct = await createProduct(t, b.token, [{ stock: 5 }], { title: 'B secret' });
  bOrderId = (await placeOrder(t, b.token, [{ skuId: bProduct.skus[0]!.id, quantity: 1 }])).data!.placeOrder.order.id;
});
afterAll(() => t.stop());

const expectNotFound = (res: { errors?: { extensions?: Record<string, unknown> }[] }) => {
  expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
};

test("reading another merchant's order, product, SKU or profile by id is NOT_FOUND", async () => {
  expectNotFound(await t.gql(a.token, 'query($id: ID!) { order(id: $id) { number } }', { id: bOrderId }));
  expectNotFound(await t.gql(a.token, 'query($id: ID!) { product(id: $id) { title } }', { id: bProduct.id }));
  expectNotFound(await t.gql(a.token, 'query($id: ID!) { sku(id: $id) { stock } }', { id: bProduct.skus[0]!.id }));
  expectNotFound(await t.gql(a.token, 'query($id: ID!) { merchant(id: $id) { name } }', { id: b.id }));
});

test("lists only ever hold the caller's own rows", async () => {
  const res = await t.gql(a.token, '{ products { nodes { title } totalCount } orders { totalCount } merchant { name products { totalCount } orders { totalCount } } }');
  expect(res.data).toEqual({
    products: { nodes: [{ title: 'A thing' }], totalCount: 1 },
    orders: { totalCount: 0 },
    merchant: { name: 'Shop A', products: { totalCount: 1 }, orders: { totalCount: 0 } },
  });
});

test("no mutation changes another merchant's data", async () => {
  const skuId = bProduct.skus[0]!.id;
  const attempts = [
    t.gql(a.token, 'mutation($id: ID!) { shipOrder(input: { orderId: $id, carrier: "X", trackingNumber: "Y" }) { order { id } } }', { id: bOrderId }),
    t.gql(a.token, 'mutation($id: ID!) { cancelOrder(input: { orderId: $id }) { order { id } } }', { id: bOrderId }),
    t.gql(a.token, 'mutation($id: ID!) { payOrder(input: { orderId: $id }) { order { id } } }', { id: bOrderId }),
    t.gql(a.token, 'mutation($id: ID!) { updateProduct(input: { id: $id, title: "pwned" }) { product { id } } }', { id: bProduct.id }),
    t.gql(a.token, 'mutation($id: ID!) { changeProductStatus(input: { id: $id, status: OFF_SHELF }) { product { id } } }', { id: bProduct.id }),
    t.gql(a.token, 'mutation($id: ID!) { setStock(input: { skuId: $id, stock: 0 }) { sku { id } } }', { id: skuId }),
    t.gql(a.token, 'mutation($id: ID!) { adjustStock(input: { skuId: $id, delta: -1, idempotencyKey: "x" }) { sku { id } } }', { id: skuId }),
  ];
  for (const res of await Promise.all(attempts)) {
    expectNotFound(res);
    expect(res.data).toBeNull();
  }
  // A's order for B's SKU cannot take B's stock either.
  expectNotFound(await placeOrder(t, a.token, [{ skuId, quantity: 1 }]));

  const order = await t.gql(b.token, 'query($id: ID!) { order(id: $id) { status } product(id: "' + bProduct.id + '") { title status } }', { id: bOrderId });
  expect(order.data).toEqual({ order: { status: 'PENDING_PAYMENT' }, product: { title: 'B secret', status: 'ON_SHELF' } });
  expect(await stockOf(t, b.token, skuId)).toBe(4);
});

test('an app-level token (no merchant) reads no merchant data', async () => {
  const appToken = await t.token({ merchantId: null });
  const res = await t.gql(appToken, '{ orders { totalCount } }');
  expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  expect(res.data).toBeNull();
  const merchant = await t.gql(appToken, '{ merchant { name } }');
  expect(merchant.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
});
