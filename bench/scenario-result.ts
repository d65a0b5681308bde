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
