/**
 * The gateway sends the operations one query plan step makes to the same subgraph (the order page's
 * buyers and merchant, both from account) as one HTTP request: a JSON array that the subgraph runs
 * with one context. Operations of different callers in the same moment share a request too, signed
 * once as a whole, each naming its caller and run with its own context. Checked here with the gateway's real fetcher against a recording HTTP server,
 * and against a real subgraph (one request, one SQL statement for two operations' lookups).
 */
import crypto from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSubgraphFetcher, type SubgraphFetcher } from '../gateway/upstream/subgraph-fetcher.js';
import { SignJWT, generateKeyPair } from 'jose';
import type { Caller } from '../core/caller.js';
import {
  CONTEXT_BATCH_HEADER,
  CONTEXT_BATCH_SIGNATURE_HEADER,
  CONTEXT_TOKEN_HEADER,
  MAX_CONTEXT_BATCH,
  createContextBatchSigner,
  createContextBatchVerifier,
  contextClaimsOf,
  createContextSigner,
  createContextVerifier,
} from '../core/tokens.js';
import { createMerchant, createProduct, placeOrder } from './helpers/factories.js';
import { ALL_SCOPES, TEST_APP_KEY, startTestPlatform, type TestPlatform } from './helpers/platform.js';

describe('the subgraph fetcher', () => {
  let server: http.Server;
  let url: string;
  let fetcher: SubgraphFetcher;
  const seen: { headers: http.IncomingHttpHeaders; body: unknown; signatureValid?: boolean; tokenCaller?: string }[] = [];
  let refuse = false;
  let failSecond = false;
  let signedBatches = 0;
  let signedTokens = 0;

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const verifyBatch = createContextBatchVerifier(publicKey);
    const verifyContext = createContextVerifier(publicKey);
    server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', async () => {
        const body = JSON.parse(raw) as { query: string } | { query: string }[];
        const token = req.headers[CONTEXT_TOKEN_HEADER];
        const signature = req.headers[CONTEXT_BATCH_SIGNATURE_HEADER];
        const signatureValid = typeof signature === 'string' ? await verifyBatch(signature, raw).then(() => true, () => false) : undefined;
        const tokenCaller = typeof token === 'string' ? (await verifyContext(token)).appKey : undefined;
        seen.push({ headers: req.headers, body, ...(signatureValid === undefined ? {} : { signatureValid }), ...(tokenCaller ? { tokenCaller } : {}) });
        res.setHeader('content-type', 'application/json');
        if (req.headers[CONTEXT_BATCH_HEADER] === 'contexts') {
          // Each operation answered for its own caller, with its own status.
          const items = body as unknown as { caller: { client_id: string }; operation: { query: string } }[];
          res.end(JSON.stringify(items.map((i) => (i.caller.client_id === 'bad' ? { status: 401, body: { errors: [{ message: 'no', extensions: { code: 'UNAUTHENTICATED' } }] } } : { status: 200, body: { data: { echo: `${i.caller.client_id} ${i.operation.query}` } } }))));
          return;
        }
        if (refuse) {
          res.statusCode = 401;
          res.end(JSON.stringify({ errors: [{ message: 'no', extensions: { code: 'UNAUTHENTICATED' } }] }));
          return;
        }
        const answer = (op: { query: string }, i = 0) => (failSecond && i === 1 ? { errors: [{ message: 'bad', extensions: { code: 'BAD_USER_INPUT' } }] } : { data: { echo: op.query } });
        if (failSecond) res.statusCode = 400;
        res.end(JSON.stringify(Array.isArray(body) ? body.map(answer) : answer(body)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    const signContext = createContextSigner({ privateKey, kid: 'test' }, 60);
    const signBatch = createContextBatchSigner({ privateKey, kid: 'test' });
    fetcher = createSubgraphFetcher({
      signContext: (caller) => (signedTokens++, signContext(caller)),
      signBatch: (body) => (signedBatches++, signBatch(body)),
    });
  });
  afterAll(async () => {
    await fetcher.close();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen.length = 0;
    refuse = false;
    failSecond = false;
    signedBatches = 0;
    signedTokens = 0;
  });
  const callerNamed = (appKey: string): Caller => ({ kind: 'app', appKey, merchantId: '00000000-0000-4000-8000-000000000001', scopes: ['orders:read'] });

  const post = (query: string, token = 'caller-a') =>
    fetcher.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-context': token }, body: JSON.stringify({ query }) });

  test('operations sent together with the same headers go in one request, each gets its own answer', async () => {
    const [a, b] = await Promise.all([post('{ a }'), post('{ b }')]);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.body).toEqual([{ query: '{ a }' }, { query: '{ b }' }]);
    expect(a.status).toBe(200);
    expect(await a.json()).toEqual({ data: { echo: '{ a }' } });
    expect(await b.json()).toEqual({ data: { echo: '{ b }' } });
    expect(JSON.parse(await b.text())).toEqual({ data: { echo: '{ b }' } });
  });

  test('callers whose requests carry more than their context token never share a request; a lone operation is sent as itself', async () => {
    const [a, b] = await Promise.all([post('{ a }', 'caller-a'), post('{ b }', 'caller-b')]);
    expect(seen).toHaveLength(2);
    expect(seen.map((s) => s.body)).toEqual(expect.arrayContaining([{ query: '{ a }' }, { query: '{ b }' }]));
    expect(seen.map((s) => s.headers['x-context']).sort()).toEqual(['caller-a', 'caller-b']);
    expect(await a.json()).toEqual({ data: { echo: '{ a }' } });
    expect(await b.json()).toEqual({ data: { echo: '{ b }' } });
  });

  test('callers allowed to share (the channel\'s sub-queries) go in one request signed once, each naming its caller and getting its own answer; others never do', async () => {
    const own = (query: string, name: string) => fetcher.post(url, { 'content-type': 'application/json', 'x-context': name, 'x-request-id': `request-${name}` }, JSON.stringify({ query }));
    await Promise.all([own('{ a }', 'caller-a'), own('{ b }', 'caller-b')]);
    expect(seen).toHaveLength(2); // clients' own requests never wait on another caller's
    seen.length = 0;
    const shared = (query: string, name: string) => fetcher.post(url, { 'content-type': 'application/json', 'x-request-id': `request-${name}` }, JSON.stringify({ query }), { caller: callerNamed(name) });
    const [a, b, bad] = await Promise.all([shared('{ a }', 'caller-a'), shared('{ b }', 'caller-b'), shared('{ c }', 'bad')]);
    expect(seen).toHaveLength(1);
    expect(signedBatches).toBe(1);
    expect(signedTokens).toBe(0);
    expect(seen[0]!.signatureValid).toBe(true);
    expect(seen[0]!.headers[CONTEXT_TOKEN_HEADER]).toBeUndefined();
    expect(seen[0]!.headers[CONTEXT_BATCH_HEADER]).toBe('contexts');
    const claims = (name: string) => ({ kind: 'app', client_id: name, scope: 'orders:read', sub: '00000000-0000-4000-8000-000000000001' });
    expect(seen[0]!.body).toEqual([
      { caller: claims('caller-a'), requestId: 'request-caller-a', operation: { query: '{ a }' } },
      { caller: claims('caller-b'), requestId: 'request-caller-b', operation: { query: '{ b }' } },
      { caller: claims('bad'), requestId: 'request-bad', operation: { query: '{ c }' } },
    ]);
    expect([a.status, b.status, bad.status]).toEqual([200, 200, 401]);
    expect(a.json()).toEqual({ data: { echo: 'caller-a { a }' } });
    expect(b.json()).toEqual({ data: { echo: 'caller-b { b }' } });

    // A sharing caller that finds itself alone goes with its own context token, not a batch.
    seen.length = 0;
    const alone = await shared('{ alone }', 'caller-a');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers[CONTEXT_BATCH_HEADER]).toBeUndefined();
    expect(seen[0]!.signatureValid).toBeUndefined();
    expect(seen[0]!.tokenCaller).toBe('caller-a');
    expect(seen[0]!.body).toEqual({ query: '{ alone }' });
    expect(alone.status).toBe(200);
    expect(signedBatches).toBe(1);
  });

  test('a full context batch of sharing callers leaves before the event loop turns; fewer wait for the turn', async () => {
    // Read off undici's diagnostics channel: a request is created the moment it is dispatched
    // (after its batch is signed, which the flush starts).
    let created = 0;
    const onCreate = () => created++;
    diagnostics.subscribe('undici:request:create', onCreate);
    const microtask = () => new Promise<void>((resolve) => queueMicrotask(resolve));
    const post = (i: number) =>
      fetcher.post(url, { 'content-type': 'application/json', 'x-request-id': `request-${i}` }, JSON.stringify({ query: `{ q${i} }` }), { caller: callerNamed(`caller-${i}`) });
    try {
      const few = Array.from({ length: MAX_CONTEXT_BATCH - 1 }, (_, i) => post(i));
      await microtask();
      expect(signedBatches).toBe(0);
      await Promise.all(few);
      expect(signedBatches).toBe(1);
      expect(created).toBe(1);
      expect(seen).toHaveLength(1);

      seen.length = 0;
      created = 0;
      signedBatches = 0;
      const count = 2 * MAX_CONTEXT_BATCH + 20;
      const many = Array.from({ length: count }, (_, i) => post(i));
      await microtask();
      expect(signedBatches).toBe(3); // 50, 50 and 20, flushed before any timer or I/O callback ran
      const answers = await Promise.all(many);
      expect(seen.map((s) => (s.body as unknown[]).length).sort((a, b) => a - b)).toEqual([20, 50, 50]);
      answers.forEach((answer, i) => expect(answer.json()).toEqual({ data: { echo: `caller-${i} { q${i} }` } }));
    } finally {
      diagnostics.unsubscribe('undici:request:create', onCreate);
    }
  });

  test('batches hold at most 10 operations; an operation with data succeeded whatever the batch status; a batch refused as a whole gives every operation that answer', async () => {
    const twelve = await Promise.all(Array.from({ length: 12 }, (_, i) => post(`{ f${i} }`)));
    expect(seen.map((s) => (Array.isArray(s.body) ? s.body.length : 1)).sort()).toEqual([10, 2]);
    for (const [i, r] of twelve.entries()) expect(await r.json()).toEqual({ data: { echo: `{ f${i} }` } });

    // Apollo gives a batch one status, 400 when one operation is refused: the others keep their data.
    seen.length = 0;
    failSecond = true;
    const [ok, bad] = await Promise.all([post('{ ok }'), post('{ bad }')]);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ data: { echo: '{ ok }' } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ errors: [{ message: 'bad', extensions: { code: 'BAD_USER_INPUT' } }] });

    seen.length = 0;
    failSecond = false;
    refuse = true;
    const [a, b] = await Promise.all([post('{ a }'), post('{ b }')]);
    expect(seen).toHaveLength(1);
    for (const r of [a, b]) {
      expect(r.status).toBe(401);
      expect(await r.json()).toEqual({ errors: [{ message: 'no', extensions: { code: 'UNAUTHENTICATED' } }] });
    }
  });
});

describe('a real subgraph runs a batch with one context', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform();
  });
  afterAll(() => t?.stop());

  test('two entity operations in one request: each answered, looked up with one statement, errors stay with their operation', async () => {
    const merchant = await createMerchant(t, 'Batch Shop');
    const sign = createContextSigner(t.platform.keys.context, 60);
    const token = await sign({ kind: 'app', merchantId: merchant.id, appKey: TEST_APP_KEY, scopes: ['merchant:read'] });
    const entities = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Merchant { name } } }';
    const representations = [{ __typename: 'Merchant', id: merchant.id }];
    const batch = JSON.stringify([
      { query: entities, variables: { r: representations } },
      { query: entities, variables: { r: representations } },
      { query: '{ nope }' },
    ]);
    // The statement counter also counts what runs in the background meanwhile (timers, the
    // announcement runner, live-subscription reports), which only ever adds: the fewest statements
    // of five requests is the batch's own count.
    const counts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = t.platform.database.statements.count;
      const res = await fetch(t.platform.subgraphs.account.url, { method: 'POST', headers: { 'content-type': 'application/json', [CONTEXT_TOKEN_HEADER]: token }, body: batch });
      counts.push(t.platform.database.statements.count - before);
      expect(res.status).toBe(400); // one operation of the batch was refused
      const body = (await res.json()) as { data?: unknown; errors?: { extensions: { code: string } }[] }[];
      expect(body).toHaveLength(3);
      expect(body[0]).toEqual({ data: { _entities: [{ name: 'Batch Shop' }] } });
      expect(body[1]).toEqual({ data: { _entities: [{ name: 'Batch Shop' }] } });
      expect(body[2]!.errors![0]!.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    }
    // One context for the batch: its DataLoader looked the merchant up once for both operations.
    expect(Math.min(...counts)).toBe(1);
  });

  /** Posts a context batch signed as the gateway signs it; `sign` may sign another body than the one sent. */
  async function postSigned(url: string, items: unknown[], options: { signedBody?: string; signature?: string } = {}) {
    const body = JSON.stringify(items);
    const signature = options.signature ?? (await createContextBatchSigner(t.platform.keys.context)(options.signedBody ?? body));
    return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', [CONTEXT_BATCH_HEADER]: 'contexts', [CONTEXT_BATCH_SIGNATURE_HEADER]: signature }, body });
  }
  const claimsOf = (merchantId: string, scopes: readonly string[] = ['merchant:read']) => contextClaimsOf({ kind: 'app', merchantId, appKey: TEST_APP_KEY, scopes });

  /** A batch of several callers in either format: the gateway's (signed as a whole) or the older one (a context token per operation). */
  const formats = [
    {
      format: 'signed as a whole (what the gateway sends)',
      post: (items: unknown[]) => postSigned(t.platform.subgraphs.account.url, items),
      callerOf: async (merchantId: string) => ({ caller: claimsOf(merchantId) }),
      invalidCaller: { caller: { kind: 'nobody' } },
      refused: { status: 400, code: 'BAD_REQUEST' },
    },
    {
      format: 'each with its own context token (the older format, still accepted)',
      post: (items: unknown[]) =>
        fetch(t.platform.subgraphs.account.url, { method: 'POST', headers: { 'content-type': 'application/json', [CONTEXT_BATCH_HEADER]: 'contexts' }, body: JSON.stringify(items) }),
      callerOf: async (merchantId: string) => ({ context: await createContextSigner(t.platform.keys.context, 60)({ kind: 'app', merchantId, appKey: TEST_APP_KEY, scopes: ['merchant:read'] }) }),
      invalidCaller: { context: 'forged' },
      refused: { status: 401, code: 'UNAUTHENTICATED' },
    },
  ];

  test.each(formats)('operations of several callers in one request, $format: each runs with its own caller, so each sees only its merchant', async ({ format, post, callerOf, invalidCaller, refused }) => {
    const a = await createMerchant(t, `Shop A ${format}`);
    const b = await createMerchant(t, `Shop B ${format}`);
    const own = '{ merchant { name } }';
    const entity = (id: string) => ({ query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Merchant { name } } }', variables: { r: [{ __typename: 'Merchant', id }] } });
    const res = await post([
      { ...(await callerOf(a.id)), requestId: 'request-a-0001', operation: { query: own } },
      { ...(await callerOf(b.id)), requestId: 'request-b-0001', operation: { query: own } },
      { ...(await callerOf(a.id)), operation: entity(b.id) }, // A asking for B's merchant
      { ...invalidCaller, operation: { query: own } },
      { operation: { query: own } },
    ]);
    expect(res.status).toBe(200);
    const answers = (await res.json()) as { status: number; body: { data?: any; errors?: { extensions: { code: string } }[] } }[];
    expect(answers[0]).toEqual({ status: 200, body: { data: { merchant: { name: a.name } } } });
    expect(answers[1]).toEqual({ status: 200, body: { data: { merchant: { name: b.name } } } });
    expect(JSON.stringify(answers[2])).not.toContain(b.name);
    for (const answer of answers.slice(3)) expect(answer).toMatchObject({ status: refused.status, body: { errors: [{ extensions: { code: refused.code } }] } });
  });

  test('a batch whose signature does not cover its body, or is no batch signature, is refused as a whole; a batch signature is no context token', async () => {
    const a = await createMerchant(t, 'Tamper A');
    const b = await createMerchant(t, 'Tamper B');
    const own = { query: '{ merchant { name } }' };
    const items = [{ caller: claimsOf(a.id), operation: own }];
    const url = t.platform.subgraphs.account.url;
    // The gateway signed A's operation; the body sent names B.
    const swapped = await postSigned(url, [{ caller: claimsOf(b.id), operation: own }], { signedBody: JSON.stringify(items) });
    const contextToken = await createContextSigner(t.platform.keys.context, 60)({ kind: 'app', merchantId: b.id, appKey: TEST_APP_KEY, scopes: ['merchant:read'] });
    const tokenAsSignature = await postSigned(url, [{ caller: claimsOf(b.id), operation: own }], { signature: contextToken });
    const foreignKey = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const forged = await postSigned(url, items, { signature: await createContextBatchSigner({ privateKey: foreignKey.privateKey, kid: t.platform.keys.context.kid })(JSON.stringify(items)) });
    // Signed with the platform's own key over this very body, but expired, from another issuer, or without an expiry.
    const digest = crypto.createHash('sha256').update(JSON.stringify(items)).digest('base64url');
    const claims = (set: (jwt: SignJWT) => SignJWT) => set(new SignJWT({ body_sha256: digest }).setProtectedHeader({ alg: 'EdDSA', kid: t.platform.keys.context.kid })).sign(t.platform.keys.context.privateKey);
    const now = Math.floor(Date.now() / 1000);
    const expired = await postSigned(url, items, { signature: await claims((j) => j.setIssuer('portico-gateway').setAudience('portico-subgraph-batch').setIssuedAt(now - 120).setExpirationTime(now - 60)) });
    const otherIssuer = await postSigned(url, items, { signature: await claims((j) => j.setIssuer('someone-else').setAudience('portico-subgraph-batch').setIssuedAt(now).setExpirationTime(now + 60)) });
    const noExpiry = await postSigned(url, items, { signature: await claims((j) => j.setIssuer('portico-gateway').setAudience('portico-subgraph-batch').setIssuedAt(now)) });
    // An unsigned token ("alg": "none") naming the right issuer, audience and body.
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = await postSigned(url, items, { signature: `${part({ alg: 'none' })}.${part({ body_sha256: digest, iss: 'portico-gateway', aud: 'portico-subgraph-batch', iat: now, exp: now + 60 })}.` });
    for (const res of [swapped, tokenAsSignature, forged, expired, otherIssuer, noExpiry, unsigned]) {
      expect(res.status).toBe(401);
      const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
      expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
      expect(JSON.stringify(body)).not.toContain('Tamper');
    }
    const signature = await createContextBatchSigner(t.platform.keys.context)(JSON.stringify(items));
    const asToken = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', [CONTEXT_TOKEN_HEADER]: signature }, body: JSON.stringify(own) });
    expect(asToken.status).toBe(401);
    // Without the batch header, a request still needs its own context token.
    const plain = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(items) });
    expect(plain.status).toBe(401);
    // The same signature over its own body is accepted.
    const good = await postSigned(url, items, { signature });
    expect(((await good.json()) as { body: unknown }[])[0]!.body).toEqual({ data: { merchant: { name: 'Tamper A' } } });
  });

  test('operations of several merchants in one request share their SQL lookups, and each finds only its own merchant\'s rows', async () => {
    const shops = await Promise.all(['Pair A', 'Pair B', 'Pair C'].map((name) => createMerchant(t, name)));
    const orders: { id: string; number: string }[] = [];
    for (const shop of shops) {
      const product = await createProduct(t, shop.token, [{ stock: 5 }]);
      const placed = await placeOrder(t, shop.token, [{ skuId: product.skus[0]!.id, quantity: 2 }]);
      if (placed.errors) throw new Error(JSON.stringify(placed.errors));
      orders.push(placed.data!.placeOrder.order);
    }
    const [a, b, c] = shops as [(typeof shops)[0], (typeof shops)[0], (typeof shops)[0]];
    const sign = createContextSigner(t.platform.keys.context, 60);
    const tokenOf = (merchantId: string) => sign({ kind: 'app', merchantId, appKey: TEST_APP_KEY, scopes: [...ALL_SCOPES] });
    const orderQuery = (id: string) => ({ query: 'query($id: ID!) { order(id: $id) { id number lines { quantity } } }', variables: { id } });
    // placeOrder gives owed stock back in the background after it answers (checkout.ts, drain): wait
    // until no statement has run for 300 ms, so that only the batch's own statements are counted.
    for (let last = -1; last !== t.platform.database.statements.count; ) {
      last = t.platform.database.statements.count;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const before = t.platform.database.statements.count;
    const res = await fetch(t.platform.subgraphs.order.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CONTEXT_BATCH_HEADER]: 'contexts' },
      body: JSON.stringify([
        { context: await tokenOf(a.id), operation: orderQuery(orders[0]!.id) },
        { context: await tokenOf(b.id), operation: orderQuery(orders[1]!.id) },
        { context: await tokenOf(a.id), operation: orderQuery(orders[1]!.id) }, // A asking for B's order, in the same lookup as B's own
        { context: await tokenOf(c.id), operation: orderQuery(orders[2]!.id) },
        { context: await tokenOf(c.id), operation: orderQuery('not-a-uuid') },
      ]),
    });
    const statements = t.platform.database.statements.count - before;
    expect(res.status).toBe(200);
    const answers = (await res.json()) as { status: number; body: { data?: { order: unknown }; errors?: { extensions: { code: string } }[] } }[];
    for (const [i, k] of [[0, 0], [1, 1], [3, 2]] as const) {
      expect(answers[i]).toEqual({ status: 200, body: { data: { order: { id: orders[k]!.id, number: orders[k]!.number, lines: [{ quantity: 2 }] } } } });
    }
    for (const i of [2, 4]) {
      expect(answers[i]!.body.data?.order).toBeNull();
      expect(answers[i]!.body.errors?.map((e) => e.extensions.code)).toEqual(['NOT_FOUND']);
    }
    expect(JSON.stringify(answers[2])).not.toContain(orders[1]!.number);
    // Five operations of three merchants: one statement for their orders, one for their lines.
    expect(statements).toBe(2);
  });

  /** A new merchant with one placed order, and a context token for it with orders:read only. */
  async function shopWithOrder(name: string) {
    const shop = await createMerchant(t, name);
    const product = await createProduct(t, shop.token, [{ stock: 5 }]);
    const placed = await placeOrder(t, shop.token, [{ skuId: product.skus[0]!.id, quantity: 1 }]);
    if (placed.errors) throw new Error(JSON.stringify(placed.errors));
    const sign = createContextSigner(t.platform.keys.context, 60);
    const token = await sign({ kind: 'app', merchantId: shop.id, appKey: TEST_APP_KEY, scopes: ['orders:read'] });
    return { order: placed.data!.placeOrder.order, token, merchantId: shop.id };
  }

  test('each operation of a batch gets exactly the answer it gets alone: field errors, refused documents, bad variables, mutations', async () => {
    // orders:read without orders:read_pii: shippingAddress is refused at its path.
    const { order, token, merchantId } = await shopWithOrder('Alone Or Not');
    const orderId = order.id;
    const operations = [
      { query: 'query($id: ID!) { order(id: $id) { number status shippingAddress { city } total { amount currency } } }', variables: { id: orderId } },
      { query: 'query Pick($id: ID!) { order(id: $id) { number } } query Other { orders(first: 1) { totalCount } }', variables: { id: orderId }, operationName: 'Pick' },
      { query: 'query($id: ID!) { order(id: $id) { number } }', variables: { id: '00000000-0000-4000-8000-000000000000' } },
      { query: '{ order(id: "x") { nope } }' },
      { query: '{ order(id: ', variables: {} },
      { query: 'query($id: ID!) { order(id: $id) { number } }', variables: { id: { not: 'an id' } } },
      { query: 'query($id: ID!) { order(id: $id) { number } }' },
      { query: 'query A { orders(first: 1) { totalCount } } query B { orders(first: 2) { totalCount } }' },
      { query: 'mutation($id: ID!) { cancelOrder(input: { orderId: $id, reason: "test" }) { order { status } } }', variables: { id: orderId } },
    ];
    const alone = [];
    for (const operation of operations) {
      const res = await fetch(t.platform.subgraphs.order.url, { method: 'POST', headers: { 'content-type': 'application/json', [CONTEXT_TOKEN_HEADER]: token }, body: JSON.stringify(operation) });
      alone.push({ status: res.status, body: (await res.json()) as unknown });
    }
    const res = await fetch(t.platform.subgraphs.order.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CONTEXT_BATCH_HEADER]: 'contexts' },
      body: JSON.stringify(operations.map((operation) => ({ context: token, operation }))),
    });
    expect(res.status).toBe(200);
    const together = (await res.json()) as unknown[];
    expect(together).toEqual(alone);
    // Signed as a whole (what the gateway sends): the same answers, but a mutation is refused
    // before it runs, even for a caller that may write (a signed batch has no token to forward).
    const writer = claimsOf(merchantId, ['orders:read', 'orders:write']);
    const signed = await postSigned(t.platform.subgraphs.order.url, operations.map((operation, i) => ({ caller: i === operations.length - 1 ? writer : claimsOf(merchantId, ['orders:read']), operation })));
    expect(signed.status).toBe(200);
    const signedAnswers = (await signed.json()) as { status: number; body: { errors?: { extensions: { code: string } }[] } }[];
    expect(signedAnswers.slice(0, -1)).toEqual(alone.slice(0, -1));
    expect(signedAnswers.at(-1)).toMatchObject({ status: 400, body: { errors: [{ extensions: { code: 'BAD_REQUEST' } }] } });
    const after = await fetch(t.platform.subgraphs.order.url, { method: 'POST', headers: { 'content-type': 'application/json', [CONTEXT_TOKEN_HEADER]: token }, body: JSON.stringify(operations[0]) });
    expect(((await after.json()) as { data: { order: { status: string } } }).data.order.status).toBe(order.status);
    expect(order.status).not.toBe('CANCELLED');
    // What was compared: a field refused at its path, an operation picked by name, NOT_FOUND, a
    // document that does not validate or parse, variables that do not coerce or are missing, an
    // operation left unnamed among several, and a mutation (refused: orders:write is not held).
    expect(alone.map((a) => a.status)).toEqual([200, 200, 200, 400, 400, 400, 400, 400, 200]);
    const codes = alone.map((a) => (a.body as { errors?: { extensions: { code: string }; path?: unknown[] }[] }).errors?.map((e) => e.extensions.code));
    expect(codes).toEqual([['FORBIDDEN'], undefined, ['NOT_FOUND'], ['GRAPHQL_VALIDATION_FAILED'], ['GRAPHQL_PARSE_FAILED'], ['BAD_USER_INPUT'], ['BAD_USER_INPUT'], [expect.any(String)], ['FORBIDDEN']]);
    expect((alone[0]!.body as { errors: { path: unknown[] }[] }).errors[0]!.path).toEqual(['order', 'shippingAddress']);
    expect((alone[0]!.body as { data: { order: { number: string } } }).data.order.number).toBe(order.number);
  });

  test('a caller\'s own request gets the same answer whether its plain queries skip Apollo\'s pipeline or not (one operation or a batch)', async () => {
    const { order, token } = await shopWithOrder('Direct Or Apollo');
    const orderId = order.id;
    const entities = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { number status lines { quantity } shippingAddress { city } } } }';
    const operations = [
      { query: 'query($id: ID!) { order(id: $id) { number status shippingAddress { city } total { amount currency } } }', variables: { id: orderId } },
      { query: 'query Pick($id: ID!) { order(id: $id) { number } } query Other { orders(first: 1) { totalCount } }', variables: { id: orderId }, operationName: 'Pick' },
      { query: 'query($id: ID!) { order(id: $id) { number } }', variables: { id: '00000000-0000-4000-8000-000000000000' } },
      { query: entities, variables: { r: [{ __typename: 'Order', id: orderId }, { __typename: 'Order', id: '00000000-0000-4000-8000-000000000000' }] } },
      { query: '{ orders(first: 5) { edges { node { number merchant { id } buyer { id } } } pageInfo { hasNextPage } } }' },
      { query: '{ order(id: "x") { nope } }' },
      { query: 'query($id: ID!) { order(id: $id) { number } }', variables: { id: { not: 'an id' } } },
    ];
    // `extensions` (empty, meaning nothing) is what the direct path leaves to Apollo.
    const viaApollo = (operation: object) => ({ ...operation, extensions: {} });
    const post = async (body: unknown) => {
      const res = await fetch(t.platform.subgraphs.order.url, { method: 'POST', headers: { 'content-type': 'application/json', [CONTEXT_TOKEN_HEADER]: token }, body: JSON.stringify(body) });
      return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as unknown };
    };
    for (const operation of operations) expect(await post(operation)).toEqual(await post(viaApollo(operation)));
    // A batch of plain queries (one plan step's fetches), and one with an operation only Apollo answers.
    const plain = operations.slice(0, 5);
    expect(await post(plain)).toEqual(await post(plain.map(viaApollo)));
    expect(await post(operations)).toEqual(await post(operations.map(viaApollo)));
    const single = await post(operations[0]);
    expect(single).toMatchObject({ status: 200, type: 'application/json; charset=utf-8' });
    expect((single.body as { errors: { path: unknown[]; extensions: { code: string } }[] }).errors).toEqual([expect.objectContaining({ path: ['order', 'shippingAddress'], extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);
  });
});
