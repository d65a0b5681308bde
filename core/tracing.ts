/**
 * OpenTelemetry tracing, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set. Then each HTTP request a
 * service serves runs in a SERVER span; the gateway's spans of planning and fetching
 * (@apollo/gateway's own `gateway.request`, `gateway.plan`, `gateway.fetch`...) nest under its
 * request's span, the subgraphs' requests carry the request span's W3C `traceparent`, and each
 * subgraph continues that trace: one trace per call, across every service. Spans go to
 * `<endpoint>/v1/traces` over OTLP/HTTP in batches.
 *
 * Off, none of the SDK is loaded and nothing wraps any handler: `startTracing` answers undefined
 * and callers keep their plain paths.
 */
import type http from 'node:http';
import type { Context, Span, TextMapPropagator, Tracer } from '@opentelemetry/api';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => unknown;

export interface Tracing {
  /**
   * `handler` with each request in a SERVER span named `<service> <method> <path>`, ended when the
   * answer is sent. `continueTrace`: whether a `traceparent` the request came with is the span's
   * parent (the subgraphs, which only the gateway reaches). The gateway starts a trace of its own
   * for each request and links the client's, so no client can write into another's trace.
   */
  traceRequests(service: string, handler: Handler, options: { continueTrace: boolean }): Handler;
  /** The `traceparent` of the span the code runs in now (the request being served), for the requests it sends on. */
  currentTraceparent(): string | undefined;
  /** Sends every span still buffered, then stops. */
  shutdown(): Promise<void>;
}

/** OTLP/HTTP's path for traces under a base endpoint (as OTEL_EXPORTER_OTLP_ENDPOINT is defined). */
export const tracesUrl = (endpoint: string): string => new URL('v1/traces', endpoint.endsWith('/') ? endpoint : `${endpoint}/`).toString();

export async function startTracing(options: { endpoint: string | undefined; serviceName: string }): Promise<Tracing | undefined> {
  if (!options.endpoint) return undefined;
  const [api, base, { OTLPTraceExporter }, { AsyncLocalStorageContextManager }, { W3CTraceContextPropagator }, { Resource }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
  ]);
  const provider = new base.BasicTracerProvider({
    resource: new Resource({ 'service.name': options.serviceName }),
    spanProcessors: [new base.BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(options.endpoint) }))],
  });
  const propagator: TextMapPropagator = new W3CTraceContextPropagator();
  // Global, so that @apollo/gateway's spans (it asks the global API for its tracer) are recorded and
  // nest under the request's span through the async context.
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable(), propagator });
  const tracer: Tracer = provider.getTracer('portico');

  const spanFor = (service: string, req: http.IncomingMessage, continueTrace: boolean): { span: Span; context: Context } => {
    const given = api.propagation.extract(api.ROOT_CONTEXT, req.headers);
    const givenSpan = api.trace.getSpanContext(given);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const parent = continueTrace ? given : api.ROOT_CONTEXT;
    const span = tracer.startSpan(
      `${service} ${req.method ?? 'GET'} ${path}`,
      {
        kind: api.SpanKind.SERVER,
        attributes: { 'http.request.method': req.method ?? 'GET', 'url.path': path, 'portico.service': service },
        ...(!continueTrace && givenSpan && api.isSpanContextValid(givenSpan) ? { links: [{ context: givenSpan }] } : {}),
      },
      parent,
    );
    return { span, context: api.trace.setSpan(parent, span) };
  };

  return {
    traceRequests(service, handler, { continueTrace }) {
      return (req, res) => {
        const { span, context } = spanFor(service, req, continueTrace);
        res.once('close', () => {
          span.setAttribute('http.response.status_code', res.statusCode);
          if (res.statusCode >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR });
          span.end();
        });
        return api.context.with(context, () => handler(req, res));
      };
    },
    currentTraceparent() {
      const carrier: Record<string, string> = {};
      propagator.inject(api.context.active(), carrier, api.defaultTextMapSetter);
      return carrier.traceparent;
    },
    async shutdown() {
      await provider.shutdown();
      // So that a later start in the same process (tests) registers afresh.
      api.trace.disable();
      api.context.disable();
      api.propagation.disable();
    },
  };
}
