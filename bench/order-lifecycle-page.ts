/**
 * Scenario j: what the order lifecycle adds to the ISV order page. The same stack, app and data:
 * today's page (scenario b) and the page with each order's shipments (with their tracking) and
 * after-sales cases selected as well, alternated for `rounds` rounds (which goes first alternating)
 * so drift on this shared machine hits both alike. The demo data set has shipments on most orders
 * and cases on some (demo/seed.ts).
 */
import type { ScenarioResult } from './scenario-result.js';

/** Today's page (scenario b). */
export const ORDER_PAGE = '{ orders(first: 50) { edges { node { number status total { amount currency } lines { quantity product { title } } buyer { nickname } merchant { name } } } } }';

/**
 * The page with what the lifecycle added: the refunded total, shipments, and after-sales cases.
 * (A case's amounts are left out: Money that deep in the page goes over the gateway's static cost
 * limit, graphql-armor's depth-weighted count; the order's own `refunded` says the money.)
 */
export const LIFECYCLE_ORDER_PAGE = `{ orders(first: 50) { edges { node { number status total { amount currency } lines { quantity product { title } } buyer { nickname } merchant { name }
  refunded { amount currency }
  shipments { carrier trackingNumber status shippedAt deliveredAt }
  afterSaleCases(first: 5) { totalCount nodes { kind status } } } } } }`;

export interface LifecyclePageOptions {
  /** Fails unless the body is answered without errors (run.ts `checkedQuery`): a refused query would measure nothing. */
  check(body: string): Promise<void>;
  /** One load of the given body against the stack (run.ts `load`, with the stack's URL and token). */
  load(target: 'today' | 'lifecycle', body: string): Promise<ScenarioResult>;
  /** Adds the CPU each service spent per request (run.ts `measured`). */
  measured(run: () => Promise<ScenarioResult>): Promise<ScenarioResult>;
  report(result: ScenarioResult): void;
  rounds: number;
}

export async function runOrderLifecyclePage(options: LifecyclePageOptions) {
  const today = JSON.stringify({ query: ORDER_PAGE });
  const lifecycle = JSON.stringify({ query: LIFECYCLE_ORDER_PAGE });
  await options.check(today);
  await options.check(lifecycle);
  const measureToday = () => options.measured(() => options.load('today', today));
  const measureLifecycle = () => options.measured(() => options.load('lifecycle', lifecycle));
  // A warm-up of each, not counted.
  await measureToday();
  await measureLifecycle();
  const rounds: { today: ScenarioResult; lifecycle: ScenarioResult }[] = [];
  for (let i = 0; i < options.rounds; i++) {
    const first = i % 2 === 0 ? await measureToday() : await measureLifecycle();
    const second = i % 2 === 0 ? await measureLifecycle() : await measureToday();
    const pair = i % 2 === 0 ? { today: first, lifecycle: second } : { today: second, lifecycle: first };
    options.report(pair.today);
    options.report(pair.lifecycle);
    rounds.push(pair);
  }
  return rounds;
}
