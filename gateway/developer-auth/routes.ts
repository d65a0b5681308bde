/**
 * The developer portal's account endpoints, under /auth/developer/ (JSON in, JSON out, never
 * cached). Each calls app-management's internal mutations, as the operator sign-in does:
 *
 * - POST sign-up {email, password, name, kind, companyName?} → 201 {developerId}; a taken email
 *   answers the same (its owner is told by email), so the answer tells no one who is registered.
 * - POST verify {token} → 200 {verified: true}, or 400 {error: "invalid_token"} (unknown, used, expired).
 * - POST verify/resend {email} → 202, always.
 * - POST sign-in {email, password} → 200 {developer, csrfToken} with the session cookies (a session
 *   the request's cookie still named ends);
 *   401 invalid_grant; 403 email_not_verified (said only with the right password); 403
 *   account_disabled; 429 account_locked with Retry-After (the passport's lockout).
 * - POST sign-out (x-csrf-token) → 204, the session revoked and both cookies cleared.
 * - POST password-reset/request {email} → 202, always.
 * - POST password-reset {token, password} → 200 {reset: true}, every session of the developer ended;
 *   400 invalid_token.
 * - GET session → 200 {developer, csrfToken}, or 401.
 *
 * State-changing requests must be `application/json` (gateway/sessions/auth-routes.ts); sign-out
 * also needs the CSRF header.
 */
import { z } from 'zod';
import type { InternalClient } from '../upstream/internal-client.js';
import { authRouter, jsonBody, sendAccountLocked, sendAuthJson as send, sendInvalidRequest as invalid, type AuthRoute } from '../sessions/auth-routes.js';
import { sessionTokenHash, type DeveloperSessions } from './session.js';
import type { Clock } from '../../core/clock.js';

export const DEVELOPER_AUTH_PREFIX = '/auth/developer/';
export const MIN_PASSWORD_LENGTH = 12;
const MAX_PASSWORD_LENGTH = 1024;

const email = z.string().trim().max(320).email();
const password = z.string().min(MIN_PASSWORD_LENGTH).max(MAX_PASSWORD_LENGTH);
const token = z.string().min(20).max(200);
/** Control characters (but tab and line breaks), which no name may hold. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const plainText = (max: number) => z.string().trim().min(1).max(max).refine((text) => !CONTROL.test(text), 'must not contain control characters');
const SignUp = z
  .object({
    email,
    password,
    name: plainText(100),
    kind: z.enum(['INDIVIDUAL', 'COMPANY']),
    companyName: plainText(200).nullish(),
  })
  .refine((input) => input.kind !== 'COMPANY' || !!input.companyName, { message: 'a COMPANY developer gives companyName', path: ['companyName'] });
const SignIn = z.object({ email: z.string().max(320), password: z.string().min(1).max(MAX_PASSWORD_LENGTH) });
const EmailOnly = z.object({ email });
const TokenOnly = z.object({ token });
const Reset = z.object({ token, password });

interface SessionAnswer {
  developerId: string;
  name: string;
  email: string;
  kind: string;
  companyName: string | null;
  expiresAt: string;
}

export function createDeveloperAuthRoutes(deps: { callSubgraph: InternalClient; appManagementUrl: string; sessions: DeveloperSessions; clock: Clock }) {
  const { sessions } = deps;
  const call = <T>(query: string, variables: Record<string, unknown>) => deps.callSubgraph<T>(deps.appManagementUrl, query, variables);

  const routes: Record<string, AuthRoute> = {
    async 'POST sign-up'(req, res) {
      const input = SignUp.safeParse(await jsonBody(req));
      if (!input.success) return invalid(res, input.error);
      const { developerSignUp } = await call<{ developerSignUp: string }>(
        'mutation SignUp($input: DeveloperSignUpInput!) { developerSignUp(input: $input) }',
        { input: { ...input.data, companyName: input.data.kind === 'COMPANY' ? input.data.companyName : null } },
      );
      send(res, 201, { developerId: developerSignUp });
    },
    async 'POST verify'(req, res) {
      const input = TokenOnly.safeParse(await jsonBody(req));
      if (!input.success) return send(res, 400, { error: 'invalid_token' });
      const { developerVerifyEmail } = await call<{ developerVerifyEmail: boolean }>('mutation Verify($token: String!) { developerVerifyEmail(token: $token) }', input.data);
      if (!developerVerifyEmail) return send(res, 400, { error: 'invalid_token', error_description: 'The link is unknown, used or expired: ask for a new one' });
      send(res, 200, { verified: true });
    },
    async 'POST verify/resend'(req, res) {
      const input = EmailOnly.safeParse(await jsonBody(req));
      if (!input.success) return invalid(res, input.error);
      await call('mutation Resend($email: String!) { developerResendVerification(email: $email) }', input.data);
      send(res, 202, {});
    },
    async 'POST sign-in'(req, res) {
      const input = SignIn.safeParse(await jsonBody(req));
      if (!input.success) return invalid(res, input.error);
      const { token: sessionToken, hash } = sessions.newSessionToken();
      const { developerSignIn: result } = await call<{ developerSignIn: { outcome: string; lockedUntil: string | null; session: SessionAnswer | null } }>(
        'mutation SignIn($email: String!, $password: String!, $hash: String!) { developerSignIn(email: $email, password: $password, sessionTokenHash: $hash) { outcome lockedUntil session { developerId name email kind companyName expiresAt } } }',
        { ...input.data, hash },
      );
      switch (result.outcome) {
        case 'OK': {
          const session = result.session!;
          // A session this browser still held ends: one browser, one session (and no token kept from before sign-in).
          const previous = sessions.tokenOf(req);
          if (previous) {
            await call('mutation SignOut($hash: String!) { developerSignOut(tokenHash: $hash) }', { hash: sessionTokenHash(previous) });
            sessions.forget(previous);
          }
          res.setHeader('set-cookie', sessions.cookies(sessionToken, Date.parse(session.expiresAt)));
          return send(res, 200, { developer: { id: session.developerId, name: session.name, email: session.email }, csrfToken: sessions.csrfTokenOf(sessionToken) });
        }
        case 'NOT_VERIFIED':
          return send(res, 403, { error: 'email_not_verified', error_description: 'Verify your email first: open the link we sent (or ask for a new one)' });
        case 'DISABLED':
          return send(res, 403, { error: 'account_disabled', error_description: 'This developer account is disabled' });
        case 'LOCKED':
          return sendAccountLocked(res, result.lockedUntil, deps.clock);
        default:
          return send(res, 401, { error: 'invalid_grant', error_description: 'Wrong email or password' });
      }
    },
    async 'POST sign-out'(req, res) {
      const sessionToken = sessions.tokenOf(req);
      if (sessionToken) {
        if (!sessions.csrfHolds(req, sessionToken)) return send(res, 403, { error: 'csrf_token_invalid', error_description: 'Send the x-csrf-token header' });
        await call('mutation SignOut($hash: String!) { developerSignOut(tokenHash: $hash) }', { hash: sessionTokenHash(sessionToken) });
        sessions.forget(sessionToken);
      }
      res.writeHead(204, { 'cache-control': 'no-store', 'set-cookie': sessions.clearedCookies() });
      res.end();
    },
    async 'POST password-reset/request'(req, res) {
      const input = EmailOnly.safeParse(await jsonBody(req));
      if (!input.success) return invalid(res, input.error);
      await call('mutation Request($email: String!) { developerRequestPasswordReset(email: $email) }', input.data);
      send(res, 202, {});
    },
    async 'POST password-reset'(req, res) {
      const input = Reset.safeParse(await jsonBody(req));
      if (!input.success) {
        const tokenBad = input.error.issues.some((i) => i.path[0] === 'token');
        return tokenBad ? send(res, 400, { error: 'invalid_token' }) : invalid(res, input.error);
      }
      const { developerResetPassword } = await call<{ developerResetPassword: boolean }>('mutation Reset($token: String!, $password: String!) { developerResetPassword(token: $token, password: $password) }', input.data);
      if (!developerResetPassword) return send(res, 400, { error: 'invalid_token', error_description: 'The link is unknown, used or expired: ask for a new one' });
      send(res, 200, { reset: true });
    },
    async 'GET session'(req, res) {
      const sessionToken = sessions.tokenOf(req);
      const session = sessionToken ? await sessions.sessionOf(sessionToken) : null;
      if (!sessionToken || !session) return send(res, 401, { error: 'unauthenticated', error_description: 'Not signed in' });
      send(res, 200, { developer: session.principal, csrfToken: sessions.csrfTokenOf(sessionToken) });
    },
  };

  /** Answers a request under DEVELOPER_AUTH_PREFIX. */
  return authRouter(DEVELOPER_AUTH_PREFIX, routes);
}
