/**
 * The gateway's Prometheus metrics (`/metrics`, prom-client): requests by outcome, errors by code,
 * latency by operation, throttled calls, open subscriptions, and Node's own (event loop, heap, GC,
 * CPU). They are the platform's operating figures, not anyone's business data: no label names an
 * app or a merchant (per-app figures are the call report's, behind their own authorization), and
 * every label's values are bounded, so a client cannot grow the series without end.
 *
 * Served only to a scraper that presents METRICS_TOKEN as a bearer token; without it /metrics does
 * not exist: a gateway facing the internet does not publish its traffic by default.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LATENCY_BOUNDS_MS } from '../core/latency-histogram.js';
import type { CallSink, FinishedCall } from './plugins/call-report.js';

/** Operation names that get a label of their own: the first this many seen in calls that succeeded. */
export const MAX_OPERATION_LABELS = 100;
/** Outcomes and error codes that get a label of their own (the platform's codes are far fewer). */
export const MAX_CODE_LABELS = 50;
/** The label of every operation past the first MAX_OPERATION_LABELS, and of codes past MAX_CODE_LABELS. */
export const OTHER_LABEL = 'other';
/** The label of anonymous operations (and of calls refused before their document was read). */
export const ANONYMOUS_LABEL = 'anonymous';
/** The codes of flow control's refusals. */
const THROTTLING_CODES = ['THROTTLED', 'QUOTA_EXCEEDED'];

/**
 * A label's values, bounded: the first `max` values seen get their own, later ones `other`.
 * `admit` says whether a value may take one of the places (an operation only from a call that
 * succeeded, so failing documents cannot crowd out the real ones).
 */
function boundedLabel(max: number) {
  const known = new Set<string>();
  return (value: string, admit = true): string => {
    if (known.has(value)) return value;
    if (!admit || known.size >= max) return OTHER_LABEL;
    known.add(value);
    return value;
  };
}

export interface GatewayMetrics extends CallSink {
  /** The metrics in Prometheus' text format. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

export function createGatewayMetrics(options: { openSubscriptions(): number }): GatewayMetrics {
  const register = new Registry();
  collectDefaultMetrics({ register });
  const requests = new Counter({
    name: 'portico_requests_total',
    help: 'Calls to /graphql (HTTP, and operations over WebSocket connections) by outcome: OK or the code of the first error; refused: whether a pipeline stage refused it before execution.',
    labelNames: ['outcome', 'refused'] as const,
    registers: [register],
  });
  const errors = new Counter({
    name: 'portico_errors_total',
    help: 'Errors in answers, by extensions.code (an answer with several errors counts each).',
    labelNames: ['code'] as const,
    registers: [register],
  });
  const duration = new Histogram({
    name: 'portico_request_duration_seconds',
    help: `Latency at the gateway from a request's arrival to its answer, by operation name (the first ${MAX_OPERATION_LABELS} names of successful calls; others "${OTHER_LABEL}").`,
    labelNames: ['operation'] as const,
    // The call report's buckets, so the two agree.
    buckets: LATENCY_BOUNDS_MS.map((ms) => ms / 1000),
    registers: [register],
  });
  const throttled = new Counter({
    name: 'portico_throttled_requests_total',
    help: 'Calls flow control refused: THROTTLED (the cost bucket was empty) or QUOTA_EXCEEDED (the daily quota was used up).',
    labelNames: ['code'] as const,
    registers: [register],
  });
  // Present from the start at 0, so a rate over them is defined before the first refusal.
  for (const code of THROTTLING_CODES) throttled.inc({ code }, 0);
  new Gauge({
    name: 'portico_subscriptions_open',
    help: 'Message subscriptions (WebSocket and SSE) open on this gateway.',
    registers: [register],
    collect() {
      this.set(options.openSubscriptions());
    },
  });
  const operationLabel = boundedLabel(MAX_OPERATION_LABELS);
  const codeLabel = boundedLabel(MAX_CODE_LABELS);

  return {
    recordCall(call: FinishedCall) {
      requests.inc({ outcome: codeLabel(call.outcome), refused: call.refused ? 'true' : 'false' });
      for (const code of call.errorCodes) errors.inc({ code: codeLabel(code) });
      if (THROTTLING_CODES.includes(call.outcome)) throttled.inc({ code: call.outcome });
      const operation = call.operationName ? operationLabel(call.operationName, !call.errorCodes.length) : ANONYMOUS_LABEL;
      duration.observe({ operation }, call.latencyMs / 1000);
    },
    async scrape() {
      return { contentType: register.contentType, body: await register.metrics() };
    },
  };
}

/**
 * The /metrics route: 404 without METRICS_TOKEN (as any path the gateway does not serve), 401 for
 * a request without that bearer token, the metrics otherwise. The token is compared in constant
 * time (as digests, so its length does not show either).
 */
export function createMetricsRoute(options: { token: string | undefined; metrics: Pick<GatewayMetrics, 'scrape'> }) {
  const expected = options.token ? crypto.createHash('sha256').update(options.token).digest() : undefined;
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    if (!expected) return false;
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!crypto.timingSafeEqual(crypto.createHash('sha256').update(given).digest(), expected)) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="metrics"' });
      res.end('The metrics need the bearer token set in METRICS_TOKEN\n');
      return true;
    }
    const { contentType, body } = await options.metrics.scrape();
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
    res.end(body);
    return true;
  };
}
