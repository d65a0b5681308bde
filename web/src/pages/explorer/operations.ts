/** The explorer's operations: the app's sandbox token (as the developer), and what that token may call (as the app). */
import { operation } from '../../lib';

export interface SandboxToken {
  accessToken: string;
  expiresAt: string;
  merchantId: string;
  scopes: string[];
}

export const ISSUE_SANDBOX_TOKEN = operation<{ issueSandboxToken: SandboxToken }, { appKey: string }>(/* GraphQL */ `
  mutation ExplorerSandboxToken($appKey: String!) {
    issueSandboxToken(appKey: $appKey) { accessToken expiresAt merchantId scopes }
  }
`);

export const EXPLORER_APP = operation<{ developerApp: { key: string; name: string; sandbox: { merchantName: string | null } } | null }, { key: string }>(/* GraphQL */ `
  query ExplorerApp($key: String!) {
    developerApp(key: $key) { key name sandbox { merchantName } }
  }
`);

export type ApiAvailabilityStatus = 'AVAILABLE' | 'OFFLINE' | 'PLANNED';

export interface CatalogField {
  coordinate: string;
  description: string | null;
  requiredScopes: string[][];
  available: boolean;
  availability: { status: ApiAvailabilityStatus; reason: string | null };
}

export interface ApiCatalog {
  fields: CatalogField[];
  scopes: { scope: { name: string; description: string }; held: boolean }[];
}

/** Asked with the sandbox token: the catalog as the app's own requests see it. */
export const API_CATALOG = operation<{ apiCatalog: ApiCatalog }>(/* GraphQL */ `
  query ExplorerApiCatalog {
    apiCatalog {
      fields { coordinate description requiredScopes available availability { status reason } }
      scopes { scope { name description } held }
    }
  }
`);

/** The sandbox's first query: the test merchant's newest orders. */
export const DEFAULT_QUERY = `# Your app's sandbox: a test merchant of its own, with generated orders and products.
# Run with the ▶ button or Ctrl-Enter. The calls count in the app's call report.
query SandboxOrders {
  orders(first: 5) {
    totalCount
    nodes {
      id
      number
      status
      createdAt
    }
  }
}
`;
