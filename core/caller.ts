/** Who is calling: verified by the gateway from the access token, carried to subgraphs in the context token. */
export type CallerKind =
  /** An ISV or merchant app, for a merchant (authorization code) or for itself (client credentials). */
  | 'app'
  /** Platform staff in the operator console. */
  | 'operator'
  /** A developer signed in to the portal (a session cookie): their own account and apps, no merchant's data. */
  | 'developer'
  /** Merchant staff signed in to the merchant page (a session cookie): their own merchant's authorizations of apps. */
  | 'staff'
  /** The gateway itself, asking a subgraph what it needs to authorize a request. */
  | 'system';

export interface Caller {
  kind: CallerKind;
  /** Merchant the app acts for (token `sub`); null for app-level tokens, operators and the system. */
  merchantId: string | null;
  /** App key (token `client_id`); the console's client id for operators. */
  appKey: string;
  /** The operator, for operator callers. */
  operatorId?: string;
  /** The developer, for developer callers (the portal's session). */
  developerId?: string;
  /** The staff member, for staff callers (the merchant page's session); merchantId is their merchant. */
  staffId?: string;
  /**
   * Effective scopes: at the gateway, what the token carries; from the context token on, what the
   * token carries and the app's currently granted permission packages still cover.
   */
  scopes: readonly string[];
  /** Access token id (`jti`), for audit and revocation. */
  tokenId?: string;
  /**
   * The JWK thumbprint a DPoP-bound access token names (`cnf.jkt`, RFC 9449): the gateway accepts
   * it only with a proof signed by that key. Gateway only; not forwarded to subgraphs.
   */
  keyThumbprint?: string;
  /** When the access token expires (seconds since the epoch); long-lived subscriptions end then. */
  expiresAt?: number;
  /** The passport grant (merchant authorization) an access token came from; revoking it ends the token. */
  grantId?: string;
  /**
   * When the merchant gave that authorization (ms since the epoch), as the account service says:
   * the app's message stream for the merchant starts there. Set by the gateway with grantId.
   */
  authorizedAt?: number;
}

/** Client id operator tokens carry; app keys always start with `app_`, so none can take it. */
export const OPERATOR_CLIENT_ID = 'portico-console';
/** Scope operator tokens carry; never part of the app scope catalog, so no app can hold it. */
export const OPERATOR_SCOPE = 'operator';
/** Client id developer callers carry; app keys always start with `app_`, so none can take it. */
export const DEVELOPER_CLIENT_ID = 'portico-portal';
/**
 * Scope only developer sessions carry: the developer operations require it, and it is never part of
 * the app scope catalog, so no app token reaches them (and a developer's session reaches nothing
 * that needs an app's scope).
 */
export const DEVELOPER_SCOPE = 'developer';
/** Client id staff callers carry; app keys always start with `app_`, so none can take it. */
export const STAFF_CLIENT_ID = 'portico-merchant';
/**
 * Scope only merchant staff sessions carry: the merchant page's operations (the merchant's own
 * authorizations of apps) accept it; never part of the app scope catalog, so no app token holds it.
 */
export const STAFF_SCOPE = 'staff';
/** Scope only the gateway's own context tokens carry, for the internal fields it calls. */
export const INTERNAL_SCOPE = 'internal';

/** Grants the gateway may ask the account subgraph about in one call (authorizationsActive). */
export const MAX_GRANTS_PER_CHECK = 1000;
