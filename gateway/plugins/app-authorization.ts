/**
 * App authorization and effective scopes. An app token works only while its app exists and is not
 * suspended, and only with the scopes its currently granted permission packages still cover: the
 * effective scopes are the token's scopes ∩ the granted ones, so revoking a package bites within
 * the cache lifetime (APP_ACCESS_CACHE_MS, 2 s by default) on every gateway, before tokens expire.
 * Operator tokens keep only the operator scope. An app in SANDBOX (not yet released by an operator)
 * acts only for test merchants: for any other merchant it is refused.
 */
import { cachedLookup } from '../../core/cached-lookup.js';
import { OPERATOR_SCOPE } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import { HttpError } from '../../core/http.js';
import type { GatewayPlugin } from './types.js';

export interface AppAccess {
  status: 'SANDBOX' | 'LIVE' | 'SUSPENDED';
  grantedScopes: string[];
}

export interface AppAuthorizationOptions {
  /** Asks app-management; null for an unknown app. */
  loadAppAccess(appKey: string): Promise<AppAccess | null>;
  /** Asks account whether a merchant is a test merchant. */
  merchantIsTest(merchantId: string): Promise<boolean>;
  /** How long an app's access is trusted before it is asked again (APP_ACCESS_CACHE_MS). */
  cacheMs: number;
  clock: Clock;
}

export function useAppAuthorization(options: AppAuthorizationOptions): GatewayPlugin {
  const { clock } = options;
  const accessOf = cachedLookup(options.loadAppAccess, { ttlMs: options.cacheMs, maxEntries: 10_000, clock });
  // Whether a merchant is a test one does not change in practice; asked only for SANDBOX apps.
  const isTest = cachedLookup(options.merchantIsTest, { ttlMs: 60_000, maxEntries: 10_000, clock });

  return {
    name: 'app-authorization',
    async onRequest(_req, state) {
      const caller = state.caller!;
      if (caller.kind === 'operator') {
        state.caller = { ...caller, scopes: caller.scopes.filter((s) => s === OPERATOR_SCOPE) };
        return;
      }
      const access = await accessOf(caller.appKey);
      if (!access) throw new HttpError(403, `App ${caller.appKey} is not registered`, 'FORBIDDEN');
      if (access.status === 'SUSPENDED') throw new HttpError(403, `App ${caller.appKey} is suspended`, 'FORBIDDEN');
      if (access.status === 'SANDBOX' && caller.merchantId && !(await isTest(caller.merchantId))) {
        throw new HttpError(403, `App ${caller.appKey} is in SANDBOX: it acts for test merchants only until an operator releases it`, 'FORBIDDEN');
      }
      const granted = new Set(access.grantedScopes);
      state.caller = { ...caller, scopes: caller.scopes.filter((s) => granted.has(s)) };
    },
  };
}
