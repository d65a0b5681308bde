/**
 * Context tokens (gateway to subgraphs) are signed once per caller and reused. A token still in
 * use is signed afresh in the background from half its life, so no request waits for a signature
 * of a caller already seen; none is handed out past three quarters of its life. Time is a fake
 * clock: the test moves it, nothing sleeps.
 */
import { decodeJwt, generateKeyPair } from 'jose';
import type { Caller } from '../core/caller.js';
import { createContextBatchSigner, createContextBatchVerifier, createContextSigner, createContextVerifier } from '../core/tokens.js';
import { fakeClock } from './helpers/clock.js';

const TTL_SECONDS = 60;
const busy: Caller = { kind: 'app', appKey: 'app_a', merchantId: '00000000-0000-4000-8000-000000000001', scopes: ['orders:read'] };
const idle: Caller = { ...busy, merchantId: '00000000-0000-4000-8000-000000000002' };
const lone: Caller = { ...busy, merchantId: '00000000-0000-4000-8000-000000000003' };

/** Real turns of the event loop until `check` holds: signing is real work on the thread pool, whatever the clock says. */
async function until(what: string, check: () => Promise<boolean>) {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

test('tokens in use are refreshed in the background before they are due; others on their next use; none past three quarters of its life; all verify', async () => {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const clock = fakeClock();
  const start = clock.now() / 1000;
  const sign = createContextSigner({ privateKey, kid: 'test' }, TTL_SECONDS, clock);
  const verify = createContextVerifier(publicKey, clock);
  const issuedAt = (token: string) => decodeJwt(token).iat! - start;

  const busyFirst = await sign(busy);
  const idleFirst = await sign(idle);
  expect(busyFirst).not.toBe(idleFirst);
  expect(await sign(busy)).toBe(busyFirst);
  expect((await verify(busyFirst)).merchantId).toBe(busy.merchantId);
  expect(decodeJwt(busyFirst).exp! - decodeJwt(busyFirst).iat!).toBe(TTL_SECONDS);

  await clock.advance(15_000);
  expect(await sign(busy)).toBe(busyFirst); // in use

  // Due from 30 to 36 s (half its life, plus up to a tenth at random), swept every second: by 37 s
  // the sweep has begun signing the busy caller's next token without being asked. A request at 37 s
  // would have begun it at 37 s; the token's issue time says which it was.
  await clock.advance(22_000);
  let busySecond = busyFirst;
  await until("the busy caller's fresh token", async () => (busySecond = await sign(busy)) !== busyFirst);
  expect(issuedAt(busySecond)).toBeGreaterThanOrEqual(30);
  expect(issuedAt(busySecond)).toBeLessThanOrEqual(36);
  expect((await verify(busySecond)).merchantId).toBe(busy.merchantId);

  // The idle caller's token was left alone: its next use still gets it, and begins the refresh.
  expect(await sign(idle)).toBe(idleFirst);
  let idleSecond = idleFirst;
  await until("the idle caller's fresh token", async () => (idleSecond = await sign(idle)) !== idleFirst);
  expect(issuedAt(idleSecond)).toBe(37);
  expect((await verify(idleSecond)).merchantId).toBe(idle.merchantId);

  // Past three quarters of its life (45 s) a token is never handed out, used or not.
  const loneFirst = await sign(lone);
  await clock.advance(45_000);
  const loneSecond = await sign(lone);
  expect(loneSecond).not.toBe(loneFirst);
  expect(issuedAt(loneSecond)).toBe(82);

  // A token is refused once its clock says it has expired (the verifier's cache too).
  const expiring = await sign({ ...busy, merchantId: '00000000-0000-4000-8000-000000000004' });
  expect((await verify(expiring)).merchantId).toBe('00000000-0000-4000-8000-000000000004');
  await clock.advance(TTL_SECONDS * 1000 + 1000);
  await expect(verify(expiring)).rejects.toThrow('Missing or invalid context token');
});

test("a context batch's signature holds for its minute on the verifier's clock, and not from the future", async () => {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const gatewayClock = fakeClock();
  const subgraphClock = fakeClock();
  const signBatch = createContextBatchSigner({ privateKey, kid: 'test' }, gatewayClock);
  const verifyBatch = createContextBatchVerifier(publicKey, subgraphClock);
  const body = JSON.stringify([{ query: '{ __typename }' }]);
  const signature = signBatch(body);
  await expect(verifyBatch(signature, body)).resolves.toBeUndefined();
  await expect(verifyBatch(signature, `${body} `)).rejects.toThrow('The batch signature does not cover this body');
  await subgraphClock.advance(59_000);
  await expect(verifyBatch(signature, body)).resolves.toBeUndefined();
  await subgraphClock.advance(2_000);
  await expect(verifyBatch(signature, body)).rejects.toThrow('Missing or invalid batch signature');
  // Signed by a gateway whose clock runs a minute ahead of the subgraph's: refused.
  await gatewayClock.advance(60_000 + 61_000);
  await expect(verifyBatch(signBatch(body), body)).rejects.toThrow('Missing or invalid batch signature');
});
