/**
 * The portal's calls to the gateway's developer sign-in endpoints (/auth/developer/*): JSON in and
 * out, on the same origin, with the session cookie. Each error answer carries a stable `error` code
 * the pages turn into a sentence.
 */
import { AuthError, authEndpoints } from './auth-call';
import { rememberCsrfToken } from './csrf';

export { AuthError };

export type DeveloperKind = 'INDIVIDUAL' | 'COMPANY';

export interface SessionDeveloper {
  id: string;
  name: string;
  email: string;
  kind?: DeveloperKind;
  companyName?: string | null;
}

export interface Session {
  developer: SessionDeveloper;
  csrfToken: string;
}

const call = authEndpoints('/auth/developer/');

export const authApi = {
  signUp: (input: { email: string; password: string; name: string; kind: DeveloperKind; companyName?: string }) =>
    call<{ developerId: string }>('sign-up', input),
  verify: (token: string) => call<{ verified: true }>('verify', { token }),
  resendVerification: (email: string) => call<void>('verify/resend', { email }),
  signIn: async (email: string, password: string) => {
    const session = await call<Session>('sign-in', { email, password });
    rememberCsrfToken(session.csrfToken);
    return session;
  },
  signOut: async () => {
    await call<void>('sign-out', {});
    rememberCsrfToken(undefined);
  },
  requestPasswordReset: (email: string) => call<void>('password-reset/request', { email }),
  resetPassword: (token: string, password: string) => call<void>('password-reset', { token, password }),
  /** The signed-in developer, or null without a session. */
  session: async (): Promise<Session | null> => {
    try {
      const session = await call<Session>('session', undefined, 'GET');
      rememberCsrfToken(session.csrfToken);
      return session;
    } catch (error) {
      if (error instanceof AuthError && error.status === 401) {
        rememberCsrfToken(undefined);
        return null;
      }
      throw error;
    }
  },
};

/** What a person reads for an endpoint's error code. */
export function describeAuthError(error: unknown): string {
  if (!(error instanceof AuthError)) return 'The portal could not reach the platform. Check your connection and try again.';
  switch (error.code) {
    case 'invalid_grant':
      return 'That email and password do not match an account.';
    case 'email_not_verified':
      return 'Your email is not verified yet: open the link in the verification email first.';
    case 'invalid_token':
      return 'This link is invalid, already used or expired.';
    case 'too_many_attempts':
    case 'account_locked':
    case 'locked':
      return `Too many attempts. Try again${error.retryAfterSeconds ? ` in ${Math.ceil(error.retryAfterSeconds / 60)} minute(s)` : ' later'}.`;
    case 'weak_password':
    case 'invalid_password':
      return 'Choose a password of at least 12 characters.';
    case 'invalid_request':
      return 'Some fields are missing or invalid.';
    default:
      if (error.status === 429 || error.status === 423) return 'Too many attempts. Try again later.';
      return `The platform refused the request (${error.code}).`;
  }
}
