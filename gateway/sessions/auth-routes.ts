/**
 * What the sign-in endpoints of every front end (/auth/developer/, /auth/operator/, /auth/merchant/)
 * share: JSON in and out, never cached, OAuth's error shape (`{error, error_description}`), and one
 * dispatcher from "METHOD name" to a handler (405 with Allow for a known name, 404 otherwise).
 *
 * State-changing requests must be `application/json`: a page of another site can send a form or
 * text cross-site without asking, but not JSON (the browser asks first, and the gateway grants no
 * CORS), so none of them can be forged from elsewhere.
 */
import type http from 'node:http';
import type { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { HttpError, readBody, sendJson } from '../../core/http.js';

export const NO_STORE = { 'cache-control': 'no-store' };
const MAX_BODY = 10_000;

export type AuthRoute = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

/** A JSON answer that no cache keeps. */
export const sendAuthJson = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => sendJson(res, status, body, { ...NO_STORE, ...headers });

/** 400 invalid_request, saying which fields are wrong. */
export const sendInvalidRequest = (res: http.ServerResponse, error: z.ZodError) =>
  sendAuthJson(res, 400, { error: 'invalid_request', error_description: error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });

/** 429 account_locked with Retry-After, until `lockedUntil` (ISO-8601; now when unknown). */
export function sendAccountLocked(res: http.ServerResponse, lockedUntil: string | null, clock: Clock) {
  const until = lockedUntil ?? new Date(clock.now()).toISOString();
  const retryAfter = Math.max(1, Math.ceil((Date.parse(until) - clock.now()) / 1000));
  sendAuthJson(res, 429, { error: 'account_locked', error_description: `Too many failed sign-ins; try again after ${until}`, lockedUntil: until }, { 'retry-after': String(retryAfter) });
}

/** The request's JSON body: 415 unless it is sent as application/json, 400 when it does not parse. */
export async function jsonBody(req: http.IncomingMessage): Promise<unknown> {
  if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
    throw new HttpError(415, 'Send a JSON body (content-type: application/json)', 'BAD_REQUEST');
  }
  const raw = await readBody(req, MAX_BODY);
  try {
    return raw ? JSON.parse(raw) : {};
  } catch {
    throw new HttpError(400, 'The request body is not valid JSON', 'BAD_REQUEST');
  }
}

/** Answers a request under `prefix` with the route named "METHOD rest-of-path". */
export function authRouter(prefix: string, routes: Record<string, AuthRoute>) {
  return async function route(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
    const name = path.slice(prefix.length);
    const handler = routes[`${req.method} ${name}`];
    if (handler) return handler(req, res);
    const methods = Object.keys(routes)
      .filter((key) => key.endsWith(` ${name}`))
      .map((key) => key.split(' ')[0]!);
    if (methods.length) return sendAuthJson(res, 405, { error: 'invalid_request', error_description: `Use ${methods.join(' or ')}` }, { allow: methods.join(', ') });
    sendAuthJson(res, 404, { error: 'not_found' });
  };
}
