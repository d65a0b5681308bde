/** What the passport's pages show of the app asking for consent (from app-management's OAuth client). */
export interface ClientInfo {
  key: string;
  name: string;
  /** SANDBOX: not yet released by an operator; only test merchants may authorize it. */
  status: 'SANDBOX' | 'LIVE' | 'SUSPENDED';
  developerName: string;
  grantedScopes: string[];
  packages: { name: string; scopes: string[] }[];
}
