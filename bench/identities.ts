/**
 * Scenario k: buyers' identities.
 * - k-order-page-openids: the ISV order page (scenario b) with each order's buyer's openid and
 *   unionid selected, against the same page without them, on one stack, alternated for `rounds`
 *   rounds (which goes first alternating) after a warm-up of each; the target is within 10 % at p50.
 *   The openids exist after the warm-up (minted the first time an app sees a buyer), so the rounds
 *   measure reading them, one batched query per page.
 * - k-bind-or-login: signing-in buyers per second through the one bind-or-login entry
 *   (bindBuyer): each request a demo buyer, by the app's openid of them, on a device (guest id)
 *   never seen before, so each links a new guest id to a known buyer in its own transaction.
 */
import crypto from 'node:crypto';
import autocannon from 'autocannon';
import { ORDER_PAGE } from './order-lifecycle-page.js';
import { resultOf, type ScenarioResult } from './scenario-result.js';

/** The order page with the buyers' identifiers selected as well. */
export const ORDER_PAGE_WITH_OPENIDS = ORDER_PAGE.replace('buyer { nickname }', 'buyer { nickname openid unionid }');

const BIND = 'mutation Bind($input: BindBuyerInput!) { bindBuyer(input: $input) { created merged buyer { openid } } }';

export interface IdentityScenarioOptions {
  gatewayUrl: string;
  auth: Record<string, string>;
  connections: number;
  duration: number;
  /** Fails unless the body is answered without errors (run.ts `checkedQuery`); answers its JSON. */
  check(body: string): Promise<unknown>;
  load(target: 'without-openids' | 'with-openids', body: string): Promise<ScenarioResult>;
  measured(run: () => Promise<ScenarioResult>): Promise<ScenarioResult>;
  report(result: ScenarioResult): void;
  rounds: number;
}

export async function runIdentityScenarios(options: IdentityScenarioOptions) {
  const without = JSON.stringify({ query: ORDER_PAGE });
  const withOpenids = JSON.stringify({ query: ORDER_PAGE_WITH_OPENIDS });
  await options.check(without);
  const page = (await options.check(withOpenids)) as { data: { orders: { edges: { node: { buyer: { openid: string } | null } }[] } } };
  const openids = [...new Set(page.data.orders.edges.map((e) => e.node.buyer?.openid).filter((o): o is string => !!o))];
  if (!openids.length) throw new Error('the order page has no buyers to sign in');

  const measureWithout = () => options.measured(() => options.load('without-openids', without));
  const measureWith = () => options.measured(() => options.load('with-openids', withOpenids));
  await measureWithout();
  await measureWith();
  const rounds: { without: ScenarioResult; with: ScenarioResult }[] = [];
  for (let i = 0; i < options.rounds; i++) {
    const first = i % 2 === 0 ? await measureWithout() : await measureWith();
    const second = i % 2 === 0 ? await measureWith() : await measureWithout();
    const pair = i % 2 === 0 ? { without: first, with: second } : { without: second, with: first };
    options.report(pair.without);
    options.report(pair.with);
    rounds.push(pair);
  }

  // Sign-ins: a known buyer (round robin over the page's buyers) on a new device each time.
  let n = 0;
  const bindBody = () => JSON.stringify({ query: BIND, variables: { input: { openid: openids[n++ % openids.length], guestId: `bench-${crypto.randomUUID()}` } } });
  await options.check(bindBody());
  const request = { method: 'POST' as const, path: new URL(options.gatewayUrl).pathname, setupRequest: (req: object) => ({ ...req, body: bindBody() }) };
  const base = { url: options.gatewayUrl, headers: { 'content-type': 'application/json', ...options.auth }, connections: options.connections, pipelining: 1, requests: [request] };
  const signIns = await options.measured(async () => {
    await autocannon({ ...base, duration: Math.min(3, options.duration) });
    return resultOf('k-bind-or-login', 'gateway', options.connections, options.duration, await autocannon({ ...base, duration: options.duration }));
  });
  options.report({ ...signIns, signInsPerSecond: signIns.rps, buyers: openids.length });
  return { rounds, signIns };
}
