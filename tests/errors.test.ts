/** What a client sees when something fails inside the platform: a stable code, never internals. */
import crypto from 'node:crypto';
import { ADDRESS, CREATE_PRODUCT, PLACE_ORDER, createMerchant, createProduct } from './helpers/factories.js';
import { startTestPlatform, type TestPlatform } from './helpers/platform.js';
import { mintTestOperatorToken } from './helpers/operator.js';

const INTERNALS = /127\.0\.0\.1|localhost|:\d{4,5}\/|\bselect\b|\bfrom "|at .+\.(ts|js):\d+|ECONNREFUSED|pglite|postgres/i;

describe('internal failures are masked', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    // The gateway keeps an app's access for 5 s, so requests after the database closes reach the resolvers.
    t = await startTestPlatform({ extraEnv: { APP_ACCESS_CACHE_MS: '5000' } });
  });
  afterAll(() => t.stop());

  test('a subgraph that is down yields INTERNAL_SERVER_ERROR without its address, and the rest of the data', async () => {
    const shop = await createMerchant(t, 'Partial Shop');
    const product = await createProduct(t, shop.token);
    await t.platform.subgraphs.product.stop();
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${shop.token}` },
      body: JSON.stringify({ query: `{ merchant { name } product(id: "${product.id}") { title } }` }),
    });
    const text = await res.text();
    const body = JSON.parse(text);
    expect(body.data).toEqual({ merchant: { name: 'Partial Shop' }, product: null });
    expect(body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(body.errors[0].message).toBe('Internal server error');
    expect(text).not.toMatch(INTERNALS);
  });

  test('a database failure under a resolver yields INTERNAL_SERVER_ERROR without SQL or stack', async () => {
    const shop = await createMerchant(t, 'Broken Shop');
    expect((await t.gql(shop.token, '{ orders { totalCount } }')).errors).toBeUndefined();
    await t.platform.database.close();
    const res = await t.gql(shop.token, '{ orders { totalCount } }');
    expect(res.errors?.[0]).toEqual({ message: 'Internal server error', path: ['orders'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(JSON.stringify(res)).not.toMatch(INTERNALS);
  });
});

test('a failure before execution (the app-access lookup) is a bare 500 INTERNAL_SERVER_ERROR', async () => {
  const t = await startTestPlatform();
  try {
    const shop = await createMerchant(t, 'Lookup Shop');
    await t.platform.database.close();
    const res = await t.gql(shop.token, '{ orders { totalCount } }');
    expect(res.status).toBe(500);
    expect(res.errors).toEqual([{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
  } finally {
    await t.stop();
  }
});

describe('characters the database cannot store', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform();
  });
  afterAll(() => t.stop());

  test('a NUL in text input is BAD_USER_INPUT naming the field, and nothing is written', async () => {
    const shop = await createMerchant(t);
    const made = await t.gql(shop.token, CREATE_PRODUCT, { input: { title: 'Tea\u0000Set', category: 'tea', skus: [{ code: 'NUL-1', price: { amount: 100, currency: 'USD' }, stock: 1 }] } });
    expect(made.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'title' });
    expect((await t.gql(shop.token, '{ products { totalCount } }')).data?.products.totalCount).toBe(0);

    const product = await createProduct(t, shop.token, [{ stock: 3 }]);
    const placed = await t.gql(shop.token, PLACE_ORDER, {
      input: { idempotencyKey: crypto.randomUUID(), lines: [{ skuId: product.skus[0]!.id, quantity: 1 }], shippingAddress: { ...ADDRESS, name: 'Ada\u0000' } },
    });
    expect(placed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await t.gql(shop.token, '{ orders { totalCount } }')).data?.orders.totalCount).toBe(0);
  });

  test('one that no check caught before the database (a lookup key) is BAD_USER_INPUT too, not an internal error', async () => {
    const operator = await mintTestOperatorToken(t);
    const res = await t.gql(operator, 'query($key: String!) { app(key: $key) { key } }', { key: 'app\u0000x' });
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(res)).not.toMatch(INTERNALS);
  });
});

describe('NODE_ENV=development', () => {
  test('shows the original error to whoever runs the platform locally', async () => {
    const t = await startTestPlatform({ extraEnv: { NODE_ENV: 'development', APP_ACCESS_CACHE_MS: '5000' } });
    try {
      const shop = await createMerchant(t, 'Dev Shop');
      expect((await t.gql(shop.token, '{ orders { totalCount } }')).errors).toBeUndefined();
      await t.platform.database.close();
      const res = await t.gql(shop.token, '{ orders { totalCount } }');
      expect(res.errors?.[0]?.message).not.toBe('Internal server error');
      expect(res.errors?.[0]?.extensions?.stacktrace).toBeDefined();
    } finally {
      await t.stop();
    }
  });
});

test('a failed SQL statement is logged without its parameters (personal data, secret hashes)', async () => {
  const { createLogger } = await import('../core/logger.js');
  const { openPglite } = await import('../core/db.js');
  const { createAccountStore } = await import('../subgraphs/account/store.js');
  const database = await openPglite(null);
  try {
    await database.migrate('account');
    const accounts = createAccountStore(database.db);
    const merchant = await accounts.createMerchant({ name: 'Private Shop', contactEmail: 'first@example.com' });
    const failure = await accounts.createMerchant({ id: merchant.id, name: 'Private Shop', contactEmail: 'very-private@example.com' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    expect(String((failure as Error).message)).toContain('very-private@example.com'); // the raw error does carry it
    const lines: string[] = [];
    const logger = createLogger('info', 'test', { write: (line: string) => void lines.push(line) });
    logger.error({ err: failure }, 'insert failed');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('Failed query');
    expect(lines[0]).not.toContain('very-private@example.com');
    expect(lines[0]).toContain('[redacted]');
  } finally {
    await database.close();
  }
});
