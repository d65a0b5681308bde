/** Who is calling: verified by the gateway from the access token, carried to subgraphs in the context token. */
export interface Caller {
  /** Merchant the app acts for (token `sub`); null for app-level (client credentials) tokens. */
  merchantId: string | null;
  /** App key (token `client_id`). */
  appKey: string;
  /** Scopes the token carries. */
  scopes: readonly string[];
  /** Access token id (`jti`), for audit and revocation. */
  tokenId?: string;
}
