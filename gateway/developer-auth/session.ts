/**
 * The developer portal's session at the gateway: the cookies, the CSRF token, and the caller a
 * session cookie stands for.
 *
 * - `portico_session`: 32 random bytes (base64url); HttpOnly, SameSite=Lax, Path=/, Secure when
 *   PUBLIC_URL is https, 12 hours. App-management keeps only its SHA-256.
 * - `portico_csrf`: the CSRF token, readable by the portal's script (not HttpOnly) so it can send it
 *   back in the `x-csrf-token` header. It is an HMAC of the session token under a key of the
 *   platform's (derived from its cookie keys), so it can neither be forged without the session token
 *   nor planted: a cookie set by someone else's page has no matching token.
 *
 * A /graphql request without an Authorization header but with the session cookie is the developer's,
 * and only with the right `x-csrf-token` (403 CSRF_TOKEN_INVALID otherwise, before the session is
 * looked up). Sessions are looked up in app-management and kept here SESSION_CACHE_MS at most, so a
 * sign-out (or a password reset) ends a session on every gateway within that; this gateway forgets
 * a session it signs out at once.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import { DEVELOPER_CLIENT_ID, DEVELOPER_SCOPE, type Caller } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import { ErrorCode } from '../../core/errors.js';
import { HttpError } from '../../core/http.js';
import type { PlatformKeys } from '../../core/keys.js';
import type { InternalClient } from '../upstream/internal-client.js';

export const SESSION_COOKIE = 'portico_session';
export const CSRF_COOKIE = 'portico_csrf';
export const CSRF_HEADER = 'x-csrf-token';
/** How long this gateway trusts a session it looked up (a sign-out elsewhere bites within it). */
export const SESSION_CACHE_MS = 2_000;
/** Sessions kept in memory at most. */
const MAX_CACHED_SESSIONS = 10_000;
/** What a session token looks like: 32 bytes in base64url. */
const SESSION_TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** Every developer caller's scopes (one frozen list: permission checks keep one Set per list). */
const DEVELOPER_SCOPES: readonly string[] = Object.freeze([DEVELOPER_SCOPE]);

export interface DeveloperProfile {
  id: string;
  name: string;
  email: string;
  kind: 'INDIVIDUAL' | 'COMPANY';
  companyName: string | null;
}

export interface DeveloperSession {
  developer: DeveloperProfile;
  /** ms since the epoch. */
  expiresAt: number;
}

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

const SESSION_QUERY = 'query Session($tokenHash: String!) { developerSession(tokenHash: $tokenHash) { developerId name email kind companyName expiresAt } }';

export interface DeveloperSessionsOptions {
  callSubgraph: InternalClient;
  appManagementUrl: string;
  keys: PlatformKeys;
  /** PUBLIC_URL: cookies are Secure when it is https. */
  publicUrl: string;
  clock: Clock;
}

export function createDeveloperSessions(options: DeveloperSessionsOptions) {
  const { clock } = options;
  const csrfKey = crypto.createHmac('sha256', options.keys.cookieKeys[0]!).update('portico portal csrf v1').digest();
  const secure = new URL(options.publicUrl).protocol === 'https:';
  const cache = new Map<string, { session: Promise<DeveloperSession | null>; expiresAt: number }>();

  const csrfTokenOf = (sessionToken: string) => crypto.createHmac('sha256', csrfKey).update(sessionToken, 'utf8').digest('base64url');

  async function load(hash: string): Promise<DeveloperSession | null> {
    const { developerSession: found } = await options.callSubgraph<{ developerSession: (Omit<DeveloperProfile, 'id'> & { developerId: string; expiresAt: string }) | null }>(
      options.appManagementUrl,
      SESSION_QUERY,
      { tokenHash: hash },
    );
    if (!found) return null;
    return { developer: { id: found.developerId, name: found.name, email: found.email, kind: found.kind, companyName: found.companyName }, expiresAt: Date.parse(found.expiresAt) };
  }

  /** The live session of a token (cached SESSION_CACHE_MS), or null. */
  function sessionOf(token: string): Promise<DeveloperSession | null> {
    if (!SESSION_TOKEN.test(token)) return Promise.resolve(null);
    const hash = sessionTokenHash(token);
    const now = clock.now();
    const hit = cache.get(hash);
    if (hit && hit.expiresAt > now) return hit.session;
    if (cache.size >= MAX_CACHED_SESSIONS) cache.delete(cache.keys().next().value!);
    const session = load(hash).then((s) => (s && s.expiresAt > clock.now() ? s : null));
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
    /** A new session token (the cookie's value) and the hash app-management keeps. */
    newSessionToken() {
      const token = crypto.randomBytes(32).toString('base64url');
      return { token, hash: sessionTokenHash(token) };
    },
    csrfTokenOf,
    csrfHolds,
    sessionOf,
    /** The session token a request's cookie carries (well-formed), or undefined. */
    tokenOf(req: http.IncomingMessage): string | undefined {
      const token = cookieOf(req, SESSION_COOKIE);
      return token && SESSION_TOKEN.test(token) ? token : undefined;
    },
    /** Forgets a session here at once (it was signed out). */
    forget(token: string) {
      cache.delete(sessionTokenHash(token));
    },
    /** Set-Cookie values that open a session until `expiresAt` (ms since the epoch). */
    cookies(token: string, expiresAt: number): string[] {
      const maxAge = Math.max(0, Math.ceil((expiresAt - clock.now()) / 1000));
      return [cookie(SESSION_COOKIE, token, maxAge, true), cookie(CSRF_COOKIE, csrfTokenOf(token), maxAge, false)];
    },
    /** Set-Cookie values that clear both cookies. */
    clearedCookies(): string[] {
      return [cookie(SESSION_COOKIE, '', 0, true), cookie(CSRF_COOKIE, '', 0, false)];
    },
    /**
     * The developer caller of a /graphql request that has no Authorization header: undefined without
     * a session cookie; 403 CSRF_TOKEN_INVALID without the right x-csrf-token; 401 for a session that
     * ended.
     */
    async callerOf(req: http.IncomingMessage): Promise<Caller | undefined> {
      if (cookieOf(req, SESSION_COOKIE) === undefined) return undefined;
      const token = cookieOf(req, SESSION_COOKIE)!;
      if (!SESSION_TOKEN.test(token) || !csrfHolds(req, token)) {
        throw new HttpError(403, `A request with the portal's session cookie needs the ${CSRF_HEADER} header holding the session's CSRF token (the ${CSRF_COOKIE} cookie)`, ErrorCode.CSRF_TOKEN_INVALID);
      }
      const session = await sessionOf(token);
      if (!session) throw new HttpError(401, 'The portal session has ended: sign in again', ErrorCode.UNAUTHENTICATED, { 'www-authenticate': 'Bearer realm="portico"' });
      return {
        kind: 'developer',
        developerId: session.developer.id,
        appKey: DEVELOPER_CLIENT_ID,
        merchantId: null,
        scopes: DEVELOPER_SCOPES,
        expiresAt: Math.floor(session.expiresAt / 1000),
      };
    },
  };
}

export type DeveloperSessions = ReturnType<typeof createDeveloperSessions>;
