/**
 * Context tokens (gateway to subgraphs) are signed once per caller and reused. A token still in
 * use is signed afresh in the background from half its life, so no request waits for a signature
 * of a caller already seen; none is handed out past three quarters of its life.
 */
import { decodeJwt, generateKeyPair } from 'jose';
import type { Caller } from '../core/caller.js';
import { createContextSigner, createContextVerifier } from '../core/tokens.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('tokens in use are refreshed in the background before they are due; others on their next use; all verify', async () => {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const ttlSeconds = 4;
  const sign = createContextSigner({ privateKey, kid: 'test' }, ttlSeconds);
  const verify = createContextVerifier(publicKey);
  const busy: Caller = { kind: 'app', appKey: 'app_a', merchantId: '00000000-0000-4000-8000-000000000001', scopes: ['orders:read'] };
  const idle: Caller = { ...busy, merchantId: '00000000-0000-4000-8000-000000000002' };

  const start = Date.now();
  const busyFirst = await sign(busy);
  const idleFirst = await sign(idle);
  expect(busyFirst).not.toBe(idleFirst);
  expect(await sign(busy)).toBe(busyFirst);
  expect((await verify(busyFirst)).merchantId).toBe(busy.merchantId);
  expect(decodeJwt(busyFirst).exp! - decodeJwt(busyFirst).iat!).toBe(ttlSeconds);

  await sleep(1000);
  expect(await sign(busy)).toBe(busyFirst); // in use

  // Due from 2.0-2.4 s, swept every 250 ms: by 2.8 s the busy caller has a fresh token without
  // having asked (a request would otherwise still get the first one until 3 s).
  await sleep(2800 - (Date.now() - start));
  const busySecond = await sign(busy);
  expect(busySecond).not.toBe(busyFirst);
  expect((await verify(busySecond)).merchantId).toBe(busy.merchantId);

  // The idle caller's token was left alone: its next use gets it, and starts the refresh.
  expect(await sign(idle)).toBe(idleFirst);
  await sleep(100);
  const idleSecond = await sign(idle);
  expect(idleSecond).not.toBe(idleFirst);
  expect((await verify(idleSecond)).merchantId).toBe(idle.merchantId);

  // Past three quarters of its life a token is never handed out.
  const lone: Caller = { ...busy, merchantId: '00000000-0000-4000-8000-000000000003' };
  const loneFirst = await sign(lone);
  await sleep(3100);
  expect(await sign(lone)).not.toBe(loneFirst);
});
