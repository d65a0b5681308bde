/**
 * Merchants stay in control: a token issued through the passport names the merchant's authorization
 * (its grant). Once the merchant (or an operator) revokes it, or the passport revokes it on a replayed
 * code or refresh token, its tokens stop working within the cache lifetime (2 s by default), before
 * they expire: HTTP 401 invalid_token.
 */
import { cachedLookup } from '../../core/cached-lookup.js';
import { HttpError } from '../../core/http.js';
import type { GatewayPlugin } from './types.js';

export function useAuthorizationRevocation(options: { isActive(grantId: string): Promise<boolean>; cacheMs: number }): GatewayPlugin {
  const activeOf = cachedLookup(options.isActive, { ttlMs: options.cacheMs });
  return {
    name: 'authorization-revocation',
    async onRequest(_req, state) {
      const grantId = state.caller?.grantId;
      if (!grantId) return;
      if (!(await activeOf(grantId))) {
        throw new HttpError(401, 'The merchant authorization behind this token was revoked', 'UNAUTHENTICATED', {
          'www-authenticate': 'Bearer realm="portico", error="invalid_token", error_description="authorization revoked"',
        });
      }
    },
  };
}
