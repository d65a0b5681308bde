/**
 * Signed requests (RFC 9421) over real HTTP and WebSocket: hmac-sha256 with the app secret (and the
 * previous one within its grace), ed25519 with a registered key, each refusal with SIGNATURE_INVALID
 * and its reason, signatureRequired set by operators and turned on by the app itself, and nonces
 * shared by two replay guards on one Redis.
 */
import crypto from 'node:crypto';
import { once } from 'node:events';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { connectSharedStore } from '../core/redis.js';
import { createLogger } from '../core/logger.js';
import { signRequest, type SigningKey } from '../core/request-signer.js';
import { createRedisReplayGuard, ReplayCheckUnavailable } from '../gateway/replay-guard.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { adjustableClock } from './helpers/clock.js';
import { ALL_SCOPES, postGraphQL, startTestPlatform, type TestPlatform } from './helpers/platform.js';
import { wsUrl } from './helpers/messages.js';
import { mintTestOperatorToken } from './helpers/operator.js';

const clock = adjustableClock();
let t: TestPlatform;
const APP = 'app_signer';
const LEGACY_APP = 'app_unsealed';
let secret = crypto.randomBytes(32).toString('base64url');
const ed25519 = crypto.generateKeyPairSync('ed25519');
const VIEWER = '{ viewerApp { key signatureRequired } }';

beforeAll(async () => {
  t = await startTestPlatform({ clock });
  const store = createAppManagementStore(t.platform.database.db, t.platform.keys.messageKeks);
  const developer = await store.createDeveloper({ kind: 'COMPANY', name: 'Signing ISV', email: `sign-${crypto.randomUUID()}@example.com`, verificationStatus: 'VERIFIED' });
  await store.createApp({ key: APP, name: 'Signer', developerId: developer.id, status: 'LIVE', secret });
  // An app whose secret was issued before secrets were sealed: only its hash exists.
  await createAppManagementStore(t.platform.database.db).createApp({ key: LEGACY_APP, name: 'Old app', developerId: developer.id, status: 'LIVE' });
  const everything = await store.createPackage({ name: `Signing ${crypto.randomUUID()}`, description: 'All scopes', tier: 'FREE', scopes: ALL_SCOPES });
  for (const key of [APP, LEGACY_APP]) await store.grantPackage('system:tests', { appKey: key, packageId: everything.id, reason: 'tests' });
});
afterAll(() => t?.stop());

const appToken = (appKey = APP) => t.token({ merchantId: null, appKey });
const operatorToken = () => mintTestOperatorToken(t, { clock });
/** Past the gateway's cache of what it knows of an app (APP_ACCESS_CACHE_MS). */
const pastAccessCache = () => clock.advance(t.platform.config.appAccessCacheMs + 100);

interface SignOptions {
  key?: SigningKey;
  keyid?: string;
  createdOffsetSeconds?: number;
  nonce?: string;
  /** What is sent instead of the body that was signed. */
  sentBody?: string;
  /** Sign as if there were no body (no content-digest covered). */
  signWithoutBody?: boolean;
  token?: string;
  /** The URL signed (default: /graphql). */
  url?: string;
}

async function signedHeaders(body: string, options: SignOptions = {}) {
  return signRequest({
    method: 'POST',
    url: options.url ?? t.url,
    ...(options.signWithoutBody ? {} : { body }),
    keyid: options.keyid ?? APP,
    key: options.key ?? { alg: 'hmac-sha256', secret },
    created: new Date(clock.now() + (options.createdOffsetSeconds ?? 0) * 1000),
    ...(options.nonce ? { nonce: options.nonce } : {}),
  });
}

async function send(body: string, headers: Record<string, string>, token: string) {
  const response = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers }, body });
  return { status: response.status, ...((await response.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] }) };
}

async function signedCall(query: string, options: SignOptions = {}, variables?: Record<string, unknown>) {
  const body = JSON.stringify({ query, variables });
  return send(options.sentBody ?? body, await signedHeaders(body, options), options.token ?? (await appToken()));
}

function expectRefused(answer: { status: number; errors?: { message: string; extensions?: { code?: string } }[] }, reason: RegExp) {
  expect(answer.status).toBe(401);
  expect(answer.errors?.[0]?.extensions?.code).toBe('SIGNATURE_INVALID');
  expect(answer.errors?.[0]?.message).toMatch(reason);
}

describe('signatures that verify', () => {
  test('hmac-sha256 with the app secret is accepted', async () => {
    const answer = await signedCall(VIEWER);
    expect(answer.status).toBe(200);
    expect(answer.data?.viewerApp).toEqual({ key: APP, signatureRequired: false });
  });

  test('ed25519 with the public key the app registered is accepted', async () => {
    const token = await appToken();
    const raw = ed25519.publicKey.export({ format: 'jwk' }).x!;
    const registered = await signedCall('mutation($k: String!) { registerSigningKey(publicKey: $k) { signingPublicKey } }', { token }, { k: raw });
    expect(registered.data?.registerSigningKey.signingPublicKey).toBe(raw);
    await pastAccessCache();
    const answer = await signedCall(VIEWER, { key: { alg: 'ed25519', privateKey: ed25519.privateKey } });
    expect(answer.status).toBe(200);
    expect(answer.data?.viewerApp.key).toBe(APP);
  });

  test('a signed request of an app that does not require signatures is verified all the same', async () => {
    expectRefused(await signedCall(VIEWER, { key: { alg: 'hmac-sha256', secret: 'not-the-secret' } }), /wrong signature/);
  });
});

describe('refusals, each saying why', () => {
  test('created more than 300 s ago, or more than 300 s ahead', async () => {
    expectRefused(await signedCall(VIEWER, { createdOffsetSeconds: -301 }), /created 301 s ago/);
    expectRefused(await signedCall(VIEWER, { createdOffsetSeconds: 301 }), /in the future/);
    expect((await signedCall(VIEWER, { createdOffsetSeconds: -290 })).status).toBe(200);
  });

  test('a nonce used again within the window', async () => {
    const body = JSON.stringify({ query: VIEWER });
    const headers = await signedHeaders(body);
    const token = await appToken();
    expect((await send(body, headers, token)).status).toBe(200);
    expectRefused(await send(body, headers, token), /nonce reused/);
  });

  test('a body changed after signing', async () => {
    expectRefused(await signedCall(VIEWER, { sentBody: JSON.stringify({ query: '{ viewerApp { key name } }' }) }), /body does not match its content-digest/);
  });

  test('a signature over a body that does not cover its content-digest', async () => {
    expectRefused(await signedCall(VIEWER, { signWithoutBody: true }), /missing required component\(s\) content-digest/);
  });

  test('a keyid that is not the token\'s app, and a wrong secret', async () => {
    expectRefused(await signedCall(VIEWER, { keyid: 'app_test' }), /unknown key: keyid "app_test"/);
    expectRefused(await signedCall(VIEWER, { key: { alg: 'hmac-sha256', secret: crypto.randomBytes(32).toString('base64url') } }), /wrong signature/);
    expectRefused(await signedCall(VIEWER, { key: { alg: 'ed25519', privateKey: crypto.generateKeyPairSync('ed25519').privateKey } }), /wrong signature/);
  });

  test('a Signature-Input without its Signature', async () => {
    const body = JSON.stringify({ query: VIEWER });
    const { signature: _, ...headers } = await signedHeaders(body);
    expectRefused(await send(body, headers, await appToken()), /one of them is missing/);
  });

  test('hmac for an app whose secret predates sealed secrets says to rotate it', async () => {
    const answer = await signedCall(VIEWER, { keyid: LEGACY_APP, token: await appToken(LEGACY_APP), key: { alg: 'hmac-sha256', secret: 'whatever' } });
    expectRefused(answer, /no secret usable for hmac-sha256.*rotate the secret/);
  });
});

describe('signatureRequired', () => {
  const setRequired = async (required: boolean, appKey = APP) =>
    postGraphQL<any>(t.url, await operatorToken(), 'mutation($i: SetAppSignatureRequiredInput!) { setAppSignatureRequired(input: $i) { key signatureRequired } }', {
      i: { appKey, required, reason: required ? 'integrity of ERP calls' : 'client cannot sign yet' },
    });

  test('operators set and unset it, audited; unsigned calls are refused meanwhile, signed ones pass', async () => {
    expect((await setRequired(true)).data?.setAppSignatureRequired).toEqual({ key: APP, signatureRequired: true });
    expect((await setRequired(true)).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    await pastAccessCache();
    const unsigned = await postGraphQL<any>(t.url, await appToken(), VIEWER);
    expect(unsigned.status).toBe(401);
    expect(unsigned.errors?.[0]).toMatchObject({ message: expect.stringMatching(/requires signed requests and this one is unsigned/), extensions: { code: 'SIGNATURE_INVALID' } });
    expect((await signedCall(VIEWER)).data?.viewerApp.signatureRequired).toBe(true);

    expect((await setRequired(false)).data?.setAppSignatureRequired.signatureRequired).toBe(false);
    await pastAccessCache();
    expect((await postGraphQL<any>(t.url, await appToken(), VIEWER)).status).toBe(200);

    const audit = await postGraphQL<any>(t.url, await operatorToken(), '{ auditLog(first: 10) { nodes { actor action targetId reason details } } }');
    const changes = audit.data!.auditLog.nodes.filter((n: { action: string }) => n.action === 'app.signature_required_changed');
    expect(changes.map((c: { reason: string; details: string }) => [c.reason, JSON.parse(c.details)])).toEqual([
      ['client cannot sign yet', { from: true, to: false }],
      ['integrity of ERP calls', { from: false, to: true }],
    ]);
    expect(changes[0].actor).toMatch(/^operator:/);
  });

  test('the app turns it on for itself, and cannot turn it off', async () => {
    const on = await postGraphQL<any>(t.url, await appToken(), 'mutation { requireSignedRequests { signatureRequired } }');
    expect(on.data?.requireSignedRequests.signatureRequired).toBe(true);
    const off = await signedCall('mutation { setAppSignatureRequired(input: { appKey: "app_signer", required: false, reason: "mine" }) { signatureRequired } }');
    expect(off.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await pastAccessCache();
    expect((await postGraphQL<any>(t.url, await appToken(), VIEWER)).errors?.[0]?.extensions?.code).toBe('SIGNATURE_INVALID');
  });

  test('a WebSocket upgrade of such an app: signed, it connects and runs operations; unsigned, it is closed with 4401', async () => {
    const token = await appToken();
    const signedUpgrade = await signRequest({ method: 'GET', url: t.url, keyid: APP, key: { alg: 'hmac-sha256', secret }, created: new Date(clock.now()) });
    const open = (headers: Record<string, string>) =>
      createClient({
        url: wsUrl(t.url),
        webSocketImpl: class extends WebSocket {
          constructor(url: string, protocols: string | string[]) {
            super(url, protocols, { headers });
          }
        },
        connectionParams: { authorization: `Bearer ${token}` },
        lazy: true,
        retryAttempts: 0,
      });
    const run = (client: ReturnType<typeof open>) =>
      new Promise<{ data?: unknown; error?: { code?: number; reason?: string } }>((resolve) => {
        client.subscribe({ query: '{ viewerApp { key } }' }, { next: (r) => resolve({ data: r.data }), error: (e) => resolve({ error: e as { code?: number; reason?: string } }), complete: () => undefined });
      });
    const signed = open(signedUpgrade);
    expect(await run(signed)).toEqual({ data: { viewerApp: { key: APP } } });
    await signed.dispose();
    const unsigned = open({});
    const refused = await run(unsigned);
    expect(refused.error?.code).toBe(4401);
    expect(refused.error?.reason).toMatch(/requires signed requests/);
    await unsigned.dispose();
  });

  test('an SSE stream request of such an app: signed, the stream runs the very body signed; its body changed, refused', async () => {
    const body = JSON.stringify({ query: 'subscription { orderEvents { id } }' });
    const url = t.url.replace(/\/graphql$/, '/graphql/stream');
    const stream = async (sent: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${await appToken()}`, ...(await signedHeaders(body, { url })) },
        body: sent,
      });
    const signed = await stream(body);
    expect(signed.status).toBe(200);
    expect(signed.headers.get('content-type')).toMatch(/text\/event-stream/);
    // The operation ran (an app-level token has no merchant's stream to follow, which it is told).
    expect(await signed.text()).toMatch(/Message subscriptions are per merchant/);
    const tampered = await stream(JSON.stringify({ query: 'subscription { productEvents { id } }' }));
    expect(tampered.status).toBe(401);
    expect(await tampered.json()).toMatchObject({ errors: [{ extensions: { code: 'SIGNATURE_INVALID' }, message: expect.stringMatching(/content-digest/) }] });
  });

  test('bad public keys are BAD_USER_INPUT; a JWK or PEM public key is read', async () => {
    for (const bad of ['not a key', Buffer.alloc(31).toString('base64url'), JSON.stringify(ed25519.privateKey.export({ format: 'jwk' })), crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString()]) {
      const answer = await signedCall('mutation($k: String!) { registerSigningKey(publicKey: $k) { key } }', {}, { k: bad });
      expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'publicKey' });
    }
    const raw = ed25519.publicKey.export({ format: 'jwk' }).x!;
    for (const good of [JSON.stringify(ed25519.publicKey.export({ format: 'jwk' })), ed25519.publicKey.export({ format: 'pem', type: 'spki' }).toString()]) {
      const answer = await signedCall('mutation($k: String!) { registerSigningKey(publicKey: $k) { signingPublicKey } }', {}, { k: good });
      expect(answer.data?.registerSigningKey.signingPublicKey).toBe(raw);
    }
  });
});

describe('a rotated secret', () => {
  test('the previous secret signs during the grace the app picked, not after', async () => {
    const previous = secret;
    const rotated = await signedCall('mutation { rotateAppSecret(graceHours: 1) { secret previousSecretExpiresAt } }');
    secret = rotated.data!.rotateAppSecret.secret;
    await pastAccessCache();
    expect((await signedCall(VIEWER, { key: { alg: 'hmac-sha256', secret: previous } })).status).toBe(200);
    expect((await signedCall(VIEWER)).status).toBe(200);
    await clock.advance(3_600_000);
    expectRefused(await signedCall(VIEWER, { key: { alg: 'hmac-sha256', secret: previous } }), /wrong signature/);
    expect((await signedCall(VIEWER)).status).toBe(200);
  });
});

describe('nonces shared through Redis', () => {
  test('two replay guards on one Redis: a nonce spent at one is a replay at the other; Redis down refuses', async () => {
    const logger = createLogger('silent');
    const prefix = `test:replay:${crypto.randomUUID()}:`;
    const one = connectSharedStore('redis://127.0.0.1:6379', 'open', logger);
    const two = connectSharedStore('redis://127.0.0.1:6379', 'open', logger);
    const down = connectSharedStore('redis://127.0.0.1:1', 'open', logger);
    try {
      // Commands fail fast while a connection is not up (no offline queue): wait until both are.
      await Promise.all([one, two].map((store) => (store.redis.status === 'ready' ? undefined : once(store.redis, 'ready'))));
      const [a, b] = [createRedisReplayGuard(one, prefix), createRedisReplayGuard(two, prefix)];
      expect(await a.firstUse('sig:app:n1', 60_000)).toBe(true);
      expect(await b.firstUse('sig:app:n1', 60_000)).toBe(false);
      expect(await b.firstUse('sig:app:n2', 60_000)).toBe(true);
      expect(await one.redis.pttl(`${prefix}sig:app:n1`)).toBeGreaterThan(55_000);
      await expect(createRedisReplayGuard(down, prefix).firstUse('sig:app:n3', 60_000)).rejects.toBeInstanceOf(ReplayCheckUnavailable);
    } finally {
      await Promise.all([one.close(), two.close(), down.close()]);
    }
  });
});
