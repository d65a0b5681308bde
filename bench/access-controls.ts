/**
 * Scenario i: what the access layer's app controls cost on the ISV order page. The same page, the
 * same app and data, on two stacks side by side: one with every control on and in use (each request
 * signed with hmac-sha256 and a fresh nonce, the app's IP allow list admitting the bench's address
 * only, the cost bucket and daily quota counted, the call report aggregated and flushed), the other
 * with ACCESS_CONTROLS=off (benchmark-only: those stages left out of the pipeline). Alternated
 * on/off so drift on this shared machine hits both alike.
 *
 * The app's bucket and quota are raised (operator overrides) so that the load is measured, not
 * throttled: the bucket still takes and refunds every request's cost.
 */
import autocannon from 'autocannon';
import { signRequest } from '../core/request-signer.js';
import { resultOf, type ScenarioResult } from './scenario-result.js';

export interface AccessControlStacks {
  /** The gateway with every control on, and its public URL (what `@target-uri` names). */
  on: { gatewayUrl: string; pids: Record<string, number | undefined> };
  off: { gatewayUrl: string; pids: Record<string, number | undefined> };
  appKey: string;
  appSecret: string;
  /** `authorization` for each stack (tokens are issued per stack's public URL). */
  authOn: Record<string, string>;
  authOff: Record<string, string>;
  body: string;
  duration: number;
  connections: number;
  rounds: number;
  /** Adds the CPU each service spent per request (run.ts `measured`). */
  measured(run: () => Promise<ScenarioResult>, pids: Record<string, number | undefined>): Promise<ScenarioResult>;
  report(result: ScenarioResult): void;
}

/**
 * Signed requests for one load: each with its own nonce, created just before the load (the
 * gateway accepts 300 s of age). Signed ahead so that signing costs the load generator nothing
 * while it measures; handed out in turn to every connection.
 */
async function signedPool(s: AccessControlStacks, count: number): Promise<Record<string, string>[]> {
  const pool: Record<string, string>[] = [];
  for (let i = 0; i < count; i++) {
    pool.push(await signRequest({ method: 'POST', url: s.on.gatewayUrl, body: s.body, keyid: s.appKey, key: { alg: 'hmac-sha256', secret: s.appSecret } }));
  }
  return pool;
}

async function loadSigned(s: AccessControlStacks, seconds: number): Promise<autocannon.Result> {
  // Enough for the load at up to 1,000 requests a second, plus the warm-up's.
  const pool = await signedPool(s, Math.ceil(seconds * 1000));
  let next = 0;
  const result = await autocannon({
    url: s.on.gatewayUrl,
    connections: s.connections,
    pipelining: 1,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const signature = pool[next++];
          if (!signature) throw new Error('i-access-controls: the pool of signed requests ran out');
          return { ...request, body: s.body, headers: { 'content-type': 'application/json', ...s.authOn, ...signature } };
        },
      },
    ],
  });
  return result;
}

const asResult = (target: string, s: AccessControlStacks, result: autocannon.Result, seconds: number) => resultOf('i-access-controls', target, s.connections, seconds, result);

export async function runAccessControlScenario(s: AccessControlStacks): Promise<{ rounds: { on: ScenarioResult; off: ScenarioResult }[] }> {
  const on = () =>
    s.measured(async () => {
      await loadSigned(s, Math.min(3, s.duration)); // warm-up: JIT, pools, plan cache
      return asResult('controls-on', s, await loadSigned(s, s.duration), s.duration);
    }, s.on.pids);
  const off = () =>
    s.measured(async () => {
      const options = { url: s.off.gatewayUrl, method: 'POST' as const, headers: { 'content-type': 'application/json', ...s.authOff }, body: s.body, connections: s.connections, pipelining: 1 };
      await autocannon({ ...options, duration: Math.min(3, s.duration) });
      return asResult('controls-off', s, await autocannon({ ...options, duration: s.duration }), s.duration);
    }, s.off.pids);
  const rounds: { on: ScenarioResult; off: ScenarioResult }[] = [];
  for (let i = 0; i < s.rounds; i++) {
    // Which stack goes first alternates: the first of a pair measured consistently slower in b.
    const first = i % 2 === 0 ? await on() : await off();
    const second = i % 2 === 0 ? await off() : await on();
    const pair = i % 2 === 0 ? { on: first, off: second } : { on: second, off: first };
    s.report(pair.on);
    s.report(pair.off);
    rounds.push(pair);
  }
  return { rounds };
}
