/** What an operator reads for a refusal of the console's sign-in endpoints. */
import { AuthError } from '../../../lib/auth-call';

export function describeSignInError(error: unknown): string {
  if (!(error instanceof AuthError)) return 'The console could not reach the platform. Check your connection and try again.';
  switch (error.code) {
    case 'invalid_grant':
      return 'That email and password do not match an operator account.';
    case 'invalid_code':
      return 'That code is not right (or was already used). Enter the current code from your authenticator app.';
    case 'account_locked':
      return `Too many failed attempts. Try again${error.retryAfterSeconds ? ` in ${Math.ceil(error.retryAfterSeconds / 60)} minute(s)` : ' later'}.`;
    case 'account_disabled':
      return 'This operator account is disabled. Ask another operator to enable it.';
    case 'invalid_request':
      return 'Some fields are missing or invalid.';
    default:
      if (error.status === 401) return 'Your sign-in has expired. Start again with your password.';
      if (error.status === 429) return 'Too many attempts. Try again later.';
      return error.description ?? `The platform refused the request (${error.code}).`;
  }
}

/** Whether the pending sign-in is gone (expired, or never opened): the operator starts again. */
export const signInLapsed = (error: unknown) => error instanceof AuthError && error.status === 401 && error.code !== 'invalid_code' && error.code !== 'invalid_grant';
