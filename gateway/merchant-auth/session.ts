/**
 * The merchant page's session (gateway/sessions/cookie-sessions.ts): cookies `portico_merchant` and
 * `portico_merchant_csrf`, 8 hours, looked up in the account service. A session stands for a staff
 * caller of its merchant with the `staff` scope alone: the merchant's own authorizations of apps,
 * nothing of its orders or products, and no operator's or app's operation.
 */
import { STAFF_CLIENT_ID, STAFF_SCOPE } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import type { PlatformKeys } from '../../core/keys.js';
import type { InternalClient } from '../upstream/internal-client.js';
import { createCookieSessions } from '../sessions/cookie-sessions.js';

export const MERCHANT_SESSION_COOKIE = 'portico_merchant';
export const MERCHANT_CSRF_COOKIE = 'portico_merchant_csrf';
/** Every staff caller's scopes (one frozen list: permission checks keep one Set per list). */
const STAFF_SCOPES: readonly string[] = Object.freeze([STAFF_SCOPE]);

/** Who a merchant page session is: the staff member and their merchant. */
export interface StaffProfile {
  staff: { id: string; name: string; email: string };
  merchant: { id: string; name: string };
}

/** The account service's StaffSession, as the internal operations answer it. */
export interface StaffSessionAnswer {
  staffId: string;
  name: string;
  email: string;
  merchantId: string;
  merchantName: string;
  expiresAt: string;
}
export const STAFF_SESSION_FIELDS = 'staffId name email merchantId merchantName expiresAt';

export const profileOf = (s: StaffSessionAnswer): StaffProfile => ({ staff: { id: s.staffId, name: s.name, email: s.email }, merchant: { id: s.merchantId, name: s.merchantName } });

export interface MerchantSessionsOptions {
  callSubgraph: InternalClient;
  accountUrl: string;
  keys: PlatformKeys;
  /** PUBLIC_URL: cookies are Secure when it is https. */
  publicUrl: string;
  clock: Clock;
}

export function createMerchantSessions(options: MerchantSessionsOptions) {
  return createCookieSessions<StaffProfile>(
    {
      name: 'merchant',
      sessionCookie: MERCHANT_SESSION_COOKIE,
      csrfCookie: MERCHANT_CSRF_COOKIE,
      csrfKeyLabel: 'portico merchant csrf v1',
      async lookup(tokenHash) {
        const { staffSession: found } = await options.callSubgraph<{ staffSession: StaffSessionAnswer | null }>(
          options.accountUrl,
          `query StaffSession($tokenHash: String!) { staffSession(tokenHash: $tokenHash) { ${STAFF_SESSION_FIELDS} } }`,
          { tokenHash },
        );
        return found ? { principal: profileOf(found), expiresAt: Date.parse(found.expiresAt) } : null;
      },
      callerOf: (session) => ({
        kind: 'staff',
        staffId: session.principal.staff.id,
        merchantId: session.principal.merchant.id,
        appKey: STAFF_CLIENT_ID,
        scopes: STAFF_SCOPES,
        expiresAt: Math.floor(session.expiresAt / 1000),
      }),
    },
    options,
  );
}

export type MerchantSessions = ReturnType<typeof createMerchantSessions>;
