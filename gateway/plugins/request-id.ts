/** Gives every request an id (the caller's `x-request-id` when it is sane), forwarded to subgraphs and logs. */
import crypto from 'node:crypto';
import type { GatewayPlugin } from './types.js';

const SANE_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export function useRequestId(): GatewayPlugin {
  return {
    name: 'request-id',
    onRequest(req, state) {
      const given = req.headers['x-request-id'];
      state.requestId = typeof given === 'string' && SANE_ID.test(given) ? given : crypto.randomUUID();
    },
  };
}
