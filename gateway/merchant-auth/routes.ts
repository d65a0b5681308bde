/**
 * The merchant page's account endpoints, under /auth/merchant/ (gateway/sessions/auth-routes.ts:
 * JSON in, JSON out, never cached). Each calls the account service's internal operations
 * (subgraphs/account/staff-sessions.ts):
 *
 * - POST sign-in {email, password} → 200 {staff: {id, name, email}, merchant: {id, name}, csrfToken}
 *   with the session cookies (a session the request's cookie still named ends); 401 invalid_grant;
 *   429 account_locked with Retry-After (the passport's staff lockout).
 * - POST sign-out (x-csrf-token) → 204, the session ended and both cookies cleared.
 * - GET session → 200 {staff, merchant, csrfToken}, or 401.
 */
import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { sessionTokenHash } from '../sessions/cookie-sessions.js';
import { NO_STORE, authRouter, jsonBody, sendAccountLocked, sendAuthJson, sendInvalidRequest } from '../sessions/auth-routes.js';
import type { InternalClient } from '../upstream/internal-client.js';
import { STAFF_SESSION_FIELDS, profileOf, type MerchantSessions, type StaffSessionAnswer } from './session.js';

export const MERCHANT_AUTH_PREFIX = '/auth/merchant/';
const MAX_PASSWORD_LENGTH = 1024;

const SignIn = z.object({ email: z.string().trim().min(1).max(320), password: z.string().min(1).max(MAX_PASSWORD_LENGTH) });

const SIGN_IN = `mutation StaffSignIn($email: String!, $password: String!, $hash: String!) {
  staffSignIn(email: $email, password: $password, sessionTokenHash: $hash) { outcome lockedUntil session { ${STAFF_SESSION_FIELDS} } }
}`;
const SIGN_OUT = 'mutation StaffSignOut($hash: String!) { staffSignOut(tokenHash: $hash) }';

export function createMerchantAuthRoutes(deps: { callSubgraph: InternalClient; accountUrl: string; sessions: MerchantSessions; clock: Clock }) {
  const { sessions } = deps;
  const call = <T>(query: string, variables: Record<string, unknown>) => deps.callSubgraph<T>(deps.accountUrl, query, variables);

  /** Ends a session (in the account service, and in this gateway's cache at once). */
  async function endSession(token: string) {
    await call(SIGN_OUT, { hash: sessionTokenHash(token) });
    sessions.forget(token);
  }

  return authRouter(MERCHANT_AUTH_PREFIX, {
    async 'POST sign-in'(req, res) {
      const input = SignIn.safeParse(await jsonBody(req));
      if (!input.success) return sendInvalidRequest(res, input.error);
      const { token: sessionToken, hash } = sessions.newSessionToken();
      const { staffSignIn: result } = await call<{ staffSignIn: { outcome: string; lockedUntil: string | null; session: StaffSessionAnswer | null } }>(SIGN_IN, { ...input.data, hash });
      if (result.outcome === 'OK' && result.session) {
        // A session this browser still held ends: one browser, one session (and no token kept from before sign-in).
        const previous = sessions.tokenOf(req);
        if (previous) await endSession(previous);
        res.setHeader('set-cookie', sessions.cookies(sessionToken, Date.parse(result.session.expiresAt)));
        return sendAuthJson(res, 200, { ...profileOf(result.session), csrfToken: sessions.csrfTokenOf(sessionToken) });
      }
      if (result.outcome === 'LOCKED') return sendAccountLocked(res, result.lockedUntil, deps.clock);
      sendAuthJson(res, 401, { error: 'invalid_grant', error_description: 'Wrong email or password' });
    },
    async 'POST sign-out'(req, res) {
      const sessionToken = sessions.tokenOf(req);
      if (sessionToken) {
        if (!sessions.csrfHolds(req, sessionToken)) return sendAuthJson(res, 403, { error: 'csrf_token_invalid', error_description: 'Send the x-csrf-token header' });
        await endSession(sessionToken);
      }
      res.writeHead(204, { ...NO_STORE, 'set-cookie': sessions.clearedCookies() });
      res.end();
    },
    async 'GET session'(req, res) {
      const sessionToken = sessions.tokenOf(req);
      const session = sessionToken ? await sessions.sessionOf(sessionToken) : null;
      if (!sessionToken || !session) return sendAuthJson(res, 401, { error: 'unauthenticated', error_description: 'Not signed in' });
      sendAuthJson(res, 200, { ...session.principal, csrfToken: sessions.csrfTokenOf(sessionToken) });
    },
  });
}
