/**
 * The three web front ends built from web/ (the developer portal, the operator console, the
 * merchant page) share this library; what differs between them is named here once: where each is
 * served, the cookie holding its CSRF token, its session endpoint, and where a visitor without a
 * session goes. Each entry (main.tsx) calls `startFrontEnd` before anything else runs.
 *
 * A browser may hold sessions of several front ends at once (a developer who is also an operator,
 * all on one origin with Path=/ cookies): the gateway knows which session a request is for by the
 * CSRF token it carries, so each front end must send its own front end's token and no other.
 */
export interface FrontEnd {
  name: 'portal' | 'console' | 'merchant';
  /** Where the gateway serves it; its router's basename. */
  basename: string;
  /** Shown beside the platform's name in the frame. */
  label: string;
  /** The end of every document title. */
  title: string;
  /** The readable cookie with the CSRF token of this front end's session (gateway/sessions/cookie-sessions.ts). */
  csrfCookie: string;
  /** GET: the session ({csrfToken, ...}), or 401 without one. */
  sessionEndpoint: string;
  /** The route (under `basename`) a visitor without a session is sent to, with `?next=` where they were going. */
  signInRoute: string;
}

export const PORTAL: FrontEnd = {
  name: 'portal',
  basename: '/portal',
  label: 'Developers',
  title: 'Portico developer portal',
  csrfCookie: 'portico_csrf',
  sessionEndpoint: '/auth/developer/session',
  signInRoute: '/sign-in',
};

export const CONSOLE: FrontEnd = {
  name: 'console',
  basename: '/console',
  label: 'Console',
  title: 'Portico operator console',
  csrfCookie: 'portico_console_csrf',
  sessionEndpoint: '/auth/operator/session',
  signInRoute: '/sign-in',
};

export const MERCHANT: FrontEnd = {
  name: 'merchant',
  basename: '/merchant',
  label: 'Merchants',
  title: 'Portico for merchants',
  csrfCookie: 'portico_merchant_csrf',
  sessionEndpoint: '/auth/merchant/session',
  signInRoute: '/sign-in',
};

let current: FrontEnd = PORTAL;

/** Called once by an entry (main.tsx), before its first request. */
export function startFrontEnd(frontEnd: FrontEnd): void {
  current = frontEnd;
}

/** The front end this page is. */
export const frontEnd = (): FrontEnd => current;
