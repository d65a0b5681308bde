/**
 * The CSRF token the gateway requires on every /graphql request and every state-changing /auth call
 * made with a session cookie. It is the HMAC of the session token, so the page reads it from its
 * front end's readable cookie (`portico_csrf` for the portal, see front-end.ts; or, when the cookie
 * is absent, from the session endpoint) and sends it back as the `x-csrf-token` header: a page of
 * another origin can make the browser send the cookie but cannot read this one. The token also tells
 * the gateway which of the browser's sessions a request is for.
 */
import { frontEnd } from './front-end';

export const CSRF_HEADER = 'x-csrf-token';

let fromSession: string | undefined;

/** The token of this front end's session, from its cookie; else the one its session endpoint gave. */
export function csrfToken(): string | undefined {
  const name = frontEnd().csrfCookie;
  const cookie = document.cookie
    .split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${name}=`));
  return cookie ? decodeURIComponent(cookie.slice(name.length + 1)) : fromSession;
}

/** Remembered (in memory only, never in the browser's storage) from the session endpoint's answer. */
export function rememberCsrfToken(token: string | undefined): void {
  fromSession = token;
}
