/**
 * The gateway's request pipeline, top to bottom in the order each request goes through it: cheap
 * refusals first, and nothing planned or sent to a subgraph for a refused call
 * (docs/access-layer.md).
 */
import type http from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import type { ValidationRule } from 'graphql';
import type { Caller } from '../core/caller.js';
import { cachedLookup } from '../core/cached-lookup.js';
import type { Clock } from '../core/clock.js';
import type { HttpError } from '../core/http.js';
import { createApiValidity, type OfflineApi, type OfflineFieldsOf } from './plugins/api-validity.js';
import { useAppAuthorization, type AppAccess } from './plugins/app-authorization.js';
import { useAuthenticate } from './plugins/authenticate.js';
import { useAuthorizationRevocation, type AuthorizationState } from './plugins/authorization-revocation.js';
import { useCallReport, type FinishedCall } from './plugins/call-report.js';
import { useTraceContext } from './plugins/trace-context.js';
import { useFlowControl, type FlowControlDependencies } from './plugins/flow-control.js';
import { useIpAllowlist } from './plugins/ip-allowlist.js';
import { useQueryLimits } from './plugins/query-limits.js';
import { useRequestId } from './plugins/request-id.js';
import { useFailedAuthentication, type FailedAuthenticationOptions } from './failed-authentication.js';
import { useVerifySignature } from './plugins/verify-signature.js';
import type { ReplayGuard } from './replay-guard.js';
import type { Kek } from '../core/sealing.js';
import { newRequestState, type GatewayContext, type GatewayPlugin, type RequestState } from './plugins/types.js';

export interface PipelineDependencies {
  verifyAccessToken(token: string): Promise<Caller>;
  /** The person a session cookie (portal, console, merchant page) stands for (gateway/sessions/session-caller.ts); absent: no cookie is taken. */
  sessionCaller?(req: http.IncomingMessage): Promise<Caller | undefined>;
  loadAppAccess(appKey: string): Promise<AppAccess | null>;
  authorizationState(grantId: string): Promise<AuthorizationState>;
  merchantIsTest(merchantId: string): Promise<boolean>;
  /** Whether an operator is still active (cached APP_ACCESS_CACHE_MS / 2, as an app's access). */
  operatorActive(operatorId: string): Promise<boolean>;
  /** Every API offline now or planned (one lookup for all apps, cached APP_ACCESS_CACHE_MS). */
  loadOfflineApis(): Promise<OfflineApi[]>;
  appAccessCacheMs: number;
  /** The client's address of a request (core/client-address.ts, with TRUSTED_PROXIES). */
  clientAddress(req: http.IncomingMessage): string;
  clock: Clock;
  /** Where signature nonces and DPoP proof ids are remembered (gateway/replay-guard.ts). */
  replayGuard: ReplayGuard;
  /** The key-encryption keys that open apps' sealed secrets (hmac-sha256 signatures). */
  appSecretKeks: readonly Kek[];
  /** PUBLIC_URL: the origin a signature's `@target-uri` and a DPoP proof's `htu` name. */
  publicUrl: string;
  /** Counts every call, executed or refused (the call report and the metrics). */
  recordCall(call: FinishedCall): void;
  /** Tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT): subgraph requests carry the request's traceparent. */
  tracing: boolean;
  /** Cost points and calls: the supergraph's cost directives and the counters (memory, or Redis shared by the gateways). */
  flowControl: FlowControlDependencies;
  /** Failed authentications per address: their counters (memory, or Redis shared by the gateways). */
  failedAuthentication: FailedAuthenticationOptions;
  /**
   * False only in a benchmark's comparison stack (ACCESS_CONTROLS=off): the app controls (signature,
   * IP allow list, cost and quota, call report) are left out, to measure what they cost.
   */
  accessControls: boolean;
}

export function createPipeline(deps: PipelineDependencies): Pipeline & { offlineFieldsOf: OfflineFieldsOf } {
  const { appAccessCacheMs: cacheMs, clock } = deps;
  // Fields taken offline: one cached list for the pipeline and for the message channel's events.
  const apiValidity = createApiValidity({ loadOfflineApis: deps.loadOfflineApis, cacheMs, clock });
  // What app-management says of an app: the same answer for every stage that reads it (so a change
  // bites on all of them at once), kept half of APP_ACCESS_CACHE_MS: an open subscription is
  // re-checked every half of it too (gateway/server.ts), so a suspension or a narrowed allow list
  // ends it within APP_ACCESS_CACHE_MS, as it refuses a request.
  const appAccess = cachedLookup(deps.loadAppAccess, { ttlMs: cacheMs / 2, maxEntries: 10_000, clock });
  const control = (plugin: GatewayPlugin): GatewayPlugin[] => (deps.accessControls ? [plugin] : []);
  const pipeline = composePipeline([
    useRequestId({ clientAddress: deps.clientAddress }),
    // An address that failed to authenticate too often is refused before its token or signature is looked at.
    useFailedAuthentication(deps.failedAuthentication),
    // Who is calling (the token), then whether that app may call and with which scopes.
    useAuthenticate({ verifyAccessToken: deps.verifyAccessToken, sessionCaller: deps.sessionCaller, replayGuard: deps.replayGuard, publicUrl: deps.publicUrl, clock }),
    ...control(useVerifySignature({ appAccess, replayGuard: deps.replayGuard, keks: deps.appSecretKeks, publicUrl: deps.publicUrl, clock })),
    ...control(useIpAllowlist({ appAccess })),
    useAuthorizationRevocation({ stateOf: deps.authorizationState, cacheMs, clock }),
    useAppAuthorization({ appAccess, operatorActive: cachedLookup(deps.operatorActive, { ttlMs: cacheMs / 2, maxEntries: 1_000, clock }), merchantIsTest: deps.merchantIsTest, clock }),
    // Fields operators took offline: null with API_OFFLINE, cut out before the gateway plans.
    apiValidity.plugin,
    // Then the document itself: bounded depth, aliases, tokens and cost before any planning.
    useQueryLimits(),
    // Last before execution: the operation's cost must fit in the app's bucket, the call in its daily quota.
    ...control(useFlowControl({ ...deps.flowControl, appAccess, clock })),
    // Execution, then: every call counted, refused ones too.
    ...control(useCallReport({ recordCall: deps.recordCall })),
    // Only with tracing on: the request's trace goes on to the subgraphs.
    ...(deps.tracing ? [useTraceContext()] : []),
  ]);
  return { ...pipeline, offlineFieldsOf: apiValidity.offlineFieldsOf };
}

/** The pipeline's concerns, gathered by stage once, when it is built. */
export interface Pipeline {
  /** Runs every request-stage hook in order on `state`; throws the HttpError that refuses the request. */
  run(req: http.IncomingMessage, state: RequestState): Promise<void>;
  /**
   * Runs the pipeline for a long-lived connection's request (the WebSocket upgrade, the SSE
   * request), and again on the same request for each re-check while it lives: its caller and
   * request id, or the HttpError that refuses it. `credentials`: what the connection gave besides
   * its headers (graphql-ws connection parameters).
   */
  authorize(req: http.IncomingMessage, credentials: { authorization?: string | undefined }): Promise<{ caller: Caller; requestId: string }>;
  /** Tells every concern with a refusal stage that `error` refused the request of `state` (before the refusal is sent). */
  refused(state: RequestState, error: HttpError): void;
  /** The concerns with a subgraph-request stage, in pipeline order (see GatewayPlugin.onSubgraphRequest). */
  readonly subgraphRequestHooks: readonly GatewayPlugin[];
  readonly apolloPlugins: readonly ApolloServerPlugin<GatewayContext>[];
  readonly validationRules: readonly ValidationRule[];
}

export function composePipeline(plugins: readonly GatewayPlugin[]): Pipeline {
  const requestHooks = plugins.filter((p) => p.onRequest);
  const refusalHooks = plugins.filter((p) => p.onRefusal);
  async function run(req: http.IncomingMessage, state: RequestState) {
    for (let i = 0; i < requestHooks.length; i++) {
      const pending = requestHooks[i]!.onRequest!(req, state);
      // A synchronous hook (the request id) costs no turn of the microtask queue.
      if (pending) await pending;
    }
  }
  return {
    run,
    async authorize(req, credentials) {
      const state = newRequestState(credentials.authorization);
      await run(req, state);
      return { caller: state.caller!, requestId: state.requestId };
    },
    refused(state, error) {
      for (const plugin of refusalHooks) plugin.onRefusal!(state, error);
    },
    subgraphRequestHooks: plugins.filter((p) => p.onSubgraphRequest),
    apolloPlugins: plugins.flatMap((p) => p.apolloPlugins ?? []),
    validationRules: plugins.flatMap((p) => p.validationRules ?? []),
  };
}
