/**
 * Merchants stay in control: a token issued through the passport names the merchant's authorization
 * (its grant). Once the merchant (or an operator) revokes it, or the passport revokes it on a replayed
 * code or refresh token, its tokens stop working within the cache lifetime (2 s by default), before
 * they expire: HTTP 401 invalid_token. The caller also learns when the authorization was given
 * (`authorizedAt`): the app's message stream for the merchant never reaches back before it.
 */
import { cachedLookup } from '../../core/cached-lookup.js';
import type { Clock } from '../../core/clock.js';
import { HttpError } from '../../core/http.js';
import type { GatewayPlugin } from './types.js';

/** A merchant authorization as the account service describes it (null: unknown). */
export type AuthorizationState = { active: boolean; authorizedAt: number } | null;

export interface AuthorizationRevocationOptions {
  /** Asks account for a merchant authorization's state. */
  stateOf(grantId: string): Promise<AuthorizationState>;
  /** How long a state is trusted before it is asked again (APP_ACCESS_CACHE_MS). */
  cacheMs: number;
  clock: Clock;
}

export function useAuthorizationRevocation(options: AuthorizationRevocationOptions): GatewayPlugin {
  const stateOf = cachedLookup(options.stateOf, { ttlMs: options.cacheMs, clock: options.clock });
  return {
    name: 'authorization-revocation',
    async onRequest(_req, state) {
      const grantId = state.caller?.grantId;
      if (!grantId) return;
      const authorization = await stateOf(grantId);
      if (!authorization?.active) {
        throw new HttpError(401, 'The merchant authorization behind this token was revoked', 'UNAUTHENTICATED', {
          'www-authenticate': 'Bearer realm="portico", error="invalid_token", error_description="authorization revoked"',
        });
      }
      state.caller = { ...state.caller!, authorizedAt: authorization.authorizedAt };
    },
  };
}
