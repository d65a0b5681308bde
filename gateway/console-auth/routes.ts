/**
 * The operator console's sign-in endpoints, under /auth/operator/ (JSON in, JSON out, never cached;
 * gateway/sessions/auth-routes.ts). Each step calls app-management's internal operations
 * (subgraphs/app-management/operator-sessions.ts):
 *
 * - POST sign-in {email, password} → 200 {next: "ENROL_TOTP" | "TOTP", csrfToken} and the cookies of
 *   a pending session (5 minutes, good for the next step only; a session the request's cookie still
 *   named ends); 401 invalid_grant; 403 account_disabled (said only with the right password); 429
 *   account_locked with Retry-After.
 * - GET enrolment → 200 {otpauthUri, qrCode (a PNG data: URL), secret (base32, to type in)} while the
 *   pending session's operator is not enrolled (the same secret again for the same session); 409
 *   already_enrolled; 401 without a pending session.
 * - POST enrol {code} (x-csrf-token) → 200 {operator, csrfToken, recoveryCodes} (shown this once),
 *   the session ACTIVE under a fresh token and cookies (2 hours); 400 invalid_code; 429.
 * - POST verify {code} | {recoveryCode} (x-csrf-token) → 200 {operator, csrfToken,
 *   recoveryCodesLeft}, ACTIVE under a fresh token; 401 invalid_code; 409 enrolment_required; 429.
 * - POST sign-out (x-csrf-token) → 204, the session revoked and both cookies cleared.
 * - GET session → 200 {operator, csrfToken, stage, next, expiresAt}, or 401.
 * - POST token: the operator token for scripts (gateway/operator-sign-in.ts).
 *
 * The session token changes when the second factor is proven, so a token seen before (the pending
 * one) is worth nothing after. A session that ended answers 401 and clears the cookies.
 */
import type http from 'node:http';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import type { InternalClient } from '../upstream/internal-client.js';
import { authRouter, jsonBody, sendAccountLocked, sendAuthJson, sendInvalidRequest, type AuthRoute } from '../sessions/auth-routes.js';
import { sessionTokenHash } from '../sessions/cookie-sessions.js';
import { CONSOLE_SESSION_FIELDS, operatorOf, type ConsoleSession, type ConsoleSessions } from './session.js';

export const CONSOLE_AUTH_PREFIX = '/auth/operator/';

const SignIn = z.object({ email: z.string().max(320), password: z.string().min(1).max(1024) });
const Enrol = z.object({ code: z.string().min(1).max(64) });
const Verify = z.union([z.object({ code: z.string().min(1).max(64) }).strict(), z.object({ recoveryCode: z.string().min(1).max(64) }).strict()]);

interface SecondFactorAnswer {
  outcome: 'OK' | 'INVALID_CODE' | 'LOCKED' | 'DISABLED' | 'NO_SESSION' | 'ALREADY_ENROLLED' | 'NOT_ENROLLED';
  lockedUntil: string | null;
  session: ConsoleSession | null;
  recoveryCodes?: string[] | null;
  recoveryCodesLeft: number | null;
}
const SECOND_FACTOR_FIELDS = `outcome lockedUntil session { ${CONSOLE_SESSION_FIELDS} } recoveryCodesLeft`;

const nextStep = (session: ConsoleSession) => (session.totpEnrolled ? 'TOTP' : 'ENROL_TOTP');

export function createConsoleAuthRoutes(deps: { callSubgraph: InternalClient; appManagementUrl: string; sessions: ConsoleSessions; clock: Clock; tokenSignIn: AuthRoute }) {
  const { sessions, clock } = deps;
  const call = <T>(query: string, variables: Record<string, unknown>) => deps.callSubgraph<T>(deps.appManagementUrl, query, variables);

  const signedOut = (res: http.ServerResponse, description = 'Not signed in, or the sign-in took too long: sign in again') => {
    res.setHeader('set-cookie', sessions.clearedCookies());
    sendAuthJson(res, 401, { error: 'unauthenticated', error_description: description });
  };

  async function endSession(token: string) {
    await call('mutation SignOut($hash: String!) { operatorSignOut(tokenHash: $hash) }', { hash: sessionTokenHash(token) });
    sessions.forget(token);
  }

  /**
   * The session token of a state-changing request: its cookie's, with the x-csrf-token header that
   * matches it. Answers (401, 403) and gives undefined otherwise.
   */
  function tokenWithCsrf(req: http.IncomingMessage, res: http.ServerResponse): string | undefined {
    const token = sessions.tokenOf(req);
    if (!token) {
      signedOut(res);
      return undefined;
    }
    if (!sessions.csrfHolds(req, token)) {
      sendAuthJson(res, 403, { error: 'csrf_token_invalid', error_description: 'Send the x-csrf-token header (the portico_console_csrf cookie)' });
      return undefined;
    }
    return token;
  }

  /** Answers a second-factor step: the fresh session's cookies and `body` on success, the refusal otherwise. */
  function answerSecondFactor(res: http.ServerResponse, pendingToken: string, fresh: string, result: SecondFactorAnswer, invalidStatus: number, body: (session: ConsoleSession) => Record<string, unknown>) {
    switch (result.outcome) {
      case 'OK': {
        const session = result.session!;
        sessions.forget(pendingToken);
        res.setHeader('set-cookie', sessions.cookies(fresh, Date.parse(session.expiresAt)));
        return sendAuthJson(res, 200, { operator: operatorOf(session), csrfToken: sessions.csrfTokenOf(fresh), ...body(session) });
      }
      case 'INVALID_CODE':
        return sendAuthJson(res, invalidStatus, { error: 'invalid_code', error_description: 'The code is wrong, expired or already used' });
      case 'LOCKED':
        return sendAccountLocked(res, result.lockedUntil, clock);
      case 'DISABLED':
        res.setHeader('set-cookie', sessions.clearedCookies());
        return sendAuthJson(res, 403, { error: 'account_disabled', error_description: 'This operator account is disabled' });
      case 'ALREADY_ENROLLED':
        return sendAuthJson(res, 409, { error: 'already_enrolled', error_description: 'The second factor is enrolled already: give a code from the authenticator' });
      case 'NOT_ENROLLED':
        return sendAuthJson(res, 409, { error: 'enrolment_required', error_description: 'Enrol the second factor first' });
      default:
        return signedOut(res);
    }
  }

  return authRouter(CONSOLE_AUTH_PREFIX, {
    async 'POST sign-in'(req, res) {
      const input = SignIn.safeParse(await jsonBody(req));
      if (!input.success) return sendInvalidRequest(res, input.error);
      const { token, hash } = sessions.newSessionToken();
      const { operatorConsoleSignIn: result } = await call<{ operatorConsoleSignIn: { outcome: string; lockedUntil: string | null; session: ConsoleSession | null } }>(
        `mutation SignIn($email: String!, $password: String!, $hash: String!) { operatorConsoleSignIn(email: $email, password: $password, sessionTokenHash: $hash) { outcome lockedUntil session { ${CONSOLE_SESSION_FIELDS} } } }`,
        { ...input.data, hash },
      );
      switch (result.outcome) {
        case 'OK': {
          const session = result.session!;
          // One browser, one console session: one its cookie still named ends.
          const previous = sessions.tokenOf(req);
          if (previous) await endSession(previous);
          res.setHeader('set-cookie', sessions.cookies(token, Date.parse(session.expiresAt)));
          return sendAuthJson(res, 200, { next: nextStep(session), csrfToken: sessions.csrfTokenOf(token) });
        }
        case 'DISABLED':
          return sendAuthJson(res, 403, { error: 'account_disabled', error_description: 'This operator account is disabled' });
        case 'LOCKED':
          return sendAccountLocked(res, result.lockedUntil, clock);
        default:
          return sendAuthJson(res, 401, { error: 'invalid_grant', error_description: 'Wrong email or password' });
      }
    },

    async 'GET enrolment'(req, res) {
      const token = sessions.tokenOf(req);
      if (!token) return signedOut(res);
      const { startOperatorTotpEnrolment: result } = await call<{ startOperatorTotpEnrolment: { outcome: string; otpauthUri: string | null; secret: string | null } }>(
        'mutation Enrol($hash: String!) { startOperatorTotpEnrolment(sessionTokenHash: $hash) { outcome otpauthUri secret } }',
        { hash: sessionTokenHash(token) },
      );
      // An enrolled operator's session (pending or signed in) has nothing to enrol.
      const enrolled = result.outcome === 'ALREADY_ENROLLED' || (result.outcome === 'NO_SESSION' && (await sessions.anyStageOf(token))?.totpEnrolled);
      if (enrolled) return sendAuthJson(res, 409, { error: 'already_enrolled', error_description: 'The second factor is enrolled already: give a code from the authenticator' });
      if (result.outcome !== 'OK') return signedOut(res);
      const qrCode = await QRCode.toDataURL(result.otpauthUri!, { errorCorrectionLevel: 'M', margin: 2, width: 240 });
      sendAuthJson(res, 200, { otpauthUri: result.otpauthUri, qrCode, secret: result.secret });
    },

    async 'POST enrol'(req, res) {
      const body = await jsonBody(req);
      const token = tokenWithCsrf(req, res);
      if (!token) return;
      const input = Enrol.safeParse(body);
      if (!input.success) return sendInvalidRequest(res, input.error);
      const fresh = sessions.newSessionToken();
      const { finishOperatorTotpEnrolment: result } = await call<{ finishOperatorTotpEnrolment: SecondFactorAnswer }>(
        `mutation Finish($hash: String!, $fresh: String!, $code: String!) { finishOperatorTotpEnrolment(sessionTokenHash: $hash, newSessionTokenHash: $fresh, code: $code) { ${SECOND_FACTOR_FIELDS} recoveryCodes } }`,
        { hash: sessionTokenHash(token), fresh: fresh.hash, code: input.data.code },
      );
      answerSecondFactor(res, token, fresh.token, result, 400, () => ({ recoveryCodes: result.recoveryCodes ?? [] }));
    },

    async 'POST verify'(req, res) {
      const body = await jsonBody(req);
      const token = tokenWithCsrf(req, res);
      if (!token) return;
      const input = Verify.safeParse(body);
      if (!input.success) return sendAuthJson(res, 400, { error: 'invalid_request', error_description: 'Send either code or recoveryCode' });
      const fresh = sessions.newSessionToken();
      const { operatorSecondFactor: result } = await call<{ operatorSecondFactor: SecondFactorAnswer }>(
        `mutation Verify($hash: String!, $fresh: String!, $code: String, $recoveryCode: String) { operatorSecondFactor(sessionTokenHash: $hash, newSessionTokenHash: $fresh, code: $code, recoveryCode: $recoveryCode) { ${SECOND_FACTOR_FIELDS} } }`,
        { hash: sessionTokenHash(token), fresh: fresh.hash, code: 'code' in input.data ? input.data.code : null, recoveryCode: 'recoveryCode' in input.data ? input.data.recoveryCode : null },
      );
      answerSecondFactor(res, token, fresh.token, result, 401, () => ({ recoveryCodesLeft: result.recoveryCodesLeft ?? 0 }));
    },

    async 'POST sign-out'(req, res) {
      const token = sessions.tokenOf(req);
      if (token) {
        if (!sessions.csrfHolds(req, token)) return sendAuthJson(res, 403, { error: 'csrf_token_invalid', error_description: 'Send the x-csrf-token header' });
        await endSession(token);
      }
      res.writeHead(204, { 'cache-control': 'no-store', 'set-cookie': sessions.clearedCookies() });
      res.end();
    },

    async 'GET session'(req, res) {
      const token = sessions.tokenOf(req);
      const session = await sessions.anyStageOf(token);
      if (!token || !session) return sendAuthJson(res, 401, { error: 'unauthenticated', error_description: 'Not signed in' });
      sendAuthJson(res, 200, {
        operator: operatorOf(session),
        csrfToken: sessions.csrfTokenOf(token),
        stage: session.stage,
        ...(session.stage === 'PENDING_SECOND_FACTOR' ? { next: nextStep(session) } : {}),
        expiresAt: session.expiresAt,
      });
    },

    'POST token': deps.tokenSignIn,
  });
}
