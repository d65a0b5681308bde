/**
 * Calls to the gateway's sign-in endpoints of a front end (/auth/developer/*, /auth/operator/*,
 * /auth/merchant/*): JSON in and out, on the same origin, with the session cookie and, once there is
 * a session, its CSRF header. Each error answer carries a stable `error` code the pages turn into a
 * sentence.
 */
import { CSRF_HEADER, csrfToken, rememberCsrfToken } from './csrf';
import { frontEnd } from './front-end';

/** A refusal of an /auth endpoint: the HTTP status, the endpoint's error code and its description. */
export class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly retryAfterSeconds?: number,
    readonly description?: string,
  ) {
    super(code);
    this.name = 'AuthError';
  }
}

/** A caller of the endpoints under `base` (for example '/auth/operator/'). */
export function authEndpoints(base: string) {
  return async function call<T>(path: string, body?: unknown, method = 'POST'): Promise<T> {
    const token = csrfToken();
    const response = await fetch(`${base}${path}`, {
      method,
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { [CSRF_HEADER]: token } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const answer = json as { error?: string; error_description?: string } | undefined;
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new AuthError(response.status, answer?.error ?? `http_${response.status}`, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined, answer?.error_description);
    }
    return json as T;
  };
}

/**
 * This front end's session, as its session endpoint answers it (each carries the session's CSRF
 * token, remembered for when its cookie cannot be read); null without a session (401).
 */
export async function readSession<S extends { csrfToken: string }>(): Promise<S | null> {
  try {
    const session = await authEndpoints('')<S>(frontEnd().sessionEndpoint, undefined, 'GET');
    rememberCsrfToken(session.csrfToken);
    return session;
  } catch (error) {
    if (error instanceof AuthError && error.status === 401) {
      rememberCsrfToken(undefined);
      return null;
    }
    throw error;
  }
}
