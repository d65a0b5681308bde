/**
 * What the gateway asks subgraphs for itself, through its internal client: an app's access and
 * whether an operator is still active (app-management), whether a merchant is a test one and the state of merchants' authorizations
 * (account). The pipeline caches these answers (APP_ACCESS_CACHE_MS); the message channel's
 * re-checks ask for every open subscription's authorization over and over.
 */
import DataLoader from 'dataloader';
import { MAX_GRANTS_PER_CHECK } from '../../core/caller.js';
import type { SubgraphName } from '../../core/config.js';
import type { OfflineApi } from '../plugins/api-validity.js';
import type { AppAccess } from '../plugins/app-authorization.js';
import type { AuthorizationState } from '../plugins/authorization-revocation.js';
import type { InternalClient } from './internal-client.js';

export interface SubgraphLookups {
  /** An app's status and granted scopes; null for an unknown app. */
  loadAppAccess(appKey: string): Promise<AppAccess | null>;
  merchantIsTest(merchantId: string): Promise<boolean>;
  /** A merchant authorization's state (null: unknown). */
  authorizationState(grantId: string): Promise<AuthorizationState>;
  authorizationActive(grantId: string): Promise<boolean>;
  /** Every API offline now or planned, for every app (api-validity caches it). */
  loadOfflineApis(): Promise<OfflineApi[]>;
  /** Whether an operator exists and is not disabled. */
  operatorActive(operatorId: string): Promise<boolean>;
}

type OfflineApiAnswer = Omit<OfflineApi, 'startsAt' | 'endsAt'> & { startsAt: string; endsAt: string | null };

export function createSubgraphLookups(options: { callSubgraph: InternalClient; urls: Record<SubgraphName, string> }): SubgraphLookups {
  const { callSubgraph, urls } = options;
  // The grants asked in one turn of the event loop (requests' and subscriptions' re-checks) go in one call.
  const grantChecks = new DataLoader<string, AuthorizationState>(
    async (grantIds) =>
      (
        await callSubgraph<{ authorizationStates: ({ active: boolean; authorizedAt: string } | null)[] }>(
          urls.account,
          'query States($ids: [String!]!) { authorizationStates(grantIds: $ids) { active authorizedAt } }',
          { ids: grantIds },
        )
      ).authorizationStates.map((state) => (state ? { active: state.active, authorizedAt: Date.parse(state.authorizedAt) } : null)),
    { cache: false, maxBatchSize: MAX_GRANTS_PER_CHECK, batchScheduleFn: (dispatch) => setImmediate(dispatch) },
  );
  const authorizationState = (grantId: string) => grantChecks.load(grantId);
  return {
    authorizationState,
    authorizationActive: async (grantId) => (await authorizationState(grantId))?.active === true,
    loadAppAccess: async (key) =>
      (await callSubgraph<{ appAccess: AppAccess | null }>(urls['app-management'], 'query Access($key: String!) { appAccess(key: $key) { status grantedScopes ipAllowList signing { secretSealed previousSecretSealed previousSecretExpiresAt publicKey signatureRequired } limits { tier bucketSize restoreRate dailyQuota } sandboxMerchantId } }', { key })).appAccess,
    loadOfflineApis: async () =>
      (
        await callSubgraph<{ offlineApisForGateway: OfflineApiAnswer[] }>(urls['app-management'], '{ offlineApisForGateway { id coordinate appKeys reason startsAt endsAt } }', {})
      ).offlineApisForGateway.map((api) => ({ ...api, startsAt: Date.parse(api.startsAt), endsAt: api.endsAt === null ? null : Date.parse(api.endsAt) })),
    operatorActive: async (operatorId) =>
      (await callSubgraph<{ operatorActive: boolean }>(urls['app-management'], 'query Operator($id: String!) { operatorActive(operatorId: $id) }', { id: operatorId })).operatorActive,
    merchantIsTest: async (merchantId) =>
      (await callSubgraph<{ merchantIsTest: boolean }>(urls.account, 'query Test($id: String!) { merchantIsTest(merchantId: $id) }', { id: merchantId })).merchantIsTest,
  };
}
