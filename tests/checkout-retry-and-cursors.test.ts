/**
 * Review findings, through the real platform:
 * - stock a cancellation could not give back (the product service failed) comes back without
 *   waiting for the merchant's next cancellation;
 * - a placeOrder retried after its order failed to commit must take the stock again (the first
 *   attempt gave it back), checking again that the SKU is on sale and in stock;
 * - a forged `after` cursor is BAD_USER_INPUT, also when its timestamp is one JavaScript's
 *   Date.parse accepts and PostgreSQL does not.
 */
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { ADDRESS, PLACE_ORDER, createMerchant, createProduct, placeOrder, stockOf } from './helpers/factories.js';
import { startTestPlatform, type TestPlatform } from './helpers/platform.js';
import { mintTestOperatorToken } from './helpers/operator.js';

let t: TestPlatform;

beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(() => t.stop());

async function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  return ((await t.platform.database.db.execute(query)) as unknown as { rows: T[] }).rows;
}

/**
 * A real, transient fault in the order database while `run` goes: inserting the order with this
 * idempotency key fails (after the product service reserved its stock), as a dropped connection or
 * a failover would make it fail.
 */
async function withOrderInsertFailing<T>(idempotencyKey: string, run: () => Promise<T>): Promise<T> {
  const db = t.platform.database.db;
  const name = `refuse_${crypto.randomBytes(4).toString('hex')}`;
  await db.execute(
    sql.raw(`create function "order".${name}() returns trigger language plpgsql as $$ begin
      if new.idempotency_key = '${idempotencyKey}' then raise exception 'order database unavailable'; end if; return new; end $$`),
  );
  await db.execute(sql.raw(`create trigger ${name} before insert on "order".orders for each row execute function "order".${name}()`));
  try {
    return await run();
  } finally {
    await db.execute(sql.raw(`drop trigger ${name} on "order".orders`));
    await db.execute(sql.raw(`drop function "order".${name}()`));
  }
}

async function stockEvents(skuId: string) {
  const events = await rows<{ payload: { stockBefore: number; stockAfter: number; source: string; reference: string } }>(
    sql`select payload from product.outbox_events where type = 'stock.changed' and aggregate_id = ${skuId} order by position`,
  );
  return events.map((e) => ({ source: e.payload.source, stockBefore: e.payload.stockBefore, stockAfter: e.payload.stockAfter, reference: e.payload.reference }));
}

const ordersWithKey = async (key: string) => (await rows<{ n: number }>(sql`select count(*)::int as n from "order".orders where idempotency_key = ${key}`))[0]!.n;

describe('placing an order again after its first attempt failed to commit', () => {
  test('the retry takes the stock again, with its stock.changed event, and a further retry takes nothing', async () => {
    const shop = await createMerchant(t);
    const skuId = (await createProduct(t, shop.token, [{ stock: 5 }])).skus[0]!.id;
    const key = crypto.randomUUID();

    const failed = await withOrderInsertFailing(key, () => placeOrder(t, shop.token, [{ skuId, quantity: 2 }], key));
    expect(failed.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(await stockOf(t, shop.token, skuId)).toBe(5); // given back
    expect(await ordersWithKey(key)).toBe(0);

    const retried = await placeOrder(t, shop.token, [{ skuId, quantity: 2 }], key);
    expect(retried.errors).toBeUndefined();
    expect(retried.data!.placeOrder.order.status).toBe('PENDING_PAYMENT');
    expect(await stockOf(t, shop.token, skuId)).toBe(3);

    // The reservation still held: the same key answers with the same order and takes nothing more.
    const again = await placeOrder(t, shop.token, [{ skuId, quantity: 2 }], key);
    expect(again.data?.placeOrder.order.id).toBe(retried.data!.placeOrder.order.id);
    expect(await stockOf(t, shop.token, skuId)).toBe(3);
    expect(await ordersWithKey(key)).toBe(1);

    const events = await stockEvents(skuId);
    expect(events.map(({ source, stockBefore, stockAfter }) => ({ source, stockBefore, stockAfter }))).toEqual([
      { source: 'ORDER_RESERVATION', stockBefore: 5, stockAfter: 3 },
      { source: 'ORDER_RELEASE', stockBefore: 3, stockAfter: 5 },
      { source: 'ORDER_RESERVATION', stockBefore: 5, stockAfter: 3 },
    ]);
    expect(new Set(events.map((e) => e.reference)).size).toBe(1); // one reservation key throughout

    // Cancelling gives back exactly what the retry took.
    const cancelled = await t.gql(shop.token, 'mutation($id: ID!) { cancelOrder(input: { orderId: $id }) { order { status } } }', { id: retried.data!.placeOrder.order.id });
    expect(cancelled.data?.cancelOrder.order.status).toBe('CANCELLED');
    expect(await stockOf(t, shop.token, skuId)).toBe(5);
  });

  test('the retry is refused when the SKU went off the shelf meanwhile, and no order is made', async () => {
    const shop = await createMerchant(t);
    const product = await createProduct(t, shop.token, [{ stock: 5 }]);
    const skuId = product.skus[0]!.id;
    const key = crypto.randomUUID();
    await withOrderInsertFailing(key, () => placeOrder(t, shop.token, [{ skuId, quantity: 2 }], key));

    const offShelf = await t.gql(shop.token, 'mutation($id: ID!) { changeProductStatus(input: { id: $id, status: OFF_SHELF }) { product { status } } }', { id: product.id });
    expect(offShelf.data?.changeProductStatus.product.status).toBe('OFF_SHELF');
    const retried = await placeOrder(t, shop.token, [{ skuId, quantity: 2 }], key);
    expect(retried.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await ordersWithKey(key)).toBe(0);
    expect(await stockOf(t, shop.token, skuId)).toBe(5);
  });

  test('the retry is a CONFLICT when the stock was sold meanwhile, and no order is made', async () => {
    const shop = await createMerchant(t);
    const skuId = (await createProduct(t, shop.token, [{ stock: 5 }])).skus[0]!.id;
    const key = crypto.randomUUID();
    await withOrderInsertFailing(key, () => placeOrder(t, shop.token, [{ skuId, quantity: 2 }], key));

    expect((await placeOrder(t, shop.token, [{ skuId, quantity: 4 }])).errors).toBeUndefined(); // another buyer
    const retried = await placeOrder(t, shop.token, [{ skuId, quantity: 2 }], key);
    expect(retried.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(await ordersWithKey(key)).toBe(0);
    expect(await stockOf(t, shop.token, skuId)).toBe(1);
  });
});

/** The product service fails to give back this merchant's reserved stock while `run` goes (a real fault in its database). */
async function withStockReleaseFailing<T>(merchantId: string, run: () => Promise<T>): Promise<T> {
  const db = t.platform.database.db;
  const name = `refuse_${crypto.randomBytes(4).toString('hex')}`;
  await db.execute(
    sql.raw(`create function product.${name}() returns trigger language plpgsql as $$ begin
      if new.merchant_id = '${merchantId}' and new.released_at is not null then raise exception 'product database unavailable'; end if; return new; end $$`),
  );
  await db.execute(sql.raw(`create trigger ${name} before update on product.stock_reservations for each row execute function product.${name}()`));
  try {
    return await run();
  } finally {
    await db.execute(sql.raw(`drop trigger ${name} on product.stock_reservations`));
    await db.execute(sql.raw(`drop function product.${name}()`));
  }
}

const owedFor = async (orderId: string) => rows<{ attempts: number }>(sql`select attempts from "order".pending_stock_releases where order_id = ${orderId}`);

async function eventually(check: () => Promise<boolean>, ms = 10_000) {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

describe('stock a cancellation could not give back', () => {
  const CANCEL = 'mutation($id: ID!) { cancelOrder(input: { orderId: $id }) { order { status } } }';

  test('is given back in the background once the product service works again, without another cancellation', async () => {
    const shop = await createMerchant(t);
    const skuId = (await createProduct(t, shop.token, [{ stock: 5 }])).skus[0]!.id;
    const order = (await placeOrder(t, shop.token, [{ skuId, quantity: 2 }])).data!.placeOrder.order;

    const cancelled = await withStockReleaseFailing(shop.id, async () => {
      const answer = await t.gql(shop.token, CANCEL, { id: order.id });
      // The cancellation is committed; the stock is owed, not lost.
      expect(await stockOf(t, shop.token, skuId)).toBe(3);
      expect((await owedFor(order.id))[0]?.attempts).toBeGreaterThanOrEqual(1);
      return answer;
    });
    expect(cancelled.errors).toBeUndefined();
    expect(cancelled.data?.cancelOrder.order.status).toBe('CANCELLED');

    expect(await eventually(async () => (await stockOf(t, shop.token, skuId)) === 5)).toBe(true);
    // The owed row goes once the release answered (just after the stock is back: the release is idempotent, so a row left would only give it back again, once).
    expect(await eventually(async () => (await owedFor(order.id)).length === 0, 5_000)).toBe(true);
    expect((await stockEvents(skuId)).map((e) => e.source)).toEqual(['ORDER_RESERVATION', 'ORDER_RELEASE']);
  });

  test('is given back at the merchant\'s next order mutation when no retry is waiting (another process, a restart)', async () => {
    const shop = await createMerchant(t);
    const skuId = (await createProduct(t, shop.token, [{ stock: 5 }])).skus[0]!.id;
    const owing = (await placeOrder(t, shop.token, [{ skuId, quantity: 2 }])).data!.placeOrder.order;
    const other = (await placeOrder(t, shop.token, [{ skuId, quantity: 1 }])).data!.placeOrder.order;
    // As a cancellation committed by a process that stopped before giving the stock back leaves it.
    await t.platform.database.db.transaction(async (tx) => {
      await tx.execute(sql`update "order".orders set status = 'CANCELLED' where id = ${owing.id}`);
      await tx.execute(sql`insert into "order".pending_stock_releases (order_id, merchant_id, reservation_key)
        select id, merchant_id, stock_reservation_key from "order".orders where id = ${owing.id}`);
    });
    expect(await stockOf(t, shop.token, skuId)).toBe(2);

    const paid = await t.gql(shop.token, 'mutation($id: ID!) { payOrder(input: { orderId: $id }) { order { status } } }', { id: other.id });
    expect(paid.data?.payOrder.order.status).toBe('PAID');
    expect(await eventually(async () => (await stockOf(t, shop.token, skuId)) === 4, 5_000)).toBe(true);
    expect(await eventually(async () => (await owedFor(owing.id)).length === 0, 5_000)).toBe(true);
    expect(await stockOf(t, shop.token, skuId)).toBe(4);
  });
});

describe('stock reserved for an order that never committed, when giving it back failed too', () => {
  const intentsFor = async (merchantId: string) =>
    rows<{ reservation_key: string; attempts: number; claimed_at: Date | null }>(sql`select reservation_key, attempts, claimed_at from "order".stock_reservation_intents where merchant_id = ${merchantId}`);
  const PAY = 'mutation($id: ID!) { payOrder(input: { orderId: $id }) { order { status } } }';

  test('is kept as an intent and given back by a later drain once no attempt can still be placing it; a retry then takes it again', async () => {
    const shop = await createMerchant(t);
    const skuId = (await createProduct(t, shop.token, [{ stock: 5 }])).skus[0]!.id;
    const key = crypto.randomUUID();

    // Both services fail: the order does not commit, and its stock cannot be given back.
    const failed = await withStockReleaseFailing(shop.id, () => withOrderInsertFailing(key, () => placeOrder(t, shop.token, [{ skuId, quantity: 2 }], key)));
    expect(failed.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(await ordersWithKey(key)).toBe(0);
    expect(await stockOf(t, shop.token, skuId)).toBe(3); // held by a reservation no order has
    const [intent] = await intentsFor(shop.id);
    expect(intent).toMatchObject({ claimed_at: null });

    // A drain soon after leaves it alone: an attempt with that key could still be placing its order.
    const other = (await placeOrder(t, shop.token, [{ skuId, quantity: 1 }])).data!.placeOrder.order;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await stockOf(t, shop.token, skuId)).toBe(2);
    expect(await intentsFor(shop.id)).toHaveLength(1);

    // Older than any attempt can take (as a restart or a quiet merchant leaves it): the next order
    // mutation's drain gives the stock back, once.
    await t.platform.database.db.execute(sql`update "order".stock_reservation_intents set created_at = now() - interval '10 minutes' where merchant_id = ${shop.id}`);
    expect((await t.gql(shop.token, PAY, { id: other.id })).data?.payOrder.order.status).toBe('PAID');
    expect(await eventually(async () => (await stockOf(t, shop.token, skuId)) === 4, 5_000)).toBe(true);
    expect(await eventually(async () => (await intentsFor(shop.id)).length === 0, 5_000)).toBe(true);
    expect((await stockEvents(skuId)).map((e) => e.source)).toEqual(['ORDER_RESERVATION', 'ORDER_RESERVATION', 'ORDER_RELEASE']);

    // The buyer's retry with the same key takes the stock again and commits; no intent is left.
    const retried = await placeOrder(t, shop.token, [{ skuId, quantity: 2 }], key);
    expect(retried.errors).toBeUndefined();
    expect(await stockOf(t, shop.token, skuId)).toBe(2);
    expect(await ordersWithKey(key)).toBe(1);
    expect(await intentsFor(shop.id)).toEqual([]);
  });

  test('an order whose intent is being given back is refused with a retryable CONFLICT and takes nothing; placed orders leave no intent', async () => {
    const shop = await createMerchant(t);
    const skuId = (await createProduct(t, shop.token, [{ stock: 5 }])).skus[0]!.id;
    const placed = await placeOrder(t, shop.token, [{ skuId, quantity: 1 }]);
    expect(placed.errors).toBeUndefined();
    expect(await intentsFor(shop.id)).toEqual([]);

    const key = crypto.randomUUID();
    await withStockReleaseFailing(shop.id, () => withOrderInsertFailing(key, () => placeOrder(t, shop.token, [{ skuId, quantity: 2 }], key)));
    // As a drain that claimed it and is giving the stock back leaves it.
    await t.platform.database.db.execute(sql`update "order".stock_reservation_intents set claimed_at = now() where merchant_id = ${shop.id}`);
    const refused = await placeOrder(t, shop.token, [{ skuId, quantity: 2 }], key);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'idempotencyKey', retryable: true });
    expect(await ordersWithKey(key)).toBe(0);
    expect(await stockOf(t, shop.token, skuId)).toBe(2); // the held reservation only, nothing more taken
  });
});

describe('an order refused for its money or its key changes nothing', () => {
  test('lines in two currencies are BAD_USER_INPUT before any stock is taken; the key then works with corrected lines', async () => {
    const shop = await createMerchant(t);
    const usd = (await createProduct(t, shop.token, [{ stock: 5, currency: 'USD' }])).skus[0]!.id;
    const eur = (await createProduct(t, shop.token, [{ stock: 5, currency: 'EUR' }])).skus[0]!.id;
    const key = crypto.randomUUID();
    const mixed = await placeOrder(t, shop.token, [{ skuId: usd, quantity: 1 }, { skuId: eur, quantity: 1 }], key);
    expect(mixed.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'lines' });
    expect(await stockEvents(usd)).toEqual([]);
    expect(await stockEvents(eur)).toEqual([]);
    expect(await ordersWithKey(key)).toBe(0);
    const corrected = await placeOrder(t, shop.token, [{ skuId: usd, quantity: 2 }], key);
    expect(corrected.errors).toBeUndefined();
    expect(await stockOf(t, shop.token, usd)).toBe(3);
    expect(await stockOf(t, shop.token, eur)).toBe(5);
  });

  test('a total too large to hold exactly is BAD_USER_INPUT before any stock is taken', async () => {
    const shop = await createMerchant(t);
    const dear = (await createProduct(t, shop.token, [{ stock: 5, amount: Number.MAX_SAFE_INTEGER }])).skus[0]!.id;
    const huge = await placeOrder(t, shop.token, [{ skuId: dear, quantity: 2 }]);
    expect(huge.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'lines' });
    expect(await stockEvents(dear)).toEqual([]);
    expect(await stockOf(t, shop.token, dear)).toBe(5);
  });

  test('the same key with another shipping address is a CONFLICT, not the first order', async () => {
    const shop = await createMerchant(t);
    const skuId = (await createProduct(t, shop.token, [{ stock: 5 }])).skus[0]!.id;
    const key = crypto.randomUUID();
    const first = await placeOrder(t, shop.token, [{ skuId, quantity: 1 }], key);
    expect(first.errors).toBeUndefined();
    const elsewhere = await t.gql(shop.token, PLACE_ORDER, { input: { idempotencyKey: key, lines: [{ skuId, quantity: 1 }], shippingAddress: { ...ADDRESS, city: 'Shelbyville' } } });
    expect(elsewhere.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'idempotencyKey' });
    const same = await t.gql<any>(shop.token, PLACE_ORDER, { input: { idempotencyKey: key, lines: [{ skuId, quantity: 1 }], shippingAddress: { ...ADDRESS, country: 'us' } } });
    expect(same.data.placeOrder.order.id).toBe(first.data!.placeOrder.order.id);
    expect(await stockOf(t, shop.token, skuId)).toBe(4);
  });
});

describe('a forged after cursor', () => {
  const cursor = (values: unknown[]) => Buffer.from(JSON.stringify(values)).toString('base64url');
  const id = '00000000-0000-4000-8000-000000000000';
  // Date.parse accepts each of these timestamps (it coerces a number): some then failed inside the
  // ::timestamptz cast as INTERNAL_SERVER_ERROR, others were silently read as some other instant.
  // The cursor decoder now accepts only the form the list writes.
  const forged: [string, unknown[]][] = [
    ['a timestamp PostgreSQL cannot read', ['CREATED_AT_DESC', 'foo 1', id]],
    ['a day that does not exist', ['CREATED_AT_DESC', '2020-02-30', id]],
    ['a timestamp not in the form the list writes', ['CREATED_AT_DESC', '2020-02-03 04:05:06', id]],
    ['year zero', ['CREATED_AT_DESC', '0000-01-01T00:00:00.000Z', id]],
    ['a number for the timestamp', ['CREATED_AT_DESC', 1_700_000_000_000, id]],
    ['a non-integer number for the timestamp', ['CREATED_AT_DESC', 1.5, id]],
    ['an id that is not a uuid', ['CREATED_AT_DESC', '2020-02-03T04:05:06.000Z', 'x']],
  ];

  test.each(forged)('%s is BAD_USER_INPUT on orders and products', async (_, values) => {
    const shop = await createMerchant(t);
    for (const list of ['orders', 'products']) {
      const res = await t.gql(shop.token, `query($after: String) { ${list}(after: $after) { nodes { id } } }`, { after: cursor(values) });
      expect({ list, extensions: res.errors?.[0]?.extensions }).toMatchObject({ list, extensions: { code: 'BAD_USER_INPUT', field: 'after' } });
    }
  });

  test('message records and the operators\' app list refuse forged cursors the same way', async () => {
    const shop = await createMerchant(t);
    for (const values of [['messageRecords', 'foo 1', 'order', 1], ['messageRecords', '2020-02-30T00:00:00.000Z', 'order', 1], ['messageRecords', '2020-01-01T00:00:00.000Z', 'nope', 1], ['messageRecords', '2020-01-01T00:00:00.000Z', 'order', 'x']]) {
      const res = await t.gql(shop.token, 'query($after: String) { messageRecords(after: $after) { nodes { id } } }', { after: cursor(values) });
      expect({ values, extensions: res.errors?.[0]?.extensions }).toMatchObject({ values, extensions: { code: 'BAD_USER_INPUT', field: 'after' } });
    }
    const operator = await mintTestOperatorToken(t);
    for (const values of [['APPS', 'foo 1', crypto.randomUUID()], ['APPS', '2020-02-30T00:00:00.000Z', crypto.randomUUID()]]) {
      const res = await t.gql(operator, 'query($after: String) { apps(after: $after) { nodes { key } } }', { after: cursor(values) });
      expect({ values, extensions: res.errors?.[0]?.extensions }).toMatchObject({ values, extensions: { code: 'BAD_USER_INPUT', field: 'after' } });
    }
  });

  test('a cursor in the exact form the list writes is still accepted', async () => {
    const shop = await createMerchant(t);
    const skuId = (await createProduct(t, shop.token, [{ stock: 5 }])).skus[0]!.id;
    await placeOrder(t, shop.token, [{ skuId, quantity: 1 }]);
    for (const list of ['orders', 'products']) {
      const res = await t.gql(shop.token, `query($after: String) { ${list}(after: $after) { nodes { id } } }`, { after: cursor(['CREATED_AT_DESC', '2999-12-31T23:59:59.999Z', id]) });
      expect(res.errors).toBeUndefined();
      expect(res.data?.[list].nodes).toHaveLength(1);
    }
  });
});
