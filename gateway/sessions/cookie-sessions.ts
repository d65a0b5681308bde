/**
 * A signed-in person's session at the gateway, for each web front end (the developer portal, the
 * operator console, the merchant page): the cookies, the CSRF token, and the caller a session
 * cookie stands for. One factory, one instance per front end, each with its own cookie names and
 * CSRF key, so a session of one never passes for another's.
 *
 * - The session cookie: 32 random bytes (base64url); HttpOnly, SameSite=Lax, Path=/, Secure when
 *   PUBLIC_URL is https, for the session's life. The service that owns the accounts keeps only its
 *   SHA-256.
 * - The CSRF cookie: the CSRF token, readable by the page's script (not HttpOnly) so it can send it
 *   back in the `x-csrf-token` header. It is an HMAC of the session token under a key of the
 *   platform's (derived from its cookie keys and the front end's name), so it can neither be forged
 *   without the session token nor planted: a cookie set by someone else's page has no matching token.
 *
 * Sessions are looked up in the owning service and kept here SESSION_CACHE_MS at most, so a
 * sign-out (or a password reset, or an operator disabling the account) ends a session on every
 * gateway within that; a gateway forgets a session it signs out at once.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import type { Caller } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import type { PlatformKeys } from '../../core/keys.js';

export const CSRF_HEADER = 'x-csrf-token';
/** How long a gateway trusts a session it looked up (a sign-out elsewhere bites within it). */
export const SESSION_CACHE_MS = 2_000;
/** Sessions kept in memory at most, per front end. */
const MAX_CACHED_SESSIONS = 10_000;
/** What a session token looks like: 32 bytes in base64url. */
const SESSION_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export const sessionTokenHash = (token: string) => crypto.createHash('sha256').update(token, 'utf8').digest('hex');

/** The value of one cookie of a request (the first, if sent twice), or undefined. */
export function cookieOf(req: http.IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** A live session as the owning service describes it. */
export interface LiveSession<P> {
  principal: P;
  /** ms since the epoch. */
  expiresAt: number;
}

export interface CookieSessionKind<P> {
  /** The front end, in messages and in the CSRF key's derivation: 'portal', 'console', 'merchant'. */
  name: string;
  /** The HttpOnly session cookie's name. */
  sessionCookie: string;
  /** The CSRF cookie's name (readable by the page's script). */
  csrfCookie: string;
  /** What the CSRF key is derived under (kept per front end so an existing deployment's tokens stay valid). */
  csrfKeyLabel: string;
  /** The live session whose token has this SHA-256 (hex), from the owning service; null when none. */
  lookup(tokenHash: string): Promise<LiveSession<P> | null>;
  /** The caller a live session stands for. */
  callerOf(session: LiveSession<P>): Caller;
}

export interface CookieSessionsOptions {
  keys: PlatformKeys;
  /** PUBLIC_URL: cookies are Secure when it is https. */
  publicUrl: string;
  clock: Clock;
}

export function createCookieSessions<P>(kind: CookieSessionKind<P>, options: CookieSessionsOptions) {
  const { clock } = options;
  const csrfKey = crypto.createHmac('sha256', options.keys.cookieKeys[0]!).update(kind.csrfKeyLabel).digest();
  const secure = new URL(options.publicUrl).protocol === 'https:';
  const cache = new Map<string, { session: Promise<LiveSession<P> | null>; expiresAt: number }>();

  const csrfTokenOf = (sessionToken: string) => crypto.createHmac('sha256', csrfKey).update(sessionToken, 'utf8').digest('base64url');

  /** The live session of a token (cached SESSION_CACHE_MS), or null. */
  function sessionOf(token: string): Promise<LiveSession<P> | null> {
    if (!SESSION_TOKEN.test(token)) return Promise.resolve(null);
    const hash = sessionTokenHash(token);
    const now = clock.now();
    const hit = cache.get(hash);
    if (hit && hit.expiresAt > now) return hit.session;
    if (cache.size >= MAX_CACHED_SESSIONS) cache.delete(cache.keys().next().value!);
    const session = kind.lookup(hash).then((s) => (s && s.expiresAt > clock.now() ? s : null));
    cache.set(hash, { session, expiresAt: now + SESSION_CACHE_MS });
    session.catch(() => cache.delete(hash));
    return session;
  }

  const cookie = (name: string, value: string, maxAgeSeconds: number, httpOnly: boolean) =>
    `${name}=${value}; Path=/; Max-Age=${maxAgeSeconds}; SameSite=Lax${httpOnly ? '; HttpOnly' : ''}${secure ? '; Secure' : ''}`;

  /** Whether the request's x-csrf-token is the session token's (constant-time). */
  function csrfHolds(req: http.IncomingMessage, sessionToken: string): boolean {
    const sent = req.headers[CSRF_HEADER];
    if (typeof sent !== 'string') return false;
    const expected = Buffer.from(csrfTokenOf(sessionToken));
    const actual = Buffer.from(sent);
    return actual.length === expected.length && crypto.timingSafeEqual(actual, expected);
  }

  return {
    kind,
    /** A new session token (the cookie's value) and the hash the owning service keeps. */
    newSessionToken() {
      const token = crypto.randomBytes(32).toString('base64url');
      return { token, hash: sessionTokenHash(token) };
    },
    csrfTokenOf,
    csrfHolds,
    sessionOf,
    /** The session token a request's cookie carries (well-formed), or undefined. */
    tokenOf(req: http.IncomingMessage): string | undefined {
      const token = cookieOf(req, kind.sessionCookie);
      return token && SESSION_TOKEN.test(token) ? token : undefined;
    },
    /** Whether the request carries this front end's session cookie at all (well-formed or not). */
    cookieSent(req: http.IncomingMessage): boolean {
      return cookieOf(req, kind.sessionCookie) !== undefined;
    },
    /** Forgets a session here at once (it was signed out). */
    forget(token: string) {
      cache.delete(sessionTokenHash(token));
    },
    /** Set-Cookie values that open a session until `expiresAt` (ms since the epoch). */
    cookies(token: string, expiresAt: number): string[] {
      const maxAge = Math.max(0, Math.ceil((expiresAt - clock.now()) / 1000));
      return [cookie(kind.sessionCookie, token, maxAge, true), cookie(kind.csrfCookie, csrfTokenOf(token), maxAge, false)];
    },
    /** Set-Cookie values that clear both cookies. */
    clearedCookies(): string[] {
      return [cookie(kind.sessionCookie, '', 0, true), cookie(kind.csrfCookie, '', 0, false)];
    },
  };
}

export type CookieSessions<P> = ReturnType<typeof createCookieSessions<P>>;
