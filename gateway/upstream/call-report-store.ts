/**
 * Where the gateway's call report rows go: app-management's internal mutations, through the
 * gateway's internal client (the `system` caller, `internal` scope).
 */
import type { CallReportRow } from '../../core/call-report-row.js';
import type { CallReportStore } from '../call-reports.js';
import type { InternalClient } from './internal-client.js';

const RECORD = 'mutation Record($rows: [CallReportRowInput!]!) { recordCallReports(rows: $rows) }';
const PURGE = 'mutation Purge($before: DateTime!) { purgeCallReports(before: $before) }';

export function createCallReportStore(callSubgraph: InternalClient, appManagementUrl: string): CallReportStore {
  return {
    async write(rows: readonly CallReportRow[]) {
      await callSubgraph<{ recordCallReports: number }>(appManagementUrl, RECORD, { rows });
    },
    async purge(before: Date) {
      return (await callSubgraph<{ purgeCallReports: number }>(appManagementUrl, PURGE, { before: before.toISOString() })).purgeCallReports;
    },
  };
}
