/**
 * The console's calls to the gateway's operator sign-in endpoints (/auth/operator/*, gateway/console-auth):
 * the password, then either the enrolment of a TOTP authenticator or a code from it (or a recovery
 * code). The password step opens a pending session (its cookies, its CSRF token); only the second
 * factor makes it a session that may call /graphql.
 */
import { authEndpoints, readSession } from '../lib/auth-call';
import { rememberCsrfToken } from '../lib/csrf';

export interface OperatorProfile {
  id: string;
  name: string;
  email: string;
}

/** What the gateway's GET /auth/operator/session answers. */
export interface OperatorSession {
  operator: OperatorProfile | null;
  csrfToken: string;
  /** PENDING_SECOND_FACTOR after the password, ACTIVE once the second factor is in. */
  stage: string;
  expiresAt: string;
}

/** The second step the password step asks for. */
export type SecondStep = 'ENROL_TOTP' | 'TOTP';

export interface TotpEnrolment {
  /** otpauth://totp/... for an authenticator app. */
  otpauthUri: string;
  /** The same as a QR code image (a data: URL). */
  qrCode: string;
  /** The secret in base32, for typing in by hand. */
  secret: string;
}

const call = authEndpoints('/auth/operator/');

/** Whether a session may use the console (the second factor is in). */
export const sessionActive = (session: OperatorSession | null | undefined): session is OperatorSession & { operator: OperatorProfile } =>
  Boolean(session && session.operator && session.stage === 'ACTIVE');

export const operatorAuth = {
  signIn: async (email: string, password: string) => {
    const answer = await call<{ next: SecondStep; csrfToken: string }>('sign-in', { email, password });
    rememberCsrfToken(answer.csrfToken);
    return answer;
  },
  enrolment: () => call<TotpEnrolment>('enrolment', undefined, 'GET'),
  enrol: async (code: string) => {
    const answer = await call<{ operator: OperatorProfile; csrfToken: string; recoveryCodes: string[] }>('enrol', { code });
    rememberCsrfToken(answer.csrfToken);
    return answer;
  },
  verify: async (proof: { code: string } | { recoveryCode: string }) => {
    const answer = await call<{ operator: OperatorProfile; csrfToken: string; recoveryCodesLeft: number }>('verify', proof);
    rememberCsrfToken(answer.csrfToken);
    return answer;
  },
  signOut: async () => {
    try {
      await call<void>('sign-out', {});
    } finally {
      rememberCsrfToken(undefined);
    }
  },
  session: () => readSession<OperatorSession>(),
};
