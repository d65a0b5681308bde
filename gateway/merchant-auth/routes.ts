/**
 * The merchant page's account endpoints, under /auth/merchant/ (JSON in, JSON out, never cached).
 * Each calls the account service's internal operations (subgraphs/account/staff-sessions.ts):
 *
 * - POST sign-in {email, password} → 200 {staff: {id, name, email}, merchant: {id, name}, csrfToken}
 *   with the session cookies (a session the request's cookie still named ends); 401 invalid_grant;
 *   429 account_locked with Retry-After (the passport's staff lockout).
 * - POST sign-out (x-csrf-token) → 204, the session ended and both cookies cleared.
 * - GET session → 200 {staff, merchant, csrfToken}, or 401.
 *
 * State-changing requests must be `application/json`: a page of another site can send a form or
 * text cross-site without asking, but not JSON (the browser asks first, and the gateway grants no
 * CORS), so none of these can be forged from elsewhere; sign-out also needs the CSRF header.
 */
import type http from 'node:http';
import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { HttpError, readBody, sendJson } from '../../core/http.js';
import { sessionTokenHash } from '../sessions/cookie-sessions.js';
import type { InternalClient } from '../upstream/internal-client.js';
import { STAFF_SESSION_FIELDS, profileOf, type MerchantSessions, type StaffSessionAnswer } from './session.js';

export const MERCHANT_AUTH_PREFIX = '/auth/merchant/';
const MAX_PASSWORD_LENGTH = 1024;
const MAX_BODY = 10_000;
const NO_STORE = { 'cache-control': 'no-store' };

const SignIn = z.object({ email: z.string().trim().min(1).max(320), password: z.string().min(1).max(MAX_PASSWORD_LENGTH) });

const SIGN_IN = `mutation StaffSignIn($email: String!, $password: String!, $hash: String!) {
  staffSignIn(email: $email, password: $password, sessionTokenHash: $hash) { outcome lockedUntil session { ${STAFF_SESSION_FIELDS} } }
}`;
const SIGN_OUT = 'mutation StaffSignOut($hash: String!) { staffSignOut(tokenHash: $hash) }';

export function createMerchantAuthRoutes(deps: { callSubgraph: InternalClient; accountUrl: string; sessions: MerchantSessions; clock: Clock }) {
  const { sessions } = deps;
  const call = <T>(query: string, variables: Record<string, unknown>) => deps.callSubgraph<T>(deps.accountUrl, query, variables);
  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => sendJson(res, status, body, { ...NO_STORE, ...headers });

  async function jsonBody(req: http.IncomingMessage): Promise<unknown> {
    if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
      throw new HttpError(415, 'Send a JSON body (content-type: application/json)', 'BAD_REQUEST');
    }
    const raw = await readBody(req, MAX_BODY);
    try {
      return raw ? JSON.parse(raw) : {};
    } catch {
      throw new HttpError(400, 'The request body is not valid JSON', 'BAD_REQUEST');
    }
  }

  /** Ends a session (in the account service, and in this gateway's cache at once). */
  async function endSession(token: string) {
    await call(SIGN_OUT, { hash: sessionTokenHash(token) });
    sessions.forget(token);
  }

  const routes: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>> = {
    async 'POST sign-in'(req, res) {
      const input = SignIn.safeParse(await jsonBody(req));
      if (!input.success) {
        return send(res, 400, { error: 'invalid_request', error_description: input.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
      }
      const { token: sessionToken, hash } = sessions.newSessionToken();
      const { staffSignIn: result } = await call<{ staffSignIn: { outcome: string; lockedUntil: string | null; session: StaffSessionAnswer | null } }>(SIGN_IN, { ...input.data, hash });
      if (result.outcome === 'OK' && result.session) {
        // A session this browser still held ends: one browser, one session (and no token kept from before sign-in).
        const previous = sessions.tokenOf(req);
        if (previous) await endSession(previous);
        res.setHeader('set-cookie', sessions.cookies(sessionToken, Date.parse(result.session.expiresAt)));
        return send(res, 200, { ...profileOf(result.session), csrfToken: sessions.csrfTokenOf(sessionToken) });
      }
      if (result.outcome === 'LOCKED') {
        const lockedUntil = result.lockedUntil ?? new Date(deps.clock.now()).toISOString();
        const retryAfter = Math.max(1, Math.ceil((Date.parse(lockedUntil) - deps.clock.now()) / 1000));
        return send(res, 429, { error: 'account_locked', error_description: `Too many failed sign-ins; try again after ${lockedUntil}`, lockedUntil }, { 'retry-after': String(retryAfter) });
      }
      send(res, 401, { error: 'invalid_grant', error_description: 'Wrong email or password' });
    },
    async 'POST sign-out'(req, res) {
      const sessionToken = sessions.tokenOf(req);
      if (sessionToken) {
        if (!sessions.csrfHolds(req, sessionToken)) return send(res, 403, { error: 'csrf_token_invalid', error_description: 'Send the x-csrf-token header' });
        await endSession(sessionToken);
      }
      res.writeHead(204, { ...NO_STORE, 'set-cookie': sessions.clearedCookies() });
      res.end();
    },
    async 'GET session'(req, res) {
      const sessionToken = sessions.tokenOf(req);
      const session = sessionToken ? await sessions.sessionOf(sessionToken) : null;
      if (!sessionToken || !session) return send(res, 401, { error: 'unauthenticated', error_description: 'Not signed in' });
      send(res, 200, { ...session.principal, csrfToken: sessions.csrfTokenOf(sessionToken) });
    },
  };

  /** Answers a request under MERCHANT_AUTH_PREFIX. */
  return async function merchantAuth(req: http.IncomingMessage, res: http.ServerResponse, route: string): Promise<void> {
    const name = route.slice(MERCHANT_AUTH_PREFIX.length);
    const handler = routes[`${req.method} ${name}`];
    if (handler) return handler(req, res);
    const methods = Object.keys(routes)
      .filter((key) => key.endsWith(` ${name}`))
      .map((key) => key.split(' ')[0]!);
    if (methods.length) return send(res, 405, { error: 'invalid_request', error_description: `Use ${methods.join(' or ')}` }, { allow: methods.join(', ') });
    send(res, 404, { error: 'not_found' });
  };
}
