/**
 * Every request has an id: the caller's `x-request-id` when it is sane, a fresh one otherwise. It
 * goes back on the answer, into the logs, and on every operation sent to a subgraph for the request.
 */
import crypto from 'node:crypto';
import { REQUEST_ID_HEADER } from '../../core/http.js';
import type { GatewayPlugin } from './types.js';

const SANE_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export function useRequestId(): GatewayPlugin {
  return {
    name: 'request-id',
    onRequest(req, state) {
      const given = req.headers[REQUEST_ID_HEADER];
      state.requestId = typeof given === 'string' && SANE_ID.test(given) ? given : crypto.randomUUID();
    },
    onSubgraphRequest(headers, context) {
      const requestId = context.requestId;
      if (requestId) headers[REQUEST_ID_HEADER] = requestId;
    },
  };
}
