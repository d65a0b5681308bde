/**
 * With tracing on (core/tracing.ts), every operation the gateway sends to a subgraph for a request
 * carries that request's W3C `traceparent`, so the subgraph's span joins the request's trace. The
 * request's span, not each fetch's: operations of one request to one subgraph keep identical headers
 * and still share an HTTP request (see GatewayPlugin.onSubgraphRequest). Only in the pipeline when
 * tracing is on.
 */
import type { GatewayPlugin } from './types.js';

export const TRACEPARENT_HEADER = 'traceparent';

export function useTraceContext(): GatewayPlugin {
  return {
    name: 'trace-context',
    onSubgraphRequest(headers, context) {
      const traceparent = context.traceparent;
      if (traceparent) headers[TRACEPARENT_HEADER] = traceparent;
    },
  };
}
