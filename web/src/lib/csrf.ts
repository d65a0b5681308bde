/**
 * The CSRF token the gateway requires on every /graphql request and every state-changing
 * /auth/developer call made with the session cookie. It is the HMAC of the session token, so the
 * page reads it from the readable `portico_csrf` cookie (or, when the cookie is absent, from
 * /auth/developer/session) and sends it back as the `x-csrf-token` header: a page of another origin
 * can make the browser send the cookie but cannot read this one.
 */
export const CSRF_COOKIE = 'portico_csrf';
export const CSRF_HEADER = 'x-csrf-token';

let fromSession: string | undefined;

/** The token of the current session, from its cookie; else the one /auth/developer/session gave. */
export function csrfToken(): string | undefined {
  const cookie = document.cookie
    .split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${CSRF_COOKIE}=`));
  return cookie ? decodeURIComponent(cookie.slice(CSRF_COOKIE.length + 1)) : fromSession;
}

/** Remembered (in memory only, never in the browser's storage) from the session endpoint's answer. */
export function rememberCsrfToken(token: string | undefined): void {
  fromSession = token;
}
