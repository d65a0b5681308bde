import { sql } from 'drizzle-orm';
import { CREATE_PRODUCT, createMerchant, createProduct, stockOf } from './helpers/factories.js';
import { startTestPlatform, type TestPlatform } from './helpers/platform.js';

let t: TestPlatform;
let shop: Awaited<ReturnType<typeof createMerchant>>;

beforeAll(async () => {
  t = await startTestPlatform();
  shop = await createMerchant(t, 'Catalog Shop');
});
afterAll(() => t.stop());

async function count(table: string, where = 'true'): Promise<number> {
  const result = (await t.platform.database.db.execute(sql.raw(`select count(*)::int as n from ${table} where ${where}`))) as unknown as { rows: { n: number }[] };
  return result.rows[0]!.n;
}

describe('products', () => {
  test('createProduct makes a DRAFT product with its SKUs and a product.created event', async () => {
    const eventsBefore = await count('product.outbox_events', "type = 'product.created'");
    const res = await t.gql(shop.token, CREATE_PRODUCT, {
      input: {
        title: '  Linen Shirt ',
        category: 'Apparel',
        skus: [
          { code: 'LS-S', attributes: [{ name: 'size', value: 'S' }], price: { amount: 4999, currency: 'USD' }, stock: 5 },
          { code: 'LS-M', price: { amount: 4999, currency: 'USD' } },
        ],
      },
    });
    expect(res.errors).toBeUndefined();
    const product = res.data!.createProduct.product;
    expect(product).toMatchObject({ title: 'Linen Shirt', status: 'DRAFT' });
    expect(product.skus.map((s: { code: string; stock: number }) => [s.code, s.stock])).toEqual([
      ['LS-S', 5],
      ['LS-M', 0],
    ]);
    expect(await count('product.outbox_events', "type = 'product.created'")).toBe(eventsBefore + 1);
  });

  test.each([
    ['an empty title', { title: ' ', skus: [{ code: 'A', price: { amount: 1, currency: 'USD' } }] }, 'title'],
    ['no SKUs', { title: 'X', skus: [] }, 'skus'],
    ['a lower-case currency', { title: 'X', skus: [{ code: 'A', price: { amount: 1, currency: 'usd' } }] }, 'skus[0].price.currency'],
    ['a negative price', { title: 'X', skus: [{ code: 'A', price: { amount: -1, currency: 'USD' } }] }, 'skus[0].price.amount'],
    ['a SKU code twice', { title: 'X', skus: [{ code: 'A', price: { amount: 1, currency: 'USD' } }, { code: 'A', price: { amount: 1, currency: 'USD' } }] }, 'skus[1].code'],
  ])('createProduct with %s is BAD_USER_INPUT naming the field and writes nothing', async (_label, input, field) => {
    const before = await count('product.products');
    const res = await t.gql(shop.token, CREATE_PRODUCT, { input });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(res.data).toBeNull();
    expect(await count('product.products')).toBe(before);
  });

  test('a SKU code the merchant already uses is a CONFLICT and leaves no product behind', async () => {
    await createProduct(t, shop.token, [{ code: 'DUP-1' }]);
    const before = await count('product.products');
    const eventsBefore = await count('product.outbox_events');
    const res = await t.gql(shop.token, CREATE_PRODUCT, { input: { title: 'Again', skus: [{ code: 'DUP-1', price: { amount: 1, currency: 'USD' } }] } });
    expect(res.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await count('product.products')).toBe(before);
    expect(await count('product.outbox_events')).toBe(eventsBefore);
  });

  test('another merchant may use the same SKU code', async () => {
    const other = await createMerchant(t);
    await expect(createProduct(t, other.token, [{ code: 'DUP-1' }])).resolves.toBeDefined();
  });

  test('status moves DRAFT -> ON_SHELF <-> OFF_SHELF and never back to DRAFT', async () => {
    const product = await createProduct(t, shop.token, [{}], { onShelf: false });
    const change = (status: string) =>
      t.gql(shop.token, 'mutation($id: ID!, $s: ProductStatus!) { changeProductStatus(input: { id: $id, status: $s }) { product { status } } }', { id: product.id, s: status });
    expect((await change('ON_SHELF')).data?.changeProductStatus.product.status).toBe('ON_SHELF');
    expect((await change('OFF_SHELF')).data?.changeProductStatus.product.status).toBe('OFF_SHELF');
    const back = await change('DRAFT');
    expect(back.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const current = await t.gql(shop.token, 'query($id: ID!) { product(id: $id) { status } }', { id: product.id });
    expect(current.data?.product.status).toBe('OFF_SHELF');
  });

  test('updateProduct with a stale expectedUpdatedAt is a CONFLICT and changes nothing', async () => {
    const product = await createProduct(t, shop.token);
    const read = await t.gql(shop.token, 'query($id: ID!) { product(id: $id) { updatedAt } }', { id: product.id });
    const updatedAt = read.data!.product.updatedAt;
    const update = (title: string) =>
      t.gql(shop.token, 'mutation($input: UpdateProductInput!) { updateProduct(input: $input) { product { title updatedAt } } }', {
        input: { id: product.id, title, expectedUpdatedAt: updatedAt },
      });
    const first = await update('First edit');
    expect(first.errors).toBeUndefined();
    const second = await update('Second edit');
    expect(second.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const now = await t.gql(shop.token, 'query($id: ID!) { product(id: $id) { title } }', { id: product.id });
    expect(now.data?.product.title).toBe('First edit');
  });

  test('products pages through with cursors, filters by status and search, and counts', async () => {
    const m = await createMerchant(t);
    for (let i = 0; i < 5; i++) await createProduct(t, m.token, [{}], { title: `Lamp ${i}`, onShelf: i % 2 === 0 });
    const page = (after?: string) =>
      t.gql(m.token, 'query($after: String) { products(first: 2, after: $after, filter: { search: "lamp" }) { nodes { title } pageInfo { hasNextPage endCursor } totalCount } }', { after });
    const titles: string[] = [];
    let after: string | undefined;
    for (;;) {
      const res = await page(after);
      expect(res.errors).toBeUndefined();
      titles.push(...res.data!.products.nodes.map((n: { title: string }) => n.title));
      expect(res.data!.products.totalCount).toBe(5);
      if (!res.data!.products.pageInfo.hasNextPage) break;
      after = res.data!.products.pageInfo.endCursor;
    }
    // Every product exactly once across the pages (ties in createdAt are broken by id, so none is skipped or repeated).
    expect([...titles].sort()).toEqual(['Lamp 0', 'Lamp 1', 'Lamp 2', 'Lamp 3', 'Lamp 4']);
    const onShelf = await t.gql(m.token, '{ products(filter: { status: ON_SHELF }) { totalCount } }');
    expect(onShelf.data?.products.totalCount).toBe(3);
  });

  test('first above 100 and a forged cursor are BAD_USER_INPUT', async () => {
    expect((await t.gql(shop.token, '{ products(first: 101) { totalCount } }')).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    const forged = Buffer.from(JSON.stringify(['CREATED_AT_DESC', "'; drop table x; --", 'nope'])).toString('base64url');
    expect((await t.gql(shop.token, 'query($a: String) { products(after: $a) { totalCount } }', { a: forged })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    const otherSort = Buffer.from(JSON.stringify(['UPDATED_AT_ASC', new Date().toISOString(), '00000000-0000-0000-0000-000000000000'])).toString('base64url');
    expect((await t.gql(shop.token, 'query($a: String) { products(after: $a) { totalCount } }', { a: otherSort })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('stock', () => {
  const ADJUST = 'mutation($input: AdjustStockInput!) { adjustStock(input: $input) { sku { stock } previousStock replayed } }';

  test('adjustStock applies once per idempotency key, however often it is retried', async () => {
    const product = await createProduct(t, shop.token, [{ stock: 10 }]);
    const skuId = product.skus[0]!.id;
    const input = { skuId, delta: -3, idempotencyKey: 'pick-0001', reason: 'damaged' };
    const first = await t.gql(shop.token, ADJUST, { input });
    expect(first.data?.adjustStock).toEqual({ sku: { stock: 7 }, previousStock: 10, replayed: false });
    const retries = await Promise.all([1, 2, 3].map(() => t.gql(shop.token, ADJUST, { input })));
    for (const retry of retries) expect(retry.data?.adjustStock).toEqual({ sku: { stock: 7 }, previousStock: 10, replayed: true });
    expect(await stockOf(t, shop.token, skuId)).toBe(7);
    expect(await count('product.outbox_events', `type = 'stock.changed' and aggregate_id = '${skuId}'`)).toBe(1);
  });

  test('concurrent adjustments with different keys all apply', async () => {
    const product = await createProduct(t, shop.token, [{ stock: 0 }]);
    const skuId = product.skus[0]!.id;
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => t.gql(shop.token, ADJUST, { input: { skuId, delta: 5, idempotencyKey: `restock-${skuId}-${i}` } })));
    for (const r of results) expect(r.errors).toBeUndefined();
    expect(await stockOf(t, shop.token, skuId)).toBe(40);
  });

  test('reusing a key for a different adjustment is a CONFLICT', async () => {
    const product = await createProduct(t, shop.token, [{ stock: 10 }]);
    const skuId = product.skus[0]!.id;
    await t.gql(shop.token, ADJUST, { input: { skuId, delta: 1, idempotencyKey: 'k-reuse' } });
    const reuse = await t.gql(shop.token, ADJUST, { input: { skuId, delta: 2, idempotencyKey: 'k-reuse' } });
    expect(reuse.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await stockOf(t, shop.token, skuId)).toBe(11);
  });

  test('stock never goes below zero', async () => {
    const product = await createProduct(t, shop.token, [{ stock: 2 }]);
    const skuId = product.skus[0]!.id;
    const res = await t.gql(shop.token, ADJUST, { input: { skuId, delta: -3, idempotencyKey: 'too-many' } });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', available: 2 });
    expect(await stockOf(t, shop.token, skuId)).toBe(2);
    const replay = await t.gql(shop.token, ADJUST, { input: { skuId, delta: -1, idempotencyKey: 'too-many' } });
    expect(replay.errors).toBeUndefined(); // the failed attempt did not consume the key
  });

  test('setStock records a stock take and a stock.changed event', async () => {
    const product = await createProduct(t, shop.token, [{ stock: 3 }]);
    const skuId = product.skus[0]!.id;
    const res = await t.gql(shop.token, 'mutation($id: ID!) { setStock(input: { skuId: $id, stock: 42 }) { sku { stock } previousStock } }', { id: skuId });
    expect(res.data?.setStock).toEqual({ sku: { stock: 42 }, previousStock: 3 });
    const events = (await t.platform.database.db.execute(
      sql`select payload from product.outbox_events where aggregate_id = ${skuId} and type = 'stock.changed'`,
    )) as unknown as { rows: { payload: Record<string, unknown> }[] };
    expect(events.rows.map((r) => r.payload)).toEqual([expect.objectContaining({ stockBefore: 3, stockAfter: 42, source: 'STOCK_TAKE' })]);
  });
});
