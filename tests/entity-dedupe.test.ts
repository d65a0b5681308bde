/**
 * Entity fetch deduplication: the gateway asks a subgraph for each distinct entity once, and the
 * client's answer is the same as if it had asked for every occurrence (data at every position,
 * each error at every position). What the gateway sends is read off undici's diagnostics channel,
 * on the real HTTP requests to the real subgraphs.
 */
import diagnostics from 'node:diagnostics_channel';
import { dedupeRepresentations, expandEntities } from '../gateway/upstream/entity-dedupe.js';
import { startTestPlatform, type TestPlatform } from './helpers/platform.js';

interface Operation {
  variables?: { representations?: unknown[] };
}

let t: TestPlatform;
let merchantId: string;
const sent: { origin: string; representations: unknown[] }[] = [];
const onRequest = (message: unknown) => {
  const { request } = message as { request: { origin: string; body: unknown } };
  const body = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : typeof request.body === 'string' ? request.body : null;
  if (!body || !body.includes('"representations"')) return;
  // One operation, or a batch of them (the fetches of one step of the plan to the same subgraph).
  const parsed = JSON.parse(body) as Operation | Operation[];
  for (const operation of Array.isArray(parsed) ? parsed : [parsed]) {
    if (operation.variables?.representations) sent.push({ origin: request.origin, representations: operation.variables.representations });
  }
};

beforeAll(async () => {
  t = await startTestPlatform({ seed: true });
  merchantId = t.platform.demo!.merchantId;
  diagnostics.subscribe('undici:request:create', onRequest);
}, 120_000);
afterAll(async () => {
  diagnostics.unsubscribe('undici:request:create', onRequest);
  await t.stop();
});
beforeEach(() => {
  sent.length = 0;
});

const PAGE = `{ orders(first: 50) { edges { node { id number lines { product { id title } } buyer { nickname } merchant { name } } } } }`;

interface PageOrder {
  id: string;
  number: string;
  lines: { product: { id: string; title: string } }[];
  buyer: { nickname: string } | null;
  merchant: { name: string } | null;
}

test('an order page asks for each merchant, buyer and product once and every order still gets its own', async () => {
  const token = await t.token({ merchantId });
  const page = await t.gql<{ orders: { edges: { node: PageOrder }[] } }>(token, PAGE);
  expect(page.errors).toBeUndefined();
  const orders = page.data!.orders.edges.map((edge) => edge.node);
  expect(orders).toHaveLength(50);

  // What went to the subgraphs: no representation twice in one request, and fewer than the page's
  // entity occurrences (50 merchants, 50 buyers, one product per line).
  expect(sent.length).toBeGreaterThan(0);
  for (const request of sent) {
    const keys = request.representations.map((representation) => JSON.stringify(representation));
    expect(new Set(keys).size).toBe(keys.length);
  }
  const merchantRepresentations = sent.flatMap((request) => request.representations).filter((r) => (r as { __typename: string }).__typename === 'Merchant');
  expect(merchantRepresentations).toEqual([{ __typename: 'Merchant', id: merchantId }]);
  const lineCount = orders.reduce((sum, order) => sum + order.lines.length, 0);
  const distinctProducts = new Set(orders.flatMap((order) => order.lines.map((line) => line.product.id)));
  expect(distinctProducts.size).toBeLessThan(lineCount); // the seed repeats products across orders
  const productRepresentations = sent.flatMap((request) => request.representations).filter((r) => (r as { __typename: string }).__typename === 'Product');
  expect(productRepresentations).toHaveLength(distinctProducts.size);

  // Every order's entities are right: each product title as the product query gives it, and the
  // buyer and merchant as a one-order query (nothing to deduplicate there) gives them.
  const products = await t.gql<{ products: { nodes: { id: string; title: string }[] } }>(token, '{ products(first: 100) { nodes { id title } } }');
  const titles = new Map(products.data!.products.nodes.map((product) => [product.id, product.title]));
  for (const order of orders) for (const line of order.lines) expect(line.product.title).toBe(titles.get(line.product.id));
  const merchant = await t.gql<{ merchant: { name: string } }>(token, '{ merchant { name } }');
  for (const order of orders) expect(order.merchant).toEqual({ name: merchant.data!.merchant.name });
  for (const order of orders.slice(0, 12)) {
    const alone = await t.gql<{ order: { buyer: { nickname: string } | null } }>(token, 'query($id: ID!) { order(id: $id) { buyer { nickname } } }', { id: order.id });
    expect(alone.errors).toBeUndefined();
    expect(order.buyer).toEqual(alone.data!.order.buyer);
  }
  // Distinct copies: the same buyer at two positions is not one shared object the gateway merged twice.
  expect(new Set(orders.map((order) => order.buyer?.nickname)).size).toBeLessThan(50);
});

test('an error about one deduplicated entity is reported at every position it stands for', async () => {
  // Without users:read, each buyer's nickname is FORBIDDEN (and the nullable buyer null): one error
  // per order, as without deduplication, though each buyer was asked for once.
  const token = await t.token({ merchantId, scopes: ['orders:read'] });
  const res = await t.gql<{ orders: { edges: { node: { number: string; buyer: { nickname: string } | null } }[] } }>(
    token,
    '{ orders(first: 50) { edges { node { number buyer { nickname } } } } }',
  );
  const edges = res.data!.orders.edges;
  expect(edges).toHaveLength(50);
  for (const edge of edges) expect(edge.node.buyer).toBeNull();
  const buyerRepresentations = sent.flatMap((request) => request.representations);
  expect(buyerRepresentations.every((r) => (r as { __typename: string }).__typename === 'User')).toBe(true);
  expect(new Set(buyerRepresentations.map((r) => JSON.stringify(r))).size).toBe(buyerRepresentations.length);
  expect(buyerRepresentations.length).toBeLessThan(50); // 40 buyers in the seed: some buy twice on a page
  // Every seeded order has a buyer: each order has its error, at its own path, in page order.
  expect(res.errors!.map((error) => error.path)).toEqual(edges.map((_, i) => ['orders', 'edges', i, 'node', 'buyer', 'nickname']));
  for (const error of res.errors!) expect(error.extensions).toMatchObject({ code: 'FORBIDDEN', requiredScopes: [['users:read']] });
});

describe('dedupeRepresentations and expandEntities', () => {
  const a = { __typename: 'Product', id: 'a' };
  const b = { __typename: 'Product', id: 'b' };

  test('nothing to do when every representation is distinct', () => {
    expect(dedupeRepresentations([a, b])).toBeNull();
    expect(dedupeRepresentations([a])).toBeNull();
  });

  test('answers and errors are spread back over the positions asked for, as distinct objects', () => {
    const dedupe = dedupeRepresentations([a, b, { ...a }, a])!;
    expect(dedupe.unique).toEqual([a, b]);
    const answer = expandEntities(
      {
        data: { _entities: [{ title: 'A', tags: [{ name: 'x' }] }, null] },
        errors: [
          { message: 'b failed', path: ['_entities', 1, 'title'] },
          { message: 'a partly', path: ['_entities', 0, 'tags', 0, 'name'], extensions: { code: 'FORBIDDEN' } },
          { message: 'whole request' },
        ],
      },
      dedupe,
    );
    const entities = answer.data!._entities as { title: string; tags: { name: string }[] }[];
    expect(entities).toEqual([{ title: 'A', tags: [{ name: 'x' }] }, null, { title: 'A', tags: [{ name: 'x' }] }, { title: 'A', tags: [{ name: 'x' }] }]);
    expect(entities[2]).not.toBe(entities[0]);
    expect(entities[3]!.tags[0]).not.toBe(entities[0]!.tags[0]);
    expect(answer.errors).toEqual([
      { message: 'whole request' },
      { message: 'a partly', path: ['_entities', 0, 'tags', 0, 'name'], extensions: { code: 'FORBIDDEN' } },
      { message: 'b failed', path: ['_entities', 1, 'title'] },
      { message: 'a partly', path: ['_entities', 2, 'tags', 0, 'name'], extensions: { code: 'FORBIDDEN' } },
      { message: 'a partly', path: ['_entities', 3, 'tags', 0, 'name'], extensions: { code: 'FORBIDDEN' } },
    ]);
  });

  test('an answer that is not one entry per distinct representation is handed back as it came, for the gateway to report', () => {
    const dedupe = dedupeRepresentations([a, a])!;
    const short = { data: { _entities: [] } };
    expect(expandEntities(short, dedupe)).toBe(short);
    const failed = { data: null, errors: [{ message: 'down' }] };
    expect(expandEntities(failed, dedupe)).toBe(failed);
  });
});
