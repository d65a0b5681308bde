import type autocannon from 'autocannon';

/** One line of a benchmark's report: a load's figures (autocannon's), and whatever a scenario adds. */
export interface ScenarioResult {
  scenario: string;
  target: string;
  connections: number;
  durationSeconds: number;
  requests: number;
  errors: number;
  non2xx: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  [extra: string]: unknown;
}

/** A report line from autocannon's result. */
export function resultOf(scenario: string, target: string, connections: number, seconds: number, result: autocannon.Result): ScenarioResult {
  return {
    scenario,
    target,
    connections,
    durationSeconds: seconds,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
  };
}
