import { SignJWT, generateKeyPair } from 'jose';
import crypto from 'node:crypto';
import { INTERNAL_SCOPE } from '../core/caller.js';
import { CONTEXT_TOKEN_HEADER, createContextSigner } from '../core/tokens.js';
import { createAccountStore } from '../subgraphs/account/store.js';
import { createMerchant } from './helpers/factories.js';
import { startTestPlatform, type TestPlatform } from './helpers/platform.js';

let t: TestPlatform;
let merchant: Awaited<ReturnType<typeof createMerchant>>;

beforeAll(async () => {
  t = await startTestPlatform();
  merchant = await createMerchant(t, 'Gateway Shop');
});
afterAll(() => t.stop());

const QUERY = '{ merchant { id name } }';

describe('authentication at the gateway', () => {
  test('a request without a token gets HTTP 401 UNAUTHENTICATED with a WWW-Authenticate challenge', async () => {
    const res = await t.gql(null, QUERY);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(res.data).toBeUndefined();
  });

  test('a valid platform token reads the merchant it was issued for', async () => {
    const res = await t.gql(merchant.token, QUERY);
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ merchant: { id: merchant.id, name: 'Gateway Shop' } });
  });

  test.each([
    ['garbage', 'not-a-jwt'],
    ['a tampered signature', 'TAMPER'],
  ])('%s is refused with 401 invalid_token', async (_label, kind) => {
    const token = kind === 'TAMPER' ? `${merchant.token.slice(0, -4)}AAAA` : kind;
    const res = await t.gql(token, QUERY);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  test('a token signed by another key with the same kid is refused', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ client_id: 'app_test', scope: 'orders:read' })
      .setProtectedHeader({ alg: 'ES256', kid: t.platform.keys.accessToken.kid, typ: 'at+jwt' })
      .setIssuer(t.platform.config.publicUrl)
      .setAudience(t.platform.config.apiAudience)
      .setSubject(merchant.id)
      .setExpirationTime('5m')
      .sign(privateKey);
    const res = await t.gql(forged, QUERY);
    expect(res.status).toBe(401);
  });

  test('an expired token is refused and says it expired', async () => {
    const expired = await new SignJWT({ client_id: 'app_test', scope: 'orders:read' })
      .setProtectedHeader({ alg: 'ES256', kid: t.platform.keys.accessToken.kid, typ: 'at+jwt' })
      .setIssuer(t.platform.config.publicUrl)
      .setAudience(t.platform.config.apiAudience)
      .setSubject(merchant.id)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(t.platform.keys.accessToken.privateKey);
    const res = await t.gql(expired, QUERY);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.message).toMatch(/expired/);
  });

  test('a token for another audience is refused', async () => {
    const other = await new SignJWT({ client_id: 'app_test', scope: 'orders:read' })
      .setProtectedHeader({ alg: 'ES256', kid: t.platform.keys.accessToken.kid, typ: 'at+jwt' })
      .setIssuer(t.platform.config.publicUrl)
      .setAudience('https://some-other-api.example')
      .setSubject(merchant.id)
      .setExpirationTime('5m')
      .sign(t.platform.keys.accessToken.privateKey);
    expect((await t.gql(other, QUERY)).status).toBe(401);
  });

  test('the JWKS publishes the public signing key and nothing private', async () => {
    const res = await fetch(new URL('/.well-known/jwks.json', t.url));
    expect(res.status).toBe(200);
    const jwks = (await res.json()) as { keys: Record<string, string>[] };
    expect(jwks.keys[0]).toMatchObject({ kid: t.platform.keys.accessToken.kid, kty: 'EC', crv: 'P-256', alg: 'ES256' });
    for (const key of jwks.keys) expect(key.d).toBeUndefined();
  });

  test('/healthz reports every subgraph', async () => {
    const res = await fetch(new URL('/healthz', t.url));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', subgraphs: { order: 'ok', product: 'ok', account: 'ok', 'app-management': 'ok' } });
  });
});

describe('subgraphs trust only the gateway', () => {
  const direct = (url: string, headers: Record<string, string>, query: string) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });

  test.each(['order', 'product', 'account', 'app-management'] as const)('the %s subgraph refuses a request without a context token, even _service', async (name) => {
    const res = await direct(t.platform.subgraphs[name].url, {}, '{ _service { sdl } }');
    expect(res.status).toBe(401);
    const body = (await res.json()) as { data?: unknown; errors: { extensions: { code: string } }[] };
    expect(body.data).toBeUndefined();
    expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
  });

  test('a subgraph refuses the access token itself, or a context token signed by anyone but the gateway', async () => {
    const url = t.platform.subgraphs.order.url;
    const query = '{ _entities(representations: [{ __typename: "Merchant", id: "x" }]) { __typename } }';
    expect((await direct(url, { [CONTEXT_TOKEN_HEADER]: merchant.token }, query)).status).toBe(401);
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const forged = await new SignJWT({ client_id: 'app_test', scope: 'orders:read' })
      .setProtectedHeader({ alg: 'EdDSA', kid: t.platform.keys.context.kid })
      .setIssuer('portico-gateway')
      .setAudience('portico-subgraph')
      .setSubject(merchant.id)
      .setExpirationTime('1m')
      .sign(privateKey);
    expect((await direct(url, { [CONTEXT_TOKEN_HEADER]: forged }, query)).status).toBe(401);
  });
});

describe("the gateway's internal lookups", () => {
  test('the account subgraph says which grants still stand, for the gateway only, in the order asked, at most 1,000 at once', async () => {
    const accounts = createAccountStore(t.platform.database.db);
    const [standing, revoked] = [`grant_${crypto.randomUUID()}`, `grant_${crypto.randomUUID()}`];
    for (const grantId of [standing, revoked]) {
      await accounts.recordAuthorization({ grantId, merchantId: merchant.id, appKey: 'app_test', appName: 'Test app', scopes: ['orders:read'], authorizedBy: null });
    }
    await accounts.revokeAuthorization(revoked, `merchant:${merchant.id}`, merchant.id, 'test');
    const sign = createContextSigner(t.platform.keys.context, 60);
    const ask = async (caller: Parameters<typeof sign>[0], grantIds: string[]) => {
      const res = await fetch(t.platform.subgraphs.account.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [CONTEXT_TOKEN_HEADER]: await sign(caller) },
        body: JSON.stringify({ query: 'query($ids: [String!]!) { authorizationsActive(grantIds: $ids) }', variables: { ids: grantIds } }),
      });
      return (await res.json()) as { data?: { authorizationsActive: boolean[] } | null; errors?: { extensions: { code: string } }[] };
    };
    const system = { kind: 'system', merchantId: null, appKey: 'portico-gateway', scopes: [INTERNAL_SCOPE] } as const;

    const answer = await ask(system, [standing, revoked, 'grant_unknown', standing]);
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({ authorizationsActive: [true, false, false, true] });
    expect((await ask(system, [])).data).toEqual({ authorizationsActive: [] });

    const tooMany = await ask(system, Array.from({ length: 1001 }, (_, i) => `grant_${i}`));
    expect(tooMany.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
    expect(tooMany.data ?? null).toBeNull();

    // An app's context, even one claiming the internal scope, is refused.
    const app = await ask({ kind: 'app', merchantId: merchant.id, appKey: 'app_test', scopes: ['orders:read', INTERNAL_SCOPE] }, [standing]);
    expect(app.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    expect(app.data ?? null).toBeNull();

    // Not part of the public API.
    const publicCall = await t.gql(merchant.token, `{ authorizationsActive(grantIds: ["${standing}"]) }`);
    expect(publicCall.status).toBe(200); // a request error answered in application/json (GraphQL over HTTP)
    expect(publicCall.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('the public API hides internals', () => {
  test('buyer ids are not part of the API', async () => {
    const res = await t.gql(merchant.token, '{ orders(first: 1) { nodes { buyer { id } } } }');
    expect(res.status).toBe(200); // a request error answered in application/json (GraphQL over HTTP)
    expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  test('internal stock operations cannot be called through the gateway', async () => {
    const res = await t.gql(merchant.token, 'mutation { releaseStock(reservationKey: "x") }');
    expect(res.status).toBe(200); // a request error answered in application/json (GraphQL over HTTP)
    expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  test('an unknown path is 404, a malformed body is 400, neither leaks internals', async () => {
    const notFound = await fetch(new URL('/admin', t.url));
    expect(notFound.status).toBe(404);
    const malformed = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${merchant.token}` }, body: '{"query": ' });
    expect(malformed.status).toBe(400);
    const body = await malformed.text();
    expect(body).toContain('BAD_REQUEST');
    expect(body).not.toMatch(/at .*\.(ts|js):\d+/);
  });
});

describe('signing key rotation', () => {
  test('after a rotation the gateway accepts tokens of the new key without a restart, and still those of the old', async () => {
    const { rotateAccessTokenKey, loadPlatformKeys } = await import('../core/keys.js');
    const { mintAccessToken } = await import('../core/tokens.js');
    const before = merchant.token;
    await rotateAccessTokenKey(t.platform.config.keysDir);
    const rotated = await loadPlatformKeys(t.platform.config.keysDir, { create: false });
    expect(rotated.accessToken.kid).not.toBe(t.platform.keys.accessToken.kid);
    const fresh = await mintAccessToken(rotated, { issuer: t.platform.config.publicUrl, audience: t.platform.config.apiAudience, appKey: 'app_test', merchantId: merchant.id, scope: 'merchant:read' });
    expect((await t.gql(fresh, QUERY)).data).toEqual({ merchant: { id: merchant.id, name: 'Gateway Shop' } });
    expect((await t.gql(before, QUERY)).status).toBe(200);
    const published = (await (await fetch(new URL('/.well-known/jwks.json', t.url))).json()) as { keys: { kid: string }[] };
    expect(published.keys.map((k) => k.kid)).toEqual([rotated.accessToken.kid, t.platform.keys.accessToken.kid]);
  });
});

describe('query limits', () => {
  test('a query deeper than 12, with more than 30 aliases, or too costly, is refused before planning', async () => {
    const token = await t.token({ merchantId: merchant.id });
    let deep = 'title';
    for (let i = 0; i < 7; i++) deep = `skus { product { ${deep} } }`;
    const tooDeep = await t.gql(token, `{ products { nodes { ${deep} } } }`);
    expect(tooDeep.status).toBe(200); // a request error answered in application/json (GraphQL over HTTP)
    expect(tooDeep.errors?.[0]?.message).toMatch(/depth/i);
    const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: merchant { id }`).join(' ');
    const tooMany = await t.gql(token, `{ ${aliases} }`);
    expect(tooMany.status).toBe(200); // a request error answered in application/json (GraphQL over HTTP)
    expect(tooMany.errors?.[0]?.message).toMatch(/alias/i);
    // A realistic deep page still passes.
    const page = await t.gql(token, '{ merchant { orders(first: 5) { edges { node { lines { product { skus { price { amount } } } } } } } } }');
    expect(page.errors).toBeUndefined();
  });

  test('batched requests (an array of operations) are refused', async () => {
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${merchant.token}` },
      body: JSON.stringify([{ query: '{ merchant { id } }' }, { query: '{ merchant { id } }' }]),
    });
    expect(res.status).toBe(400);
  });
});
