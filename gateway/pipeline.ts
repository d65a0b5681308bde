/**
 * The gateway's request pipeline, top to bottom in the order each request goes through it.
 * Later concerns (app status, signature, IP allow list, flow control, call report) slot in here.
 */
import type { Caller } from '../core/caller.js';
import { useAppAuthorization, type AppAccess } from './plugins/app-authorization.js';
import { useAuthenticate } from './plugins/authenticate.js';
import { useAuthorizationRevocation, type AuthorizationState } from './plugins/authorization-revocation.js';
import { useQueryLimits } from './plugins/query-limits.js';
import { useRequestId } from './plugins/request-id.js';
import type { GatewayPlugin } from './plugins/types.js';

export interface PipelineDependencies {
  verifyAccessToken(token: string): Promise<Caller>;
  loadAppAccess(appKey: string): Promise<AppAccess | null>;
  authorizationState(grantId: string): Promise<AuthorizationState>;
  merchantIsTest(merchantId: string): Promise<boolean>;
  appAccessCacheMs: number;
}

export function createPipeline(deps: PipelineDependencies): GatewayPlugin[] {
  return [
    useRequestId(),
    // Who is calling (the token), then whether that app may call and with which scopes.
    useAuthenticate({ verifyAccessToken: deps.verifyAccessToken }),
    useAuthorizationRevocation({ stateOf: deps.authorizationState, cacheMs: deps.appAccessCacheMs }),
    useAppAuthorization({ loadAppAccess: deps.loadAppAccess, merchantIsTest: deps.merchantIsTest, cacheMs: deps.appAccessCacheMs }),
    // Then the document itself: bounded depth, aliases, tokens and cost before any planning.
    useQueryLimits(),
  ];
}
