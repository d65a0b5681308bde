/**
 * The operator console's session (gateway/sessions/cookie-sessions.ts): cookies `portico_console`
 * (HttpOnly) and `portico_console_csrf`, looked up in app-management. Only an ACTIVE session (past
 * the second factor, two hours at most) stands for an operator caller, with the `operator` scope
 * alone: the back-office operations, no merchant's data. A session still waiting for its second
 * factor is nobody in GraphQL; the sign-in endpoints read it through `lookupAnyStage`.
 */
import { OPERATOR_CLIENT_ID, OPERATOR_SCOPE } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import type { PlatformKeys } from '../../core/keys.js';
import type { InternalClient } from '../upstream/internal-client.js';
import { createCookieSessions, sessionTokenHash } from '../sessions/cookie-sessions.js';

export const CONSOLE_SESSION_COOKIE = 'portico_console';
export const CONSOLE_CSRF_COOKIE = 'portico_console_csrf';
/** Every operator caller's scopes (one frozen list: permission checks keep one Set per list). */
const OPERATOR_SCOPES: readonly string[] = Object.freeze([OPERATOR_SCOPE]);

/** A console session as app-management describes it. */
export interface ConsoleSession {
  id: string;
  operatorId: string;
  name: string;
  email: string;
  stage: 'PENDING_SECOND_FACTOR' | 'ACTIVE';
  totpEnrolled: boolean;
  /** ISO-8601. */
  expiresAt: string;
}

/** The fields of app-management's OperatorSession the gateway reads. */
export const CONSOLE_SESSION_FIELDS = 'id operatorId name email stage totpEnrolled expiresAt';
const SESSION_QUERY = `query Session($tokenHash: String!) { operatorSession(tokenHash: $tokenHash) { ${CONSOLE_SESSION_FIELDS} } }`;

/** What the console's pages get of the signed-in operator. */
export const operatorOf = (session: ConsoleSession) => ({ id: session.operatorId, name: session.name, email: session.email });

export interface ConsoleSessionsOptions {
  callSubgraph: InternalClient;
  appManagementUrl: string;
  keys: PlatformKeys;
  /** PUBLIC_URL: cookies are Secure when it is https. */
  publicUrl: string;
  clock: Clock;
}

export function createConsoleSessions(options: ConsoleSessionsOptions) {
  /** The session under a token's hash at any stage (uncached: the sign-in steps change it), or null. */
  async function lookupAnyStage(tokenHash: string): Promise<ConsoleSession | null> {
    const { operatorSession } = await options.callSubgraph<{ operatorSession: ConsoleSession | null }>(options.appManagementUrl, SESSION_QUERY, { tokenHash });
    return operatorSession;
  }
  const sessions = createCookieSessions<ConsoleSession>(
    {
      name: 'console',
      sessionCookie: CONSOLE_SESSION_COOKIE,
      csrfCookie: CONSOLE_CSRF_COOKIE,
      csrfKeyLabel: 'portico console csrf v1',
      async lookup(tokenHash) {
        const session = await lookupAnyStage(tokenHash);
        return session?.stage === 'ACTIVE' ? { principal: session, expiresAt: Date.parse(session.expiresAt) } : null;
      },
      callerOf: (session) => ({
        kind: 'operator',
        operatorId: session.principal.operatorId,
        appKey: OPERATOR_CLIENT_ID,
        merchantId: null,
        scopes: OPERATOR_SCOPES,
        expiresAt: Math.floor(session.expiresAt / 1000),
      }),
    },
    options,
  );
  return {
    ...sessions,
    /** The session a request's cookie names, at any stage, or null. */
    async anyStageOf(token: string | undefined): Promise<ConsoleSession | null> {
      if (!token) return null;
      const session = await lookupAnyStage(sessionTokenHash(token));
      return session && Date.parse(session.expiresAt) > options.clock.now() ? session : null;
    },
  };
}

export type ConsoleSessions = ReturnType<typeof createConsoleSessions>;
