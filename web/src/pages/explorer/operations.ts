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
  availability: { status: ApiAvailabilityStatus; reason: string | null };
}

export interface ScopeHolding {
  scope: { name: string; description: string };
  held: boolean;
}

/**
 * The API's fields and what each needs, asked as the developer: the list is the same for every
 * caller, and asked with the sandbox token its ~500 items would cost the app most of its flow-control
 * bucket (actual cost counts every item) at each visit.
 */
export const API_CATALOG_FIELDS = operation<{ apiCatalog: { fields: CatalogField[] } }>(/* GraphQL */ `
  query ExplorerApiCatalog {
    apiCatalog {
      fields { coordinate description requiredScopes availability { status reason } }
    }
  }
`);

/** Asked with the sandbox token: the scopes the app's requests carry, as the gateway sees them. */
export const TOKEN_SCOPES = operation<{ apiCatalog: { scopes: ScopeHolding[] } }>(/* GraphQL */ `
  query ExplorerTokenScopes {
    apiCatalog { scopes { scope { name description } held } }
  }
`);

/** Whether scopes satisfy a field's requirement: every scope of any one alternative (core/permissions.ts's rule). */
export const satisfies = (held: ReadonlySet<string>, required: string[][]) => required.length === 0 || required.some((all) => all.every((scope) => held.has(scope)));

/** The sandbox's first query: the test merchant's newest orders. */
export const DEFAULT_QUERY = `# Your app's sandbox: a test merchant of its own, with generated orders and products.
# Run with the ▶ button or Ctrl-Enter. The calls count in the app's call report.
# Subscriptions stream here too, for example:
#   subscription { orderEvents { id type order { number status } } }
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
