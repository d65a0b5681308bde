/** The GraphQL operations of the offline APIs page; their types are generated (npm run web:types). */
import { operation } from '../../../lib';
import type * as G from '../../../generated/operations';

export type OfflineApi = G.ConsoleOfflineApisResult['offlineApis'][number];
export type ApiField = G.ConsoleApiFieldsResult['apiCatalog']['fields'][number];

export const API_FIELDS = operation<G.ConsoleApiFieldsResult, G.ConsoleApiFieldsVariables>(/* GraphQL */ `
  query ConsoleApiFields {
    apiCatalog { fields { coordinate description requiredScopes } }
  }
`);

export const OFFLINE_APIS = operation<G.ConsoleOfflineApisResult, G.ConsoleOfflineApisVariables>(/* GraphQL */ `
  query ConsoleOfflineApis($includeEnded: Boolean!) {
    offlineApis(includeEnded: $includeEnded, first: 100) {
      id
      coordinate
      appKeys
      reason
      startsAt
      endsAt
      active
      takenBy
      takenAt
      restoredAt
      restoredBy
      restoreReason
    }
  }
`);

export const APP_CHOICES = operation<G.ConsoleAppChoicesResult, G.ConsoleAppChoicesVariables>(/* GraphQL */ `
  query ConsoleAppChoices($search: String) {
    apps(search: $search, first: 10) { nodes { key name developer { name } } }
  }
`);

export const TAKE_API_OFFLINE = operation<G.ConsoleTakeApiOfflineResult, G.ConsoleTakeApiOfflineVariables>(/* GraphQL */ `
  mutation ConsoleTakeApiOffline($input: TakeApiOfflineInput!) {
    takeApiOffline(input: $input) { id coordinate active startsAt endsAt }
  }
`);

export const BRING_API_ONLINE = operation<G.ConsoleBringApiOnlineResult, G.ConsoleBringApiOnlineVariables>(/* GraphQL */ `
  mutation ConsoleBringApiOnline($input: BringApiOnlineInput!) {
    bringApiOnline(input: $input) { id active restoredAt }
  }
`);
