/**
 * The developer portal's session (gateway/sessions/cookie-sessions.ts): cookies `portico_session`
 * and `portico_csrf`, 12 hours, looked up in app-management. A session stands for a developer
 * caller with the `developer` scope alone: their own account and apps, no merchant's data.
 */
import { DEVELOPER_CLIENT_ID, DEVELOPER_SCOPE } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import type { PlatformKeys } from '../../core/keys.js';
import type { InternalClient } from '../upstream/internal-client.js';
import { createCookieSessions } from '../sessions/cookie-sessions.js';

export { SESSION_CACHE_MS, cookieOf, sessionTokenHash } from '../sessions/cookie-sessions.js';
export const SESSION_COOKIE = 'portico_session';
export const CSRF_COOKIE = 'portico_csrf';
/** Every developer caller's scopes (one frozen list: permission checks keep one Set per list). */
const DEVELOPER_SCOPES: readonly string[] = Object.freeze([DEVELOPER_SCOPE]);

export interface DeveloperProfile {
  id: string;
  name: string;
  email: string;
  kind: 'INDIVIDUAL' | 'COMPANY';
  companyName: string | null;
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
  return createCookieSessions<DeveloperProfile>(
    {
      name: 'portal',
      sessionCookie: SESSION_COOKIE,
      csrfCookie: CSRF_COOKIE,
      csrfKeyLabel: 'portico portal csrf v1',
      async lookup(tokenHash) {
        const { developerSession: found } = await options.callSubgraph<{ developerSession: (Omit<DeveloperProfile, 'id'> & { developerId: string; expiresAt: string }) | null }>(
          options.appManagementUrl,
          SESSION_QUERY,
          { tokenHash },
        );
        if (!found) return null;
        return {
          principal: { id: found.developerId, name: found.name, email: found.email, kind: found.kind, companyName: found.companyName },
          expiresAt: Date.parse(found.expiresAt),
        };
      },
      callerOf: (session) => ({
        kind: 'developer',
        developerId: session.principal.id,
        appKey: DEVELOPER_CLIENT_ID,
        merchantId: null,
        scopes: DEVELOPER_SCOPES,
        expiresAt: Math.floor(session.expiresAt / 1000),
      }),
    },
    options,
  );
}

export type DeveloperSessions = ReturnType<typeof createDeveloperSessions>;
