/**
 * App authorization and effective scopes. An app token works only while its app exists and is not
 * suspended, and only with the scopes its currently granted permission packages still cover: the
 * effective scopes are the token's scopes ∩ the granted ones, so revoking a package bites within
 * the cache lifetime (APP_ACCESS_CACHE_MS, 2 s by default) on every gateway, before tokens expire.
 * Operator tokens keep only the operator scope, developer sessions only the developer scope (they
 * are no app: nothing here is looked up for them). An app in SANDBOX (not yet released by an operator)
 * acts only for test merchants: for any other merchant it is refused.
 */
import { cachedLookup } from '../../core/cached-lookup.js';
import { DEVELOPER_SCOPE, OPERATOR_SCOPE, STAFF_SCOPE } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import { HttpError } from '../../core/http.js';
import type { GatewayPlugin } from './types.js';

export interface AppAccess {
  status: 'SANDBOX' | 'LIVE' | 'SUSPENDED';
  grantedScopes: string[];
  /** Addresses and CIDR ranges the app may call from (normalized when written); empty: anywhere (plugins/ip-allowlist.ts). */
  ipAllowList: string[];
  /** The app's keys for signed requests (plugins/verify-signature.ts); secrets sealed, opened by the gateway. */
  signing: AppSigningKeys;
  /** Its flow limits and daily quota now (plugins/flow-control.ts; app-management's limits.ts computes them). */
  limits: AppLimits;
  /** The app's own sandbox merchant (created with it in the portal); null for an app without one. */
  sandboxMerchantId: string | null;
}

export interface AppLimits {
  tier: 'FREE' | 'PAID';
  /** Cost points a bucket (per merchant) holds: also the most one operation may cost. */
  bucketSize: number;
  /** Cost points restored per second. */
  restoreRate: number;
  /** Calls per UTC day. */
  dailyQuota: number;
}

export interface AppSigningKeys {
  /** The current secret, sealed (core/app-secret-seal.ts); null for a secret from before request signing. */
  secretSealed: string | null;
  previousSecretSealed: string | null;
  /** ISO time the previous secret's grace ends (judged on the gateway's clock). */
  previousSecretExpiresAt: string | null;
  /** Ed25519 public key, raw 32 bytes in base64url. */
  publicKey: string | null;
  signatureRequired: boolean;
}

export interface AppAuthorizationOptions {
  /** What app-management says of an app, cached for APP_ACCESS_CACHE_MS and shared by the stages that read it; null for an unknown app. */
  appAccess(appKey: string): Promise<AppAccess | null>;
  /**
   * Whether an operator is still active: a disabled operator's console sessions end at once, and
   * their bearer tokens (an hour at most) are refused from here within the cache's time.
   */
  operatorActive(operatorId: string): Promise<boolean>;
  /** Asks account whether a merchant is a test merchant. */
  merchantIsTest(merchantId: string): Promise<boolean>;
  clock: Clock;
}

export function useAppAuthorization(options: AppAuthorizationOptions): GatewayPlugin {
  const { clock } = options;
  // Whether a merchant is a test one does not change in practice; asked only for SANDBOX apps.
  const isTest = cachedLookup(options.merchantIsTest, { ttlMs: 60_000, maxEntries: 10_000, clock });

  return {
    name: 'app-authorization',
    async onRequest(_req, state) {
      const caller = state.caller!;
      if (caller.kind === 'operator') {
        if (!(await options.operatorActive(caller.operatorId ?? ''))) throw new HttpError(403, 'This operator account is disabled', 'FORBIDDEN');
        state.caller = { ...caller, scopes: caller.scopes.filter((s) => s === OPERATOR_SCOPE) };
        return;
      }
      if (caller.kind === 'developer') {
        if (caller.scopes.some((s) => s !== DEVELOPER_SCOPE)) state.caller = { ...caller, scopes: caller.scopes.filter((s) => s === DEVELOPER_SCOPE) };
        return;
      }
      if (caller.kind === 'staff') {
        if (caller.scopes.some((s) => s !== STAFF_SCOPE)) state.caller = { ...caller, scopes: caller.scopes.filter((s) => s === STAFF_SCOPE) };
        return;
      }
      const access = await options.appAccess(caller.appKey);
      if (!access) throw new HttpError(403, `App ${caller.appKey} is not registered`, 'FORBIDDEN');
      if (access.status === 'SUSPENDED') {
        throw new HttpError(403, `App ${caller.appKey} is suspended: every call is refused until an operator reinstates it`, 'APP_SUSPENDED');
      }
      if (access.status === 'SANDBOX' && caller.merchantId && !(await isTest(caller.merchantId))) {
        throw new HttpError(403, `App ${caller.appKey} is in SANDBOX: it acts for test merchants only until an operator releases it`, 'FORBIDDEN');
      }
      // An app with a sandbox of its own acts, while in SANDBOX, for that merchant alone: never for
      // another developer's sandbox (apps from before the portal keep every test merchant).
      if (access.status === 'SANDBOX' && caller.merchantId && access.sandboxMerchantId && caller.merchantId !== access.sandboxMerchantId) {
        throw new HttpError(403, `App ${caller.appKey} is in SANDBOX: it acts for its own sandbox merchant only until an operator releases it`, 'FORBIDDEN');
      }
      const granted = new Set(access.grantedScopes);
      state.caller = { ...caller, scopes: caller.scopes.filter((s) => granted.has(s)) };
    },
  };
}
