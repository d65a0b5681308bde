/**
 * The merchant page's calls to the gateway's staff sign-in endpoints (/auth/merchant/*,
 * gateway/merchant-auth): the passport's staff email and password, an 8-hour session.
 */
import { AuthError, authEndpoints, readSession } from '../lib/auth-call';
import { rememberCsrfToken } from '../lib/csrf';

/** What the gateway's sign-in and GET /auth/merchant/session answer. */
export interface StaffSession {
  staff: { id: string; name: string; email: string };
  merchant: { id: string; name: string };
  csrfToken: string;
}

const call = authEndpoints('/auth/merchant/');

export const merchantAuth = {
  signIn: async (email: string, password: string): Promise<StaffSession> => {
    const session = await call<StaffSession>('sign-in', { email, password });
    rememberCsrfToken(session.csrfToken);
    return session;
  },
  signOut: async () => {
    try {
      await call<void>('sign-out', {});
    } finally {
      rememberCsrfToken(undefined);
    }
  },
  session: () => readSession<StaffSession>(),
};

/** What a staff member reads when signing in fails. */
export function describeSignInError(error: unknown): string {
  if (!(error instanceof AuthError)) return 'The merchant page could not reach the platform. Check your connection and try again.';
  switch (error.code) {
    case 'invalid_grant':
      return 'That email and password do not match a staff account.';
    case 'account_locked':
      return `Too many failed sign-ins. Try again${error.retryAfterSeconds ? ` in ${Math.ceil(error.retryAfterSeconds / 60)} minute(s)` : ' later'}.`;
    case 'invalid_request':
      return 'Enter your email and password.';
    default:
      return `The platform refused the sign-in (${error.code}).`;
  }
}
