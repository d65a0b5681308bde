/**
 * POST /auth/operator/introspect (RFC 7662) for operators: is this access token active, and what
 * does it carry? Active means a valid signature and lifetime, its merchant authorization still in
 * force, and its app neither unknown nor suspended: exactly what the gateway would let through.
 * Requires `Authorization: Bearer <operator token>`; the token goes in the body (`token=...`).
 */
import type http from 'node:http';
import { decodeJwt } from 'jose';
import type { Caller } from '../core/caller.js';
import { HttpError, readBody, sendJson } from '../core/http.js';
import type { AppAccess } from './plugins/app-authorization.js';

export function createOperatorIntrospection(deps: {
  verifyAccessToken(token: string): Promise<Caller>;
  authorizationActive(grantId: string): Promise<boolean>;
  loadAppAccess(appKey: string): Promise<AppAccess | null>;
}) {
  return async function introspect(req: http.IncomingMessage, res: http.ServerResponse) {
    if (req.method !== 'POST') throw new HttpError(405, 'Use POST', 'BAD_REQUEST');
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const operator = bearer ? await deps.verifyAccessToken(bearer).catch(() => undefined) : undefined;
    if (operator?.kind !== 'operator') {
      return sendJson(res, 401, { error: 'invalid_token', error_description: 'An operator token is required' }, { 'www-authenticate': 'Bearer realm="portico"' });
    }
    const raw = await readBody(req, 20_000);
    const type = req.headers['content-type'] ?? '';
    let token: unknown;
    try {
      token = type.includes('application/json') ? (JSON.parse(raw) as { token?: unknown }).token : new URLSearchParams(raw).get('token');
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || !token) return sendJson(res, 400, { error: 'invalid_request', error_description: 'token is required' });
    const inactive = () => sendJson(res, 200, { active: false }, { 'cache-control': 'no-store' });
    let caller: Caller;
    try {
      caller = await deps.verifyAccessToken(token);
    } catch {
      return inactive();
    }
    if (caller.grantId && !(await deps.authorizationActive(caller.grantId))) return inactive();
    if (caller.kind === 'app') {
      const access = await deps.loadAppAccess(caller.appKey);
      if (!access || access.status === 'SUSPENDED') return inactive();
    }
    const claims = decodeJwt(token);
    return sendJson(
      res,
      200,
      {
        active: true,
        token_type: 'access_token',
        client_id: claims.client_id,
        sub: claims.sub,
        scope: claims.scope,
        iss: claims.iss,
        aud: claims.aud,
        exp: claims.exp,
        iat: claims.iat,
        jti: claims.jti,
        ...(caller.grantId ? { portico_grant: caller.grantId } : {}),
      },
      { 'cache-control': 'no-store' },
    );
  };
}
