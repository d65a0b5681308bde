/**
 * DPoP (RFC 9449) over real HTTP: the passport (behind the gateway's proxy) binds a token to the
 * client's key when the token request carries a proof; the gateway accepts that token only as
 * `Authorization: DPoP` with a fresh proof by the same key for this request, and says why otherwise.
 */
import crypto from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';
import { ALL_SCOPES, postGraphQL, startTestPlatform, type TestPlatform } from './helpers/platform.js';

let t: TestPlatform;
let origin: string;
const APP = 'app_dpop';
const secret = crypto.randomBytes(32).toString('base64url');
const QUERY = JSON.stringify({ query: '{ viewerApp { key } }' });

interface ProofKey {
  privateKey: CryptoKey;
  jwk: JWK;
}
let clientKey: ProofKey;
let boundToken: string;

const newKey = async (): Promise<ProofKey> => {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { privateKey, jwk: await exportJWK(publicKey) };
};

const athOf = (token: string) => crypto.createHash('sha256').update(token).digest('base64url');

function proof(htm: string, htu: string, options: { ath?: string; jti?: string; iat?: number; key?: ProofKey } = {}) {
  const key = options.key ?? clientKey;
  return new SignJWT({ htm, htu, jti: options.jti ?? crypto.randomUUID(), iat: options.iat ?? Math.floor(Date.now() / 1000), ...(options.ath ? { ath: options.ath } : {}) })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk })
    .sign(key.privateKey);
}

async function tokenRequest(dpopProof?: string) {
  const response = await fetch(`${origin}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${APP}:${secret}`).toString('base64')}`,
      ...(dpopProof ? { dpop: dpopProof } : {}),
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read' }).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

async function callApi(authorization: string, dpopProof?: string) {
  const response = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization, ...(dpopProof ? { dpop: dpopProof } : {}) }, body: QUERY });
  const body = (await response.json()) as { data?: { viewerApp?: { key: string } }; errors?: { message: string; extensions?: { code?: string } }[] };
  return { status: response.status, challenge: response.headers.get('www-authenticate'), ...body };
}

function expectRefused(answer: Awaited<ReturnType<typeof callApi>>, reason: RegExp) {
  expect(answer.status).toBe(401);
  expect(answer.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  expect(answer.errors?.[0]?.message).toMatch(reason);
  expect(answer.challenge).toMatch(/^DPoP algs="[^"]*ES256[^"]*", error="(invalid_token|invalid_dpop_proof)"/);
}

beforeAll(async () => {
  t = await startTestPlatform();
  origin = new URL(t.url).origin;
  const store = createAppManagementStore(t.platform.database.db, t.platform.keys.messageKeks);
  const developer = await store.createDeveloper({ kind: 'COMPANY', name: 'DPoP ISV', email: `dpop-${crypto.randomUUID()}@example.com`, verificationStatus: 'VERIFIED' });
  await store.createApp({ key: APP, name: 'Bound', developerId: developer.id, status: 'LIVE', secret });
  const everything = await store.createPackage({ name: `DPoP ${crypto.randomUUID()}`, description: 'All scopes', tier: 'FREE', scopes: ALL_SCOPES });
  await store.grantPackage('system:tests', { appKey: APP, packageId: everything.id, reason: 'tests' });
  clientKey = await newKey();
});
afterAll(() => t?.stop());

describe('the passport binds tokens', () => {
  test('a token request with a proof (to the public URL, through the gateway) gets a DPoP token bound to the key', async () => {
    const answer = await tokenRequest(await proof('POST', `${origin}/oauth/token`));
    expect(answer.status).toBe(200);
    expect(answer.body.token_type).toBe('DPoP');
    boundToken = answer.body.access_token!;
    expect(decodeJwt(boundToken).cnf).toEqual({ jkt: await calculateJwkThumbprint(clientKey.jwk, 'sha256') });
  });

  test('a proof for another URL is refused by the passport', async () => {
    const answer = await tokenRequest(await proof('POST', 'http://127.0.0.1:1/oauth/token'));
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_dpop_proof');
  });
});

describe('the gateway', () => {
  test('accepts the bound token with a fresh proof, each request its own', async () => {
    for (let i = 0; i < 2; i++) {
      const answer = await callApi(`DPoP ${boundToken}`, await proof('POST', t.url, { ath: athOf(boundToken) }));
      expect(answer.status).toBe(200);
      expect(answer.data?.viewerApp?.key).toBe(APP);
    }
  });

  test('refuses it without a proof, or as Bearer', async () => {
    expectRefused(await callApi(`DPoP ${boundToken}`), /bound to a key \(DPoP\): send a DPoP proof header/);
    expectRefused(await callApi(`Bearer ${boundToken}`, await proof('POST', t.url, { ath: athOf(boundToken) })), /bound to a key \(DPoP\): send it as Authorization: DPoP/);
  });

  test('refuses a proof with a wrong ath, htm or htu, an old iat, or by another key', async () => {
    const ath = athOf(boundToken);
    expectRefused(await callApi(`DPoP ${boundToken}`, await proof('POST', t.url, { ath: athOf('another token') })), /ath is not the base64url SHA-256 of this access token/);
    expectRefused(await callApi(`DPoP ${boundToken}`, await proof('POST', t.url)), /ath is not/);
    expectRefused(await callApi(`DPoP ${boundToken}`, await proof('GET', t.url, { ath })), /htm is GET, this request is POST/);
    expectRefused(await callApi(`DPoP ${boundToken}`, await proof('POST', 'https://api.example.com/graphql', { ath })), /htu must be http:\/\/127\.0\.0\.1:\d+\/graphql/);
    expectRefused(await callApi(`DPoP ${boundToken}`, await proof('POST', t.url, { ath, iat: Math.floor(Date.now() / 1000) - 301 })), /iat must be within 300 s/);
    expectRefused(await callApi(`DPoP ${boundToken}`, await proof('POST', t.url, { ath, key: await newKey() })), /signed by another key/);
    expectRefused(await callApi(`DPoP ${boundToken}`, 'not-a-jwt'), /not a dpop\+jwt/);
  });

  test('refuses a proof used twice (its jti)', async () => {
    const once = await proof('POST', t.url, { ath: athOf(boundToken) });
    expect((await callApi(`DPoP ${boundToken}`, once)).status).toBe(200);
    expectRefused(await callApi(`DPoP ${boundToken}`, once), /jti replayed/);
  });

  test('a plain token sent as DPoP is refused; sent as Bearer it works as ever', async () => {
    const plain = await tokenRequest();
    expect(plain.body.token_type).toBe('Bearer');
    expectRefused(await callApi(`DPoP ${plain.body.access_token}`, await proof('POST', t.url, { ath: athOf(plain.body.access_token!) })), /not bound to a key/);
    expect((await postGraphQL<any>(t.url, plain.body.access_token!, '{ viewerApp { key } }')).data?.viewerApp.key).toBe(APP);
  });
});
