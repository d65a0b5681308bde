/**
 * OpenTelemetry tracing with OTEL_EXPORTER_OTLP_ENDPOINT set: a tiny OTLP/HTTP receiver in the test
 * gets the spans of one call, the gateway's request span, @apollo/gateway's plan and fetch spans
 * under it, and the subgraph's span as the child of the gateway's, all in one trace.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, readBody } from '../core/http.js';
import { startTracing, tracesUrl } from '../core/tracing.js';
import { startTestPlatform, type TestPlatform } from './helpers/platform.js';

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: number | string } }[];
  links?: { traceId: string; spanId: string }[];
}

const received: { path: string; contentType: string; spans: ExportedSpan[]; service: string }[] = [];
const receiver = http.createServer(async (req, res) => {
  const body = JSON.parse(await readBody(req, 10_000_000)) as {
    resourceSpans: { resource: { attributes: ExportedSpan['attributes'] }; scopeSpans: { spans: ExportedSpan[] }[] }[];
  };
  for (const resourceSpans of body.resourceSpans) {
    const service = resourceSpans.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
    received.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', service, spans: resourceSpans.scopeSpans.flatMap((s) => s.spans) });
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
});
let t: TestPlatform;

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t = await startTestPlatform({ extraEnv: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}` } });
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await closeServer(receiver);
});

const attribute = (span: ExportedSpan, key: string) => span.attributes.find((a) => a.key === key)?.value.stringValue;

test("one call is one trace: the gateway's request, its plan and fetch, and the subgraph's execution", async () => {
  // A client's own traceparent is linked, not continued: the gateway starts the trace.
  const clientTrace = crypto.randomBytes(16).toString('hex');
  const response = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token({ merchantId: crypto.randomUUID() })}`, traceparent: `00-${clientTrace}-${crypto.randomBytes(8).toString('hex')}-01` },
    body: JSON.stringify({ query: 'query Traced { viewerApp { key } }' }),
  });
  expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined();
  // Stopping the platform sends every span still buffered.
  await t.stop();

  expect(received.length).toBeGreaterThan(0);
  expect(received.every((r) => r.path === '/v1/traces' && r.contentType.startsWith('application/json') && r.service === 'portico')).toBe(true);
  const spans = received.flatMap((r) => r.spans);
  const request = spans.find((s) => s.name === 'gateway POST /graphql')!;
  expect(request).toBeDefined();
  expect(request.parentSpanId ?? '').toBe('');
  expect(request.traceId).not.toBe(clientTrace);
  expect(request.links?.map((l) => l.traceId)).toEqual([clientTrace]);
  const trace = spans.filter((s) => s.traceId === request.traceId);

  // @apollo/gateway's own spans, under the request's.
  const names = trace.map((s) => s.name);
  expect(names).toEqual(expect.arrayContaining(['gateway.request', 'gateway.plan', 'gateway.execute', 'gateway.fetch']));
  const ids = new Set(trace.map((s) => s.spanId));
  for (const span of trace.filter((s) => s !== request)) expect(ids.has(span.parentSpanId!)).toBe(true);
  expect(trace.find((s) => s.name === 'gateway.request')!.parentSpanId).toBe(request.spanId);

  // The subgraph continues the trace, as a child of the gateway's request span.
  const subgraph = trace.find((s) => s.name === 'app-management POST /graphql')!;
  expect(subgraph).toBeDefined();
  expect(subgraph.parentSpanId).toBe(request.spanId);
  expect(attribute(subgraph, 'portico.service')).toBe('app-management');
  // The gateway's own lookups (app access) are not the client's call and carry no trace of it.
  expect(trace.filter((s) => s.name.endsWith('POST /graphql')).every((s) => s === request || s.parentSpanId === request.spanId)).toBe(true);
});

test('off without an endpoint: nothing is started', async () => {
  expect(await startTracing({ endpoint: undefined, serviceName: 'portico' })).toBeUndefined();
  expect(tracesUrl('http://collector:4318')).toBe('http://collector:4318/v1/traces');
  expect(tracesUrl('http://collector:4318/otlp/')).toBe('http://collector:4318/otlp/v1/traces');
});
