/**
 * POST /auth/operator/token: platform staff exchange email, password and a second factor (a TOTP
 * code, or one of their recovery codes) for an operator token (1 hour), for scripts. An operator who
 * has not enrolled a second factor enrolls in the console first (403 mfa_enrolment_required). Wrong
 * passwords and codes are slowed and lock the account as the console's sign-in does
 * (app-management's operatorTokenSignIn); answers follow OAuth's token-endpoint error shape.
 */
import type http from 'node:http';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { HttpError, readBody } from '../core/http.js';
import type { PlatformKeys } from '../core/keys.js';
import { mintOperatorToken } from '../core/tokens.js';
import { sendAccountLocked, sendAuthJson } from './sessions/auth-routes.js';
import type { InternalClient } from './upstream/internal-client.js';

const OPERATOR_TOKEN_TTL_SECONDS = 3600;
const Credentials = z
  .object({
    email: z.string().min(3).max(320),
    password: z.string().min(1).max(1024),
    code: z.string().min(1).max(64).optional(),
    recoveryCode: z.string().min(1).max(64).optional(),
  })
  .refine((input) => !input.code !== !input.recoveryCode, { message: 'give code (from the authenticator) or recoveryCode' });

export function createOperatorSignIn(deps: { callSubgraph: InternalClient; appManagementUrl: string; keys: PlatformKeys; issuer: string; audience: string; clock: Clock }) {
  return async function operatorSignIn(req: http.IncomingMessage, res: http.ServerResponse) {
    if (req.method !== 'POST') throw new HttpError(405, 'Use POST', 'BAD_REQUEST');
    const raw = await readBody(req, 10_000);
    let fields: unknown;
    try {
      const type = req.headers['content-type'] ?? '';
      fields = type.includes('application/x-www-form-urlencoded') ? Object.fromEntries(new URLSearchParams(raw)) : JSON.parse(raw);
    } catch {
      return sendAuthJson(res, 400, { error: 'invalid_request', error_description: 'Send email, password and code as JSON or a form' });
    }
    const credentials = Credentials.safeParse(fields);
    if (!credentials.success) return sendAuthJson(res, 400, { error: 'invalid_request', error_description: 'email, password and code (or recoveryCode) are required' });
    const { email, password, code = null, recoveryCode = null } = credentials.data;
    const { operatorTokenSignIn: result } = await deps.callSubgraph<{ operatorTokenSignIn: { outcome: string; lockedUntil: string | null; operatorId: string | null } }>(
      deps.appManagementUrl,
      'mutation SignIn($email: String!, $password: String!, $code: String, $recoveryCode: String) { operatorTokenSignIn(email: $email, password: $password, code: $code, recoveryCode: $recoveryCode) { outcome lockedUntil operatorId } }',
      { email, password, code, recoveryCode },
    );
    switch (result.outcome) {
      case 'OK': {
        const token = await mintOperatorToken(deps.keys, { issuer: deps.issuer, audience: deps.audience, operatorId: result.operatorId!, ttlSeconds: OPERATOR_TOKEN_TTL_SECONDS, clock: deps.clock });
        return sendAuthJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: OPERATOR_TOKEN_TTL_SECONDS });
      }
      case 'INVALID_CODE':
        return sendAuthJson(res, 401, { error: 'invalid_grant', error_description: 'The code is wrong, expired or already used' });
      case 'NOT_ENROLLED':
        return sendAuthJson(res, 403, { error: 'mfa_enrolment_required', error_description: 'Enrol a second factor first: sign in to the console at /console' });
      case 'DISABLED':
        return sendAuthJson(res, 403, { error: 'account_disabled', error_description: 'This operator account is disabled' });
      case 'LOCKED':
        return sendAccountLocked(res, result.lockedUntil, deps.clock);
      default:
        return sendAuthJson(res, 401, { error: 'invalid_grant', error_description: 'Wrong email or password' });
    }
  };
}
