/**
 * The merchant page's GraphQL operations: the public API's staff operations (viewerStaff,
 * Merchant.authorizedApps, revokeAppAuthorization), which merchant staff can also script. The types
 * of their answers and variables are generated from these documents and the schema
 * (web/scripts/operation-types.ts into web/src/generated/operations.ts): regenerate after changing one.
 */
import { operation } from '../lib/graphql';
import type * as G from '../generated/operations';

export type AuthorizedApp = NonNullable<G.MerchantAuthorizedAppsResult['merchant']>['authorizedApps'][number];

export const AUTHORIZED_APPS = operation<G.MerchantAuthorizedAppsResult, G.MerchantAuthorizedAppsVariables>(/* GraphQL */ `
  query MerchantAuthorizedApps {
    merchant {
      id
      name
      authorizedApps { id appKey appName appDescription developerName scopes authorizedAt lastUsedAt revokedAt revokedBy }
    }
  }
`);

export const REVOKE_APP = operation<G.MerchantRevokeAppResult, G.MerchantRevokeAppVariables>(/* GraphQL */ `
  mutation MerchantRevokeApp($id: ID!, $reason: String) {
    revokeAppAuthorization(id: $id, reason: $reason) { id revokedAt revokedBy }
  }
`);
