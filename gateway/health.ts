/**
 * GET /healthz: the gateway is up, and each subgraph answers its own /healthz. 200 with
 * `status: ok` when all do, 503 with `status: degraded` and each subgraph's state otherwise.
 */
import type http from 'node:http';
import type { Clock } from '../core/clock.js';
import { sendJson } from '../core/http.js';

/** The route is public: the subgraphs are asked at most this often, however often it is called. */
const CHECK_REUSED_MS = 1000;
/** A subgraph that has not answered in this long is unreachable. */
const SUBGRAPH_TIMEOUT_MS = 2000;

export function createHealthCheck(options: { subgraphUrls: Record<string, string>; clock: Clock }) {
  const { clock } = options;
  let last: { at: number; checks: Promise<(readonly [string, string])[]> } | undefined;

  function checkSubgraphs() {
    return Promise.all(
      Object.entries(options.subgraphUrls).map(async ([name, url]) => {
        try {
          const response = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(SUBGRAPH_TIMEOUT_MS) });
          return [name, response.ok ? 'ok' : `http ${response.status}`] as const;
        } catch {
          return [name, 'unreachable'] as const;
        }
      }),
    );
  }

  return async function health(res: http.ServerResponse) {
    const now = clock.now();
    if (!last || now - last.at > CHECK_REUSED_MS) last = { at: now, checks: checkSubgraphs() };
    const checks = await last.checks;
    const healthy = checks.every(([, status]) => status === 'ok');
    sendJson(res, healthy ? 200 : 503, { status: healthy ? 'ok' : 'degraded', subgraphs: Object.fromEntries(checks) });
  };
}
