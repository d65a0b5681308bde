/**
 * Cost-based flow control and the daily quota, the last stage before execution (Shopify's leaky
 * bucket). Once a document is parsed, validated and its operation known, and before it is planned:
 * - its requested cost (gateway/cost/calculator.ts, from the schema's @cost and @listSize) above
 *   the app's whole bucket: refused, HTTP 400 `MAX_COST_EXCEEDED` (no wait would let it through);
 * - the app past its daily quota: HTTP 429 `QUOTA_EXCEEDED`, Retry-After and `resetsAt` (UTC midnight);
 * - the bucket of the app × merchant (the app's own, for app-level tokens) holding fewer points:
 *   HTTP 429 `THROTTLED` with Retry-After (seconds until enough points are back); nothing executed.
 * Else the call is counted and its points taken; after execution the difference between requested
 * and actual cost (the answer's real list lengths) goes back into the bucket. Every answer to an app
 * carries `extensions.cost { requestedQueryCost actualQueryCost throttleStatus { maximumAvailable
 * currentlyAvailable restoreRate } }`, and the context `cost` that the call report records.
 *
 * Operators' calls and the message channel's entity sub-queries (the platform's own work for an
 * event, `shareRequests`) are not metered. The counters are in memory, or in Redis shared by every
 * gateway; while Redis does not answer, REDIS_FAILURE_MODE decides: `open` lets calls through
 * uncounted (the outage logged once), `closed` refuses them with 503 SERVICE_UNAVAILABLE.
 */
import { HeaderMap, type ApolloServerPlugin, type GraphQLRequestContext } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { Clock } from '../../core/clock.js';
import { ErrorCode } from '../../core/errors.js';
import { nextUtcMidnight, type Admission, type FlowCounters } from '../../core/flow-counters.js';
import { createCostCalculator } from '../cost/calculator.js';
import type { SchemaCosts } from '../cost/schema-costs.js';
import type { AppAccess, AppLimits } from './app-authorization.js';
import type { GatewayContext, GatewayPlugin } from './types.js';

/** What the gateway hands flow control (server.ts). */
export interface FlowControlDependencies {
  /** The supergraph's cost directives. */
  costs: SchemaCosts;
  counters: FlowCounters;
  /** REDIS_FAILURE_MODE: what a call gets while the counters do not answer. */
  failureMode: 'open' | 'closed';
  /** Notes that the counters failed (logged once per outage). */
  countersFailed(error: unknown): void;
}

export interface FlowControlOptions extends FlowControlDependencies {
  /** What app-management says of an app (cached for APP_ACCESS_CACHE_MS by the pipeline): its limits. */
  appAccess(appKey: string): Promise<AppAccess | null>;
  clock: Clock;
}

/** The `extensions.cost` of an answer (Shopify's shape). */
export interface CostExtension {
  requestedQueryCost: number;
  /** Null when nothing was executed (refused before execution). */
  actualQueryCost: number | null;
  throttleStatus: { maximumAvailable: number; currentlyAvailable: number; restoreRate: number } | null;
}

function refusal(status: number, code: string, message: string, extensions: Record<string, unknown>, headers: Record<string, string> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions, http: { status, headers: new HeaderMap(Object.entries(headers)) } } });
}

/** Whole seconds until `points` more are back in a bucket restoring `rate` a second (at least 1). */
const secondsUntil = (points: number, rate: number) => Math.max(1, Math.ceil(points / rate));

export function useFlowControl(options: FlowControlOptions): GatewayPlugin {
  const { clock, counters } = options;
  const calculator = createCostCalculator(options.costs);

  /** The admission, or the error refusing the call; undefined: let through uncounted (Redis away, fail open). */
  async function admit(appKey: string, merchantId: string, requested: number, limits: AppLimits): Promise<Admission | undefined> {
    try {
      return await counters.admit({ appKey, merchantId, cost: requested, limits, dailyQuota: limits.dailyQuota, now: clock.now() });
    } catch (error) {
      options.countersFailed(error);
      if (options.failureMode === 'open') return undefined;
      throw refusal(503, ErrorCode.SERVICE_UNAVAILABLE, 'Flow control is unavailable just now: try again shortly', { retryable: true }, { 'retry-after': '1' });
    }
  }

  const plugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart() {
      let requested: number | undefined;
      let metered: { appKey: string; merchantId: string; limits: AppLimits } | undefined;
      let admission: Admission | undefined;
      let executed = false;
      const costOf = (context: GraphQLRequestContext<GatewayContext>, data: unknown) =>
        calculator.actualCost(context.schema, context.document!, context.operationName, context.request.variables, data);
      return {
        async didResolveOperation(context) {
          const { caller, shareRequests } = context.contextValue;
          if (shareRequests || !caller) return;
          requested = calculator.requestedCost(context.schema, context.document, context.operationName, context.request.variables);
          if (caller.kind !== 'app') return;
          const access = await options.appAccess(caller.appKey);
          if (!access) return;
          const { limits } = access;
          metered = { appKey: caller.appKey, merchantId: caller.merchantId ?? '', limits };
          if (requested > limits.bucketSize) {
            throw refusal(
              400,
              ErrorCode.MAX_COST_EXCEEDED,
              `The operation's requested cost is ${requested} points, more than the app's bucket holds (${limits.bucketSize}): ask for fewer items (a smaller \`first\`) or split it`,
              { requestedQueryCost: requested, maximumAvailable: limits.bucketSize },
            );
          }
          admission = await admit(metered.appKey, metered.merchantId, requested, limits);
          if (admission?.outcome === 'quota-exceeded') {
            const now = clock.now();
            const resetsAt = new Date(nextUtcMidnight(now)).toISOString();
            throw refusal(
              429,
              ErrorCode.QUOTA_EXCEEDED,
              `The app made its daily quota of ${limits.dailyQuota} calls; it resets at ${resetsAt} (UTC midnight)`,
              { dailyQuota: limits.dailyQuota, resetsAt },
              { 'retry-after': String(secondsUntil(nextUtcMidnight(now) - now, 1000)) },
            );
          }
          if (admission?.outcome === 'throttled') {
            const retryAfter = secondsUntil(requested - admission.available, limits.restoreRate);
            throw refusal(
              429,
              ErrorCode.THROTTLED,
              `Throttled: the operation costs ${requested} points and ${Math.floor(admission.available)} are available, restored at ${limits.restoreRate} a second; retry in ${retryAfter} s`,
              { retryAfter },
              { 'retry-after': String(retryAfter) },
            );
          }
        },
        async executionDidStart() {
          executed = true;
        },
        async willSendResponse(context) {
          if (requested === undefined || context.response.body.kind !== 'single') return;
          const result = context.response.body.singleResult;
          const actual = executed ? costOf(context, result.data) : null;
          // Set before any wait: the call report's willSendResponse runs alongside this one and reads it.
          context.contextValue.cost = { requested, actual: actual ?? 0 };
          let throttleStatus: CostExtension['throttleStatus'] = null;
          // The bucket's status when it was consulted (not for a call refused before, or let through while Redis was away).
          if (metered && admission) {
            const { appKey, merchantId, limits } = metered;
            let available = 'available' in admission ? admission.available : limits.bucketSize;
            if (admission.outcome === 'admitted') {
              // Refunded: what was requested and not used (all of it when another stage refused the call).
              const refund = requested - (actual ?? 0);
              if (refund !== 0) {
                try {
                  available = await counters.refund(appKey, merchantId, refund, limits, clock.now());
                } catch (error) {
                  options.countersFailed(error);
                }
              }
            }
            throttleStatus = { maximumAvailable: limits.bucketSize, currentlyAvailable: Math.floor(available), restoreRate: limits.restoreRate };
          }
          const cost: CostExtension = { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus };
          result.extensions = { ...result.extensions, cost };
        },
      };
    },
  };
  return { name: 'flow-control', apolloPlugins: [plugin] };
}
