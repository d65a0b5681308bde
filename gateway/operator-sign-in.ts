/**
 * POST /auth/operator/token: platform staff exchange email and password for an operator token
 * (1 hour). Failures are slowed by scrypt and lock the account after repeated attempts
 * (app-management's operatorSignIn); answers follow OAuth's token-endpoint error shape.
 */
import type http from 'node:http';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { PorticoError } from '../core/errors.js';
import { HttpError, readBody, sendJson } from '../core/http.js';
import type { PlatformKeys } from '../core/keys.js';
import { mintOperatorToken } from '../core/tokens.js';
import type { InternalClient } from './upstream/internal-client.js';

const OPERATOR_TOKEN_TTL_SECONDS = 3600;
const Credentials = z.object({ email: z.string().min(3).max(320), password: z.string().min(1).max(1024) });

export function createOperatorSignIn(deps: { callSubgraph: InternalClient; appManagementUrl: string; keys: PlatformKeys; issuer: string; audience: string; clock: Clock }) {
  return async function operatorSignIn(req: http.IncomingMessage, res: http.ServerResponse) {
    if (req.method !== 'POST') throw new HttpError(405, 'Use POST', 'BAD_REQUEST');
    const raw = await readBody(req, 10_000);
    let fields: unknown;
    try {
      const type = req.headers['content-type'] ?? '';
      fields = type.includes('application/x-www-form-urlencoded') ? Object.fromEntries(new URLSearchParams(raw)) : JSON.parse(raw);
    } catch {
      return sendJson(res, 400, { error: 'invalid_request', error_description: 'Send email and password as JSON or a form' });
    }
    const credentials = Credentials.safeParse(fields);
    if (!credentials.success) return sendJson(res, 400, { error: 'invalid_request', error_description: 'email and password are required' });
    try {
      const { operatorSignIn } = await deps.callSubgraph<{ operatorSignIn: { operatorId: string } }>(
        deps.appManagementUrl,
        'mutation SignIn($email: String!, $password: String!) { operatorSignIn(email: $email, password: $password) { operatorId } }',
        credentials.data,
      );
      const token = await mintOperatorToken(deps.keys, { issuer: deps.issuer, audience: deps.audience, operatorId: operatorSignIn.operatorId, ttlSeconds: OPERATOR_TOKEN_TTL_SECONDS, clock: deps.clock });
      return sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: OPERATOR_TOKEN_TTL_SECONDS }, { 'cache-control': 'no-store' });
    } catch (error) {
      if (error instanceof PorticoError && error.extensions.code === 'UNAUTHENTICATED') {
        return sendJson(res, 401, { error: 'invalid_grant', error_description: error.message }, { 'cache-control': 'no-store' });
      }
      throw error;
    }
  };
}
