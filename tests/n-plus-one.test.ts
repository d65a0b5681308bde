/**
 * No N+1: the statements one order page costs must not grow with the page size. The count is read
 * from the database handle's statement counter (every SQL statement any subgraph sends).
 */
import { eq } from 'drizzle-orm';
import { DEMO_APP_KEY } from '../demo/seed.js';
import { apps } from '../subgraphs/app-management/tables.js';
import { startTestPlatform, type TestPlatform } from './helpers/platform.js';

let t: TestPlatform;
let token: string;

beforeAll(async () => {
  t = await startTestPlatform({ seed: true });
  // A page of 100 with all these fields costs 9,001 points, more than a tier's bucket holds: this
  // test counts SQL statements, not cost points, so the demo app gets an operator's bigger bucket.
  await t.platform.database.db.update(apps).set({ bucketSizeOverride: 100_000, restoreRateOverride: 100_000 }).where(eq(apps.key, DEMO_APP_KEY));
  token = await t.token({ merchantId: t.platform.demo!.merchantId, appKey: DEMO_APP_KEY });
}, 120_000);
afterAll(() => t.stop());

const PAGE = `query($first: Int!) { orders(first: $first) { edges { node {
  number status total { amount currency } createdAt
  lines { quantity unitPrice { amount } product { title status skus { code } } sku { code stock price { amount } } }
  buyer { nickname } merchant { name } statusHistory { to at }
} } } }`;

/**
 * The counter also counts what runs in the background meanwhile (timers, outbox relays, the
 * announcement runner, the gateways' live-subscription reports, each every few seconds), which only
 * ever adds: the fewest statements of eight requests is the request's own count (three were not
 * enough on a loaded machine, where a page of 100 takes long enough to meet a poll each time).
 */
async function statementsFor(first: number) {
  const counts: number[] = [];
  for (let i = 0; i < 8; i++) {
    const before = t.platform.database.statements.count;
    const res = await t.gql<{ orders: { edges: unknown[] } }>(token, PAGE, { first });
    expect(res.errors).toBeUndefined();
    expect(res.data!.orders.edges).toHaveLength(first);
    counts.push(t.platform.database.statements.count - before);
  }
  return Math.min(...counts);
}

test('an order page of 100 costs the same number of SQL statements as a page of 10', async () => {
  await statementsFor(10); // warm-up: nothing is cached across requests, this only settles start-up work
  const ten = await statementsFor(10);
  const hundred = await statementsFor(100);
  expect(ten).toBeGreaterThan(0);
  expect(hundred).toBe(ten);
  // orders, lines, history (order); products, skus, skus-of-product (product); merchant, users (account)
  expect(ten).toBeLessThanOrEqual(8);
});

const CHILDREN = `lines { id quantity refunded { amount } } shipments { id carrier trackingNumber status shippedAt deliveredAt tracking { status } }
  afterSaleCases(first: 5) { totalCount nodes { id kind status requested { amount } createdAt } }`;

test("an order page's lines, shipments and cases come in the list's own statement, the same rows the order's own lookups find", async () => {
  const token = await t.token({ merchantId: t.platform.demo!.merchantId, appKey: DEMO_APP_KEY, scopes: ['orders:read', 'aftersales:read'] });
  const bare = `query($first: Int!) { orders(first: $first) { nodes { id number } } }`;
  const withChildren = `query($first: Int!) { orders(first: $first) { nodes { id number ${CHILDREN.replace(/tracking \{ status \} /, '')} } } }`;
  const count = async (query: string) => {
    const counts: number[] = [];
    for (let i = 0; i < 8; i++) {
      const before = t.platform.database.statements.count;
      expect((await t.gql(token, query, { first: 50 })).errors).toBeUndefined();
      counts.push(t.platform.database.statements.count - before);
    }
    return Math.min(...counts);
  };
  await count(withChildren);
  expect(await count(withChildren)).toBe(await count(bare));

  // The same children, with fragments and through `edges`, as each order's own DataLoaders find them.
  type Page = { orders: { edges: { node: { id: string } & Record<string, unknown> }[] } };
  const page = await t.gql<Page>(token, `query($first: Int!) { orders(first: $first) { edges { node { id ...Children } } } } fragment Children on Order { ${CHILDREN} }`, { first: 50 });
  expect(page.errors).toBeUndefined();
  const nodes = page.data!.orders.edges.map((e) => e.node);
  expect(nodes.some((n) => (n.shipments as unknown[]).length > 0)).toBe(true);
  expect(nodes.some((n) => (n.afterSaleCases as { totalCount: number }).totalCount > 0)).toBe(true);
  for (const node of nodes) {
    const one = await t.gql<{ order: Record<string, unknown> }>(token, `query($id: ID!) { order(id: $id) { id ${CHILDREN} } }`, { id: node.id });
    expect(one.errors).toBeUndefined();
    expect(one.data!.order).toEqual(node);
  }
});
