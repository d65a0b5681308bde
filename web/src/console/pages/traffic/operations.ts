/** The GraphQL operations of the traffic pages; their types are generated (npm run web:types). */
import { operation } from '../../../lib';
import type * as G from '../../../generated/operations';

export type Granularity = G.ConsolePlatformTrafficVariables['granularity'];
export type PlatformReport = G.ConsolePlatformTrafficResult['platformCallReport'];
export type CallStats = PlatformReport['total'];
export type TopApp = PlatformReport['byCalls'][number];
export type LiveSubscriptions = G.ConsoleLiveSubscriptionsResult['liveSubscriptions'];
export type AppTraffic = NonNullable<G.ConsoleAppTrafficResult['app']>;

const STATS = /* GraphQL */ `calls errors errorRate errorsByCode { code calls } latency { p50 p95 p99 mean } requestedCost actualCost`;
const TOP_APP = /* GraphQL */ `app { key name status developer { name } } stats { calls errors errorRate actualCost }`;

export const PLATFORM_TRAFFIC = operation<G.ConsolePlatformTrafficResult, G.ConsolePlatformTrafficVariables>(/* GraphQL */ `
  query ConsolePlatformTraffic($from: DateTime!, $to: DateTime!, $granularity: CallReportGranularity!) {
    platformCallReport(from: $from, to: $to, granularity: $granularity) {
      total { ${STATS} }
      periods { start stats { ${STATS} } }
      byCalls: topApps(by: CALLS, first: 10) { ${TOP_APP} }
      byCost: topApps(by: COST, first: 10) { ${TOP_APP} }
      byErrors: topApps(by: ERRORS, first: 10) { ${TOP_APP} }
    }
  }
`);

export const LIVE_SUBSCRIPTIONS = operation<G.ConsoleLiveSubscriptionsResult, G.ConsoleLiveSubscriptionsVariables>(/* GraphQL */ `
  query ConsoleLiveSubscriptions {
    liveSubscriptions {
      total
      reportedAt
      apps(first: 20) { subscriptions merchants app { key name developer { name } } }
    }
  }
`);

export const APP_TRAFFIC = operation<G.ConsoleAppTrafficResult, G.ConsoleAppTrafficVariables>(/* GraphQL */ `
  query ConsoleAppTraffic($key: String!, $from: DateTime!, $to: DateTime!, $granularity: CallReportGranularity!) {
    app(key: $key) {
      key
      name
      status
      developer { id name }
      usage { tier bucketSize restoreRate flowLimitPercent dailyQuota callsToday resetsAt }
      callReport(from: $from, to: $to, granularity: $granularity) {
        total { ${STATS} }
        periods { start stats { ${STATS} } }
        operations(first: 20) { operationName documentHash stats { ${STATS} } }
      }
    }
  }
`);
