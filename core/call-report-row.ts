/**
 * One minute of one key of the call report: what a gateway aggregates and sends, and what
 * app-management's `recordCallReports` takes (its GraphQL input type `CallReportRowInput`).
 * `Minute` is the minute's start: ISO-8601 text on the wire, a Date once parsed.
 */
export interface CallReportRow<Minute = string> {
  minute: Minute;
  appKey: string;
  merchantId: string;
  operationName: string;
  documentHash: string;
  outcome: string;
  calls: number;
  latencyMsSum: number;
  /** Calls per latency bucket (core/latency-histogram.ts). */
  latencyBuckets: number[];
  requestedCost: number;
  actualCost: number;
}
