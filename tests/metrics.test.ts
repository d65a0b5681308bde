/**
 * /metrics over real HTTP: served only with METRICS_TOKEN as a bearer token, in Prometheus' text
 * format (parsed here), counting requests by outcome, errors by code, latency by operation with
 * the number of operation labels bounded, throttled calls and open subscriptions.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer } from '../core/http.js';
import { MAX_OPERATION_LABELS, OTHER_LABEL, createGatewayMetrics, createMetricsRoute } from '../gateway/metrics.js';
import { createMerchant } from './helpers/factories.js';
import { connectWs, subscribeWs } from './helpers/messages.js';
import { startTestPlatform, waitUntil, type TestPlatform } from './helpers/platform.js';

const METRICS_TOKEN = crypto.randomBytes(24).toString('base64url');
let t: TestPlatform;

beforeAll(async () => {
  t = await startTestPlatform({ extraEnv: { METRICS_TOKEN } });
}, 60_000);
afterAll(() => t?.stop());

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus' text exposition format (0.0.4): `# TYPE` lines and `name{label="value",...} number` samples. */
function parsePrometheus(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!sample) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const raw = sample[3]!;
    samples.push({ name: sample[1]!, labels, value: raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw) });
  }
  return { types, samples };
}

const metricsUrl = () => new URL('/metrics', t.url).toString();

async function scrape() {
  const response = await fetch(metricsUrl(), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await response.text());
}

const valueOf = (samples: Sample[], name: string, labels: Record<string, string>) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value ?? 0;

describe('/metrics', () => {
  test('needs METRICS_TOKEN as a bearer token; no metric names an app or a merchant', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${METRICS_TOKEN}`, `Bearer ${METRICS_TOKEN}x`]) {
      const response = await fetch(metricsUrl(), { headers: authorization ? { authorization } : {} });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(await response.text()).not.toMatch(/portico_/);
    }
    const merchantId = crypto.randomUUID();
    await t.gql(await t.token({ merchantId }), 'query Warm { viewerApp { key } }');
    const { samples } = await scrape();
    const labelValues = samples.flatMap((s) => Object.values(s.labels));
    expect(labelValues).not.toContain('app_test');
    expect(labelValues).not.toContain(merchantId);
  });

  test('counts requests by outcome, errors by code and latency by operation; throttled calls and open subscriptions are there from the start', async () => {
    const before = (await scrape()).samples;
    const token = await t.token({ merchantId: crypto.randomUUID() });
    for (let i = 0; i < 3; i++) expect((await t.gql(token, 'query MetricsViewer { viewerApp { key } }')).errors).toBeUndefined();
    expect((await t.gql(token, 'query MetricsBroken { viewerApp { nope } }')).errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await t.gql(null, '{ viewerApp { key } }')).status).toBe(401);

    const { types, samples } = await scrape();
    const delta = (name: string, labels: Record<string, string>) => valueOf(samples, name, labels) - valueOf(before, name, labels);
    expect(types.get('portico_requests_total')).toBe('counter');
    expect(types.get('portico_request_duration_seconds')).toBe('histogram');
    expect(types.get('portico_subscriptions_open')).toBe('gauge');
    expect(delta('portico_requests_total', { outcome: 'OK', refused: 'false' })).toBe(3);
    expect(delta('portico_requests_total', { outcome: 'GRAPHQL_VALIDATION_FAILED', refused: 'false' })).toBe(1);
    // Refused by a stage before execution (no token): counted too, caller unknown.
    expect(delta('portico_requests_total', { outcome: 'UNAUTHENTICATED', refused: 'true' })).toBe(1);
    expect(delta('portico_errors_total', { code: 'GRAPHQL_VALIDATION_FAILED' })).toBe(1);
    expect(delta('portico_request_duration_seconds_count', { operation: 'MetricsViewer' })).toBe(3);
    expect(delta('portico_request_duration_seconds_bucket', { operation: 'MetricsViewer', le: '+Inf' })).toBe(3);
    expect(valueOf(samples, 'portico_request_duration_seconds_sum', { operation: 'MetricsViewer' })).toBeGreaterThan(0);
    // A name first seen in a failing call takes no label of its own.
    expect(samples.some((s) => s.labels.operation === 'MetricsBroken')).toBe(false);
    expect(samples.find((s) => s.name === 'portico_throttled_requests_total' && s.labels.code === 'THROTTLED')).toBeDefined();
    // Node's own.
    expect(types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
  });

  test('open subscriptions are counted while they are open', async () => {
    const openNow = async () => valueOf((await scrape()).samples, 'portico_subscriptions_open', {});
    expect(await openNow()).toBe(0);
    const merchant = await createMerchant(t);
    const client = connectWs(t.url, merchant.token);
    const subscription = subscribeWs(client, 'subscription { orderEvents { id } }');
    await waitUntil('the subscription counted', async () => (await openNow()) === 1);
    subscription.stop();
    await waitUntil('the subscription no longer counted', async () => (await openNow()) === 0);
    await client.dispose();
  });
});

describe('metrics, on their own', () => {
  test(`operation labels stop at ${MAX_OPERATION_LABELS}; later names are "${OTHER_LABEL}"`, async () => {
    const metrics = createGatewayMetrics({ openSubscriptions: () => 7 });
    const call = { caller: undefined, documentHash: '', outcome: 'OK', errorCodes: [], latencyMs: 3, requestedCost: 0, actualCost: 0, refused: false };
    for (let i = 0; i < MAX_OPERATION_LABELS + 20; i++) metrics.recordCall({ ...call, operationName: `Op${i}` });
    const { samples } = parsePrometheus((await metrics.scrape()).body);
    const operations = new Set(samples.filter((s) => s.name === 'portico_request_duration_seconds_count').map((s) => s.labels.operation));
    expect(operations.size).toBe(MAX_OPERATION_LABELS + 1);
    expect(valueOf(samples, 'portico_request_duration_seconds_count', { operation: OTHER_LABEL })).toBe(20);
    expect(valueOf(samples, 'portico_subscriptions_open', {})).toBe(7);
  });

  test('without METRICS_TOKEN the route does not exist', async () => {
    const route = createMetricsRoute({ token: undefined, metrics: createGatewayMetrics({ openSubscriptions: () => 0 }) });
    const server = http.createServer(async (req, res) => {
      if (!(await route(req, res))) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`, { headers: { authorization: 'Bearer anything' } });
      expect(response.status).toBe(404);
    } finally {
      await closeServer(server);
    }
  });
});
