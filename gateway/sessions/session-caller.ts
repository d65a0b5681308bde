/**
 * The caller of a /graphql request that has no Authorization header but a front end's session
 * cookie. A browser may hold sessions of several front ends at once (a developer who is also an
 * operator); the `x-csrf-token` header names which one the request is for, since each front end's
 * CSRF token is an HMAC under its own key and matches only its own session.
 *
 * Undefined without any session cookie (the request then needs a token); 403 CSRF_TOKEN_INVALID
 * when a session cookie is sent but no session's CSRF token matches the header (checked before any
 * session is looked up); 401 for a session that ended.
 */
import type http from 'node:http';
import type { Caller } from '../../core/caller.js';
import { ErrorCode } from '../../core/errors.js';
import { HttpError } from '../../core/http.js';
import { CSRF_HEADER, type CookieSessions } from './cookie-sessions.js';

export function createSessionCaller(frontEnds: CookieSessions<any>[]) {
  return async function sessionCallerOf(req: http.IncomingMessage): Promise<Caller | undefined> {
    const sent = frontEnds.filter((sessions) => sessions.cookieSent(req));
    if (!sent.length) return undefined;
    for (const sessions of sent) {
      const token = sessions.tokenOf(req);
      if (!token || !sessions.csrfHolds(req, token)) continue;
      const session = await sessions.sessionOf(token);
      if (!session) {
        throw new HttpError(401, `The ${sessions.kind.name} session has ended: sign in again`, ErrorCode.UNAUTHENTICATED, { 'www-authenticate': 'Bearer realm="portico"' });
      }
      return sessions.kind.callerOf(session);
    }
    const names = sent.map((sessions) => sessions.kind.csrfCookie).join(' or ');
    throw new HttpError(403, `A request with a session cookie needs the ${CSRF_HEADER} header holding the session's CSRF token (the ${names} cookie)`, ErrorCode.CSRF_TOKEN_INVALID);
  };
}
