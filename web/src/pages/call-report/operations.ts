/** The call report page's one operation: the app's limits and use today, and its calls over a range. */
import { operation } from '../../lib';

export type Granularity = 'HOUR' | 'DAY';

export interface CallLatency {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  mean: number | null;
}

export interface CallStats {
  calls: number;
  errors: number;
  errorRate: number;
  errorsByCode: { code: string; calls: number }[];
  latency: CallLatency;
  requestedCost: number;
  actualCost: number;
}

export interface AppUsage {
  tier: 'FREE' | 'PAID';
  bucketSize: number;
  restoreRate: number;
  flowLimitPercent: number | null;
  dailyQuota: number;
  callsToday: number | null;
  resetsAt: string;
}

export interface CallReport {
  total: CallStats;
  periods: { start: string; stats: CallStats }[];
  operations: { operationName: string; documentHash: string; stats: CallStats }[];
}

const STATS = /* GraphQL */ `calls errors errorRate errorsByCode { code calls } latency { p50 p95 p99 mean } requestedCost actualCost`;

export const APP_CALL_REPORT = operation<
  { developerApp: { key: string; name: string; usage: AppUsage; callReport: CallReport } | null },
  { key: string; from: string; to: string; granularity: Granularity }
>(/* GraphQL */ `
  query PortalCallReport($key: String!, $from: DateTime!, $to: DateTime!, $granularity: CallReportGranularity!) {
    developerApp(key: $key) {
      key
      name
      usage { tier bucketSize restoreRate flowLimitPercent dailyQuota callsToday resetsAt }
      callReport(from: $from, to: $to, granularity: $granularity) {
        total { ${STATS} }
        periods { start stats { ${STATS} } }
        operations(first: 20) { operationName documentHash stats { ${STATS} } }
      }
    }
  }
`);
