/**
 * Every request has an id: the caller's `x-request-id` when it is sane, a fresh one otherwise. It
 * goes back on the answer, into the logs, and on every operation sent to a subgraph for the request.
 * The same first stage notes where the request comes from (core/client-address.ts), which the
 * later stages (IP allow list, per-IP limits, call report) read.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import { REQUEST_ID_HEADER } from '../../core/http.js';
import type { GatewayPlugin } from './types.js';

const SANE_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export function useRequestId(options: { clientAddress(req: http.IncomingMessage): string }): GatewayPlugin {
  return {
    name: 'request-id',
    onRequest(req, state) {
      const given = req.headers[REQUEST_ID_HEADER];
      state.requestId = typeof given === 'string' && SANE_ID.test(given) ? given : crypto.randomUUID();
      state.clientAddress = options.clientAddress(req);
    },
    onSubgraphRequest(headers, context) {
      const requestId = context.requestId;
      if (requestId) headers[REQUEST_ID_HEADER] = requestId;
    },
  };
}
