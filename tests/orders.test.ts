import crypto from 'node:crypto';
import fs from 'node:fs';
import { sql } from 'drizzle-orm';
import { ADDRESS, PLACE_ORDER, createMerchant, createProduct, placeOrder, stockOf } from './helpers/factories.js';
import { startTestPlatform, type TestPlatform } from './helpers/platform.js';

let t: TestPlatform;
let shop: Awaited<ReturnType<typeof createMerchant>>;

beforeAll(async () => {
  t = await startTestPlatform();
  shop = await createMerchant(t, 'Order Shop');
});
afterAll(() => t.stop());

async function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  return ((await t.platform.database.db.execute(query)) as unknown as { rows: T[] }).rows;
}

const ORDER = `query($id: ID!) { order(id: $id) { id number status total { amount currency } shipment { carrier trackingNumber shippedAt }
  statusHistory { from to reason } lines { quantity productTitle skuCode unitPrice { amount } total { amount } sku { id stock } product { id title } } } }`;
const transition = (token: string, mutation: 'payOrder' | 'shipOrder' | 'cancelOrder', input: Record<string, unknown>) =>
  t.gql(token, `mutation($input: ${mutation[0]!.toUpperCase()}${mutation.slice(1)}Input!) { ${mutation}(input: $input) { order { status } } }`, { input });

describe('placing an order', () => {
  test('takes stock, snapshots prices and titles, totals the lines and writes order.created', async () => {
    const product = await createProduct(t, shop.token, [{ amount: 1250, stock: 10 }, { amount: 300, stock: 5 }], { title: 'Tea Set' });
    const [a, b] = product.skus;
    const placed = await placeOrder(t, shop.token, [{ skuId: a!.id, quantity: 2 }, { skuId: b!.id, quantity: 3 }]);
    expect(placed.errors).toBeUndefined();
    const order = placed.data!.placeOrder.order;
    expect(order.status).toBe('PENDING_PAYMENT');
    expect(order.total).toEqual({ amount: 2 * 1250 + 3 * 300, currency: 'USD' });
    expect(await stockOf(t, shop.token, a!.id)).toBe(8);
    expect(await stockOf(t, shop.token, b!.id)).toBe(2);

    const read = await t.gql(shop.token, ORDER, { id: order.id });
    expect(read.data!.order.lines).toEqual(
      expect.arrayContaining([
        { quantity: 2, productTitle: 'Tea Set', skuCode: a!.code, unitPrice: { amount: 1250 }, total: { amount: 2500 }, sku: { id: a!.id, stock: 8 }, product: { id: product.id, title: 'Tea Set' } },
      ]),
    );
    expect(read.data!.order.statusHistory).toEqual([{ from: null, to: 'PENDING_PAYMENT', reason: null }]);
    const events = await rows<{ type: string }>(sql`select type from "order".outbox_events where aggregate_id = ${order.id}`);
    expect(events.map((e) => e.type)).toEqual(['order.created']);
  });

  test('a retried placeOrder with the same key returns the same order and takes stock once, even concurrently', async () => {
    const product = await createProduct(t, shop.token, [{ stock: 10 }]);
    const skuId = product.skus[0]!.id;
    const key = crypto.randomUUID();
    const results = await Promise.all([1, 2, 3, 4].map(() => placeOrder(t, shop.token, [{ skuId, quantity: 2 }], key)));
    const ids = new Set(results.map((r) => r.data?.placeOrder.order.id));
    for (const r of results) expect(r.errors).toBeUndefined();
    expect(ids.size).toBe(1);
    expect(await stockOf(t, shop.token, skuId)).toBe(8);
    const count = await rows<{ n: number }>(sql`select count(*)::int as n from "order".orders where idempotency_key = ${key}`);
    expect(count[0]!.n).toBe(1);
  });

  test('reusing a key for different lines is a CONFLICT', async () => {
    const product = await createProduct(t, shop.token, [{ stock: 10 }]);
    const skuId = product.skus[0]!.id;
    const key = crypto.randomUUID();
    await placeOrder(t, shop.token, [{ skuId, quantity: 1 }], key);
    const reuse = await placeOrder(t, shop.token, [{ skuId, quantity: 5 }], key);
    expect(reuse.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await stockOf(t, shop.token, skuId)).toBe(9);
  });

  test('not enough stock is a CONFLICT and takes no stock from any line', async () => {
    const product = await createProduct(t, shop.token, [{ stock: 10 }, { stock: 1 }]);
    const [a, b] = product.skus;
    const before = await rows<{ n: number }>(sql`select count(*)::int as n from "order".orders`);
    const res = await placeOrder(t, shop.token, [{ skuId: a!.id, quantity: 4 }, { skuId: b!.id, quantity: 2 }]);
    expect(res.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await stockOf(t, shop.token, a!.id)).toBe(10);
    expect(await stockOf(t, shop.token, b!.id)).toBe(1);
    expect((await rows<{ n: number }>(sql`select count(*)::int as n from "order".orders`))[0]!.n).toBe(before[0]!.n);
  });

  test('a SKU off the shelf cannot be ordered; a malformed address is BAD_USER_INPUT', async () => {
    const draft = await createProduct(t, shop.token, [{ stock: 5 }], { onShelf: false });
    const res = await placeOrder(t, shop.token, [{ skuId: draft.skus[0]!.id, quantity: 1 }]);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const onShelf = await createProduct(t, shop.token, [{ stock: 5 }]);
    const badAddress = await t.gql(shop.token, PLACE_ORDER, {
      input: { idempotencyKey: crypto.randomUUID(), lines: [{ skuId: onShelf.skus[0]!.id, quantity: 1 }], shippingAddress: { ...ADDRESS, country: 'United States' } },
    });
    expect(badAddress.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'shippingAddress.country' });
    expect(await stockOf(t, shop.token, onShelf.skus[0]!.id)).toBe(5);
  });
});

describe('order numbers', () => {
  const numbersOf = async (merchant: Awaited<ReturnType<typeof createMerchant>>, skuId: string, n: number) =>
    (await Promise.all(Array.from({ length: n }, () => placeOrder(t, merchant.token, [{ skuId, quantity: 1 }])))).map((r) => {
      expect(r.errors).toBeUndefined();
      return r.data!.placeOrder.order.number;
    });

  test('count per merchant, so no number tells anything about other merchants\' orders', async () => {
    const a = await createMerchant(t);
    const b = await createMerchant(t);
    const skuA = (await createProduct(t, a.token, [{ stock: 10 }])).skus[0]!.id;
    const skuB = (await createProduct(t, b.token, [{ stock: 10 }])).skus[0]!.id;
    const got: string[] = [];
    for (const [merchant, sku] of [[a, skuA], [b, skuB], [a, skuA], [b, skuB], [a, skuA]] as const) got.push(...(await numbersOf(merchant, sku, 1)));
    expect(got).toEqual(['SO100001', 'SO100001', 'SO100002', 'SO100002', 'SO100003']);
  });

  test('concurrent orders of one merchant get distinct numbers without gaps', async () => {
    const shop = await createMerchant(t);
    const sku = (await createProduct(t, shop.token, [{ stock: 20 }])).skus[0]!.id;
    const numbers = await numbersOf(shop, sku, 12);
    expect([...numbers].sort()).toEqual(Array.from({ length: 12 }, (_, i) => `SO${100001 + i}`));
  });

  test('retries of one order sent at once take one number: an insert that loses the race gives its number back', async () => {
    const shop = await createMerchant(t);
    const sku = (await createProduct(t, shop.token, [{ stock: 10 }])).skus[0]!.id;
    const key = crypto.randomUUID();
    const retries = await Promise.all(Array.from({ length: 6 }, () => placeOrder(t, shop.token, [{ skuId: sku, quantity: 1 }], key)));
    expect(new Set(retries.map((r) => r.data?.placeOrder.order.number))).toEqual(new Set(['SO100001']));
    expect(await numbersOf(shop, sku, 1)).toEqual(['SO100002']);
  });

  test('migration 0002: a merchant whose orders were numbered from the old global sequence goes on from its highest number', async () => {
    const shop = await createMerchant(t);
    const sku = (await createProduct(t, shop.token, [{ stock: 5 }])).skus[0]!.id;
    const [first] = await numbersOf(shop, sku, 1);
    expect(first).toBe('SO100001');
    // As numbered before the migration: a number far up the global sequence, and no counter yet.
    const migration = fs.readFileSync(new URL('../subgraphs/order/migrations/0002_merchant_order_numbers.sql', import.meta.url), 'utf8');
    const fill = migration.split('--> statement-breakpoint').find((statement) => statement.includes('INSERT INTO'))!;
    await t.platform.database.db.transaction(async (tx) => {
      await tx.execute(sql`update "order".orders set number = 'SO104711' where merchant_id = ${shop.id}`);
      // The migration fills every merchant's counter from its orders (the others get the values they have).
      await tx.execute(sql`delete from "order".merchant_order_numbers`);
      await tx.execute(sql.raw(fill));
    });
    expect(await numbersOf(shop, sku, 1)).toEqual(['SO104712']);
  });
});

describe('order status', () => {
  test('pay then ship records the shipment, history and events in order', async () => {
    const product = await createProduct(t, shop.token, [{ stock: 5 }]);
    const order = (await placeOrder(t, shop.token, [{ skuId: product.skus[0]!.id, quantity: 1 }])).data!.placeOrder.order;
    expect((await transition(shop.token, 'payOrder', { orderId: order.id })).data?.payOrder.order.status).toBe('PAID');
    const shipped = await transition(shop.token, 'shipOrder', { orderId: order.id, carrier: 'DHL', trackingNumber: 'JD0001' });
    expect(shipped.data?.shipOrder.order.status).toBe('SHIPPED');
    const read = (await t.gql(shop.token, ORDER, { id: order.id })).data!.order;
    expect(read.shipment).toMatchObject({ carrier: 'DHL', trackingNumber: 'JD0001' });
    expect(read.statusHistory.map((h: { to: string }) => h.to)).toEqual(['PENDING_PAYMENT', 'PAID', 'SHIPPED']);
    const events = await rows<{ type: string; payload: Record<string, any> }>(sql`select type, payload from "order".outbox_events where aggregate_id = ${order.id} order by position`);
    // shipOrder ships everything in one shipment: its own event, then the order's status event.
    expect(events.map((e) => e.type)).toEqual(['order.created', 'order.paid', 'order.shipment_created', 'order.shipped']);
    // The created event carries what was ordered, so an ERP can book it from the event alone.
    expect(events[0]!.payload).toMatchObject({
      orderId: order.id,
      total: order.total,
      lines: [{ lineNo: 1, skuId: product.skus[0]!.id, skuCode: expect.any(String), quantity: 1, unitPrice: { amount: 1000, currency: 'USD' }, total: { amount: 1000, currency: 'USD' } }],
    });
    expect(events[2]!.payload).toMatchObject({ carrier: 'DHL', trackingNumber: 'JD0001', lines: [{ lineNo: 1, quantity: 1 }] });
    expect(events[3]!.payload).toMatchObject({ shipmentId: events[2]!.payload.shipmentId, shipment: { carrier: 'DHL', trackingNumber: 'JD0001' } });
  });

  test('an invalid transition is a CONFLICT naming the current status and changes nothing', async () => {
    const product = await createProduct(t, shop.token, [{ stock: 5 }]);
    const order = (await placeOrder(t, shop.token, [{ skuId: product.skus[0]!.id, quantity: 1 }])).data!.placeOrder.order;
    const ship = await transition(shop.token, 'shipOrder', { orderId: order.id, carrier: 'DHL', trackingNumber: 'X1' });
    expect(ship.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', currentStatus: 'PENDING_PAYMENT' });
    expect(ship.data).toBeNull();
    const read = (await t.gql(shop.token, ORDER, { id: order.id })).data!.order;
    expect(read).toMatchObject({ status: 'PENDING_PAYMENT', shipment: null });
    expect(read.statusHistory).toHaveLength(1);
    const events = await rows<{ type: string }>(sql`select type from "order".outbox_events where aggregate_id = ${order.id}`);
    expect(events).toHaveLength(1);
  });

  test('cancelling gives the stock back once; a shipped order cannot be cancelled', async () => {
    const product = await createProduct(t, shop.token, [{ stock: 5 }]);
    const skuId = product.skus[0]!.id;
    const order = (await placeOrder(t, shop.token, [{ skuId, quantity: 3 }])).data!.placeOrder.order;
    expect(await stockOf(t, shop.token, skuId)).toBe(2);
    const cancelled = await transition(shop.token, 'cancelOrder', { orderId: order.id, reason: 'Buyer asked' });
    expect(cancelled.data?.cancelOrder.order.status).toBe('CANCELLED');
    expect(await stockOf(t, shop.token, skuId)).toBe(5);
    const again = await transition(shop.token, 'cancelOrder', { orderId: order.id });
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await stockOf(t, shop.token, skuId)).toBe(5);
    const owed = await rows<{ n: number }>(sql`select count(*)::int as n from "order".pending_stock_releases`);
    expect(owed[0]!.n).toBe(0);

    const other = (await placeOrder(t, shop.token, [{ skuId, quantity: 1 }])).data!.placeOrder.order;
    await transition(shop.token, 'payOrder', { orderId: other.id });
    await transition(shop.token, 'shipOrder', { orderId: other.id, carrier: 'UPS', trackingNumber: '1Z' });
    expect((await transition(shop.token, 'cancelOrder', { orderId: other.id })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  test('concurrent ship and cancel of one order: exactly one wins', async () => {
    const product = await createProduct(t, shop.token, [{ stock: 5 }]);
    const order = (await placeOrder(t, shop.token, [{ skuId: product.skus[0]!.id, quantity: 1 }])).data!.placeOrder.order;
    await transition(shop.token, 'payOrder', { orderId: order.id });
    const [ship, cancel] = await Promise.all([
      transition(shop.token, 'shipOrder', { orderId: order.id, carrier: 'UPS', trackingNumber: '1Z9' }),
      transition(shop.token, 'cancelOrder', { orderId: order.id }),
    ]);
    const winners = [ship, cancel].filter((r) => !r.errors);
    expect(winners).toHaveLength(1);
    const history = (await t.gql(shop.token, ORDER, { id: order.id })).data!.order.statusHistory;
    expect(history).toHaveLength(3);
  });
});

describe('listing orders', () => {
  test('filters by status and time, pages without gaps, and syncs by updatedSince', async () => {
    const m = await createMerchant(t);
    const product = await createProduct(t, m.token, [{ stock: 100 }]);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await placeOrder(t, m.token, [{ skuId: product.skus[0]!.id, quantity: 1 }])).data!.placeOrder.order.id);
    const since = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await transition(m.token, 'payOrder', { orderId: ids[1]! });
    await transition(m.token, 'payOrder', { orderId: ids[4]! });

    const seen: string[] = [];
    let after: string | null = null;
    do {
      const res: any = await t.gql(m.token, 'query($after: String) { orders(first: 3, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }', { after });
      seen.push(...res.data.orders.nodes.map((n: { id: string }) => n.id));
      after = res.data.orders.pageInfo.hasNextPage ? res.data.orders.pageInfo.endCursor : null;
    } while (after);
    expect([...seen].sort()).toEqual([...ids].sort());

    const paid = await t.gql(m.token, '{ orders(filter: { status: PAID }) { totalCount nodes { id } } }');
    expect(paid.data?.orders.totalCount).toBe(2);
    const changed = await t.gql(m.token, 'query($since: DateTime!) { orders(filter: { updatedSince: $since }, sort: UPDATED_AT_ASC) { nodes { id } } }', { since });
    expect(changed.data?.orders.nodes.map((n: { id: string }) => n.id)).toEqual([ids[1], ids[4]]);
    const future = await t.gql(m.token, '{ orders(filter: { createdFrom: "2999-01-01T00:00:00Z" }) { totalCount nodes { id } } }');
    expect(future.data?.orders.totalCount).toBe(0);
    expect(future.data?.orders.nodes).toEqual([]);

    // Every filter together, oldest first, one per page: the list is a prepared statement per shape.
    const paidInWindow: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await t.gql(
        m.token,
        `query($from: DateTime!, $to: DateTime!, $after: String) {
          orders(filter: { status: [PAID, SHIPPED], createdFrom: $from, createdTo: $to }, sort: CREATED_AT_ASC, first: 1, after: $after) {
            nodes { id } pageInfo { hasNextPage endCursor }
          }
        }`,
        { from: '2000-01-01T00:00:00Z', to: since, after: cursor },
      );
      expect(res.errors).toBeUndefined();
      paidInWindow.push(...res.data.orders.nodes.map((n: { id: string }) => n.id));
      cursor = res.data.orders.pageInfo.hasNextPage ? res.data.orders.pageInfo.endCursor : null;
    } while (cursor);
    expect(paidInWindow).toEqual([ids[1], ids[4]]);
    const before = await t.gql(m.token, '{ orders(filter: { createdTo: "2000-01-01T00:00:00Z" }) { nodes { id } } }');
    expect(before.data?.orders.nodes).toEqual([]);
  });

  test('a malformed DateTime is a validation error', async () => {
    const res = await t.gql(shop.token, '{ orders(filter: { createdFrom: "yesterday" }) { totalCount } }');
    expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('bad scalar input is refused at the gateway', () => {
  test('a malformed DateTime variable is BAD_USER_INPUT', async () => {
    const res = await t.gql(shop.token, 'query($since: DateTime) { orders(filter: { updatedSince: $since }) { totalCount } }', { since: 'last tuesday' });
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toMatch(/DateTime/);
  });

  test('a money amount beyond 2^53 is BAD_USER_INPUT', async () => {
    const res = await t.gql(shop.token, 'mutation($input: CreateProductInput!) { createProduct(input: $input) { product { id } } }', {
      input: { title: 'Huge', skus: [{ code: 'H', price: { amount: 2 ** 60, currency: 'USD' } }] },
    });
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
