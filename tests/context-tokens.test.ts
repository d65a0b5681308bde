/**
 * Context tokens (gateway to subgraphs) are signed once per caller and reused; from half their
 * life a fresh one is signed in the background, so no request waits for a signature of a caller
 * already seen, and no token is handed out with less than a quarter of its life left.
 */
import { decodeJwt, generateKeyPair } from 'jose';
import type { Caller } from '../core/caller.js';
import { createContextSigner, createContextVerifier } from '../core/tokens.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a caller\'s token is reused, refreshed in the background from half its life, and always verifies', async () => {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const ttlSeconds = 2;
  const sign = createContextSigner({ privateKey, kid: 'test' }, ttlSeconds);
  const verify = createContextVerifier(publicKey);
  const caller: Caller = { kind: 'app', appKey: 'app_a', merchantId: '00000000-0000-4000-8000-000000000001', scopes: ['orders:read'] };
  const other: Caller = { ...caller, merchantId: '00000000-0000-4000-8000-000000000002' };

  const first = await sign(caller);
  expect(await sign(caller)).toBe(first);
  expect(await sign(other)).not.toBe(first);
  expect((await verify(first)).merchantId).toBe(caller.merchantId);

  await sleep(1100); // past half its life: still handed out, while a fresh one is signed
  expect(await sign(caller)).toBe(first);
  await sleep(50);
  const second = await sign(caller);
  expect(second).not.toBe(first);
  expect((await verify(second)).merchantId).toBe(caller.merchantId);

  for (const token of [first, second]) {
    const { exp, iat } = decodeJwt(token);
    expect(exp! - iat!).toBe(ttlSeconds);
  }

  // Not asked again until past three quarters of its life: it is not handed out any more.
  const lone = await sign(other);
  await sleep(1600);
  const next = await sign(other);
  expect(next).not.toBe(lone);
  expect((await verify(next)).merchantId).toBe(other.merchantId);
});
