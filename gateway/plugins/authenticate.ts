/**
 * Authentication: every GraphQL request carries `Authorization: Bearer <access token>` (a WebSocket
 * connection may give it in its connection parameters instead), an RFC 9068 JWT signed by the
 * platform and verified locally against its JWKS. Missing or bad: HTTP 401 with a
 * GraphQL error UNAUTHENTICATED and an RFC 6750 `WWW-Authenticate` header.
 */
import { HttpError } from '../../core/http.js';
import type { Caller } from '../../core/caller.js';
import { InvalidTokenError } from '../../core/tokens.js';
import type { GatewayPlugin } from './types.js';

export interface AuthenticateOptions {
  /** Verifies an access token and returns its caller, or throws InvalidTokenError. */
  verifyAccessToken(token: string): Promise<Caller>;
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/;

export function useAuthenticate(options: AuthenticateOptions): GatewayPlugin {
  return {
    name: 'authenticate',
    async onRequest(req, state) {
      // A connection's own credential (its graphql-ws connection parameters) stands before the header.
      const header = state.authorization ?? req.headers.authorization;
      const match = typeof header === 'string' ? BEARER.exec(header) : null;
      if (!match) {
        throw new HttpError(401, 'An access token is required: send Authorization: Bearer <token>', 'UNAUTHENTICATED', {
          'www-authenticate': 'Bearer realm="portico"',
        });
      }
      try {
        state.caller = await options.verifyAccessToken(match[1]!);
      } catch (error) {
        if (!(error instanceof InvalidTokenError)) throw error;
        throw new HttpError(401, error.message, 'UNAUTHENTICATED', {
          'www-authenticate': `Bearer realm="portico", error="invalid_token", error_description="${error.message}"`,
        });
      }
    },
  };
}
