/**
 * The call report's gateway side: every app's calls counted in memory per minute and key (app,
 * merchant, operation, document, outcome) with a latency histogram and the cost, and written to
 * app-management in batches every few seconds and when the gateway stops (never a write per call).
 * Rows of the same minute and key add up there, so several gateways and several flushes of one
 * minute make one row. Rows older than the retention (90 days) are purged once an hour.
 */
import type { Clock, ClockTimer } from '../core/clock.js';
import { LATENCY_BUCKETS, emptyHistogram, latencyBucket } from '../core/latency-histogram.js';
import type { Logger } from '../core/logger.js';
import type { CallSink, FinishedCall } from './plugins/call-report.js';

import type { CallReportRow } from '../core/call-report-row.js';

/** Where rows go: app-management's internal mutations (see createCallReportWriter). */
export interface CallReportStore {
  write(rows: readonly CallReportRow[]): Promise<void>;
  /** Deletes rows of minutes before `before`; how many. */
  purge(before: Date): Promise<number>;
}

/** How often pending rows are written. A few seconds: a report is current to within them. */
export const CALL_REPORT_FLUSH_MS = 5_000;
/** Rows per write: one mutation of this many rows stays far below a request body's limit. */
export const CALL_REPORT_BATCH_ROWS = 500;
/** How long call reports are kept. */
export const CALL_REPORT_RETENTION_DAYS = 90;
const PURGE_INTERVAL_MS = 3_600_000;
/** The first purge, after start (not at once: a starting gateway has more urgent work). */
const FIRST_PURGE_MS = 60_000;
/**
 * Distinct keys one gateway counts per minute; calls of further keys in that minute are counted
 * under their app and outcome as the operation OVERFLOW_OPERATION. Bounds the memory a client can
 * make the gateway hold by sending many different documents.
 */
export const MAX_KEYS_PER_MINUTE = 5_000;
/** Not a GraphQL name, so no real operation is confused with it. */
export const OVERFLOW_OPERATION = '(overflow)';
/** Rows that could not be written are tried again for this long, then dropped (logged). */
const MAX_BACKLOG_MS = 3_600_000;

const MINUTE_MS = 60_000;

export interface CallReportAggregator extends CallSink {
  /** Writes every pending row now (the timer does it every CALL_REPORT_FLUSH_MS). */
  flush(): Promise<void>;
  /** Purges rows past the retention now (the timer does it hourly). */
  purgeExpired(): Promise<number>;
  /** Stops the timers and writes what is pending. */
  stop(): Promise<void>;
}

export function createCallReportAggregator(options: { store: CallReportStore; clock: Clock; logger: Logger }): CallReportAggregator {
  const { store, clock, logger } = options;
  let pending = new Map<string, CallReportRow>();
  let currentMinute = 0;
  let keysThisMinute = new Set<string>();
  /** The last write asked for (writeAll never rejects: a failed batch is kept for the next). */
  let writes: Promise<void> = Promise.resolve();

  function recordCall(call: FinishedCall) {
    const caller = call.caller;
    // Reports are per app: operators' and the platform's own calls are in the metrics only.
    if (caller?.kind !== 'app') return;
    const minute = Math.floor(clock.now() / MINUTE_MS) * MINUTE_MS;
    if (minute !== currentMinute) {
      currentMinute = minute;
      keysThisMinute = new Set();
    }
    const merchantId = caller.merchantId ?? '';
    let key = `${minute}\u0000${caller.appKey}\u0000${merchantId}\u0000${call.operationName}\u0000${call.documentHash}\u0000${call.outcome}`;
    let row = pending.get(key);
    if (!row) {
      const overflow = !keysThisMinute.has(key) && keysThisMinute.size >= MAX_KEYS_PER_MINUTE;
      if (overflow) {
        key = `${minute}\u0000${caller.appKey}\u0000\u0000${OVERFLOW_OPERATION}\u0000\u0000${call.outcome}`;
        row = pending.get(key);
      } else keysThisMinute.add(key);
      if (!row) {
        row = {
          minute: new Date(minute).toISOString(),
          appKey: caller.appKey,
          merchantId: overflow ? '' : merchantId,
          operationName: overflow ? OVERFLOW_OPERATION : call.operationName,
          documentHash: overflow ? '' : call.documentHash,
          outcome: call.outcome,
          calls: 0,
          latencyMsSum: 0,
          latencyBuckets: emptyHistogram(),
          requestedCost: 0,
          actualCost: 0,
        };
        pending.set(key, row);
      }
    }
    row.calls += 1;
    row.latencyMsSum += call.latencyMs;
    row.latencyBuckets[latencyBucket(call.latencyMs)]! += 1;
    row.requestedCost += call.requestedCost;
    row.actualCost += call.actualCost;
  }

  async function writeAll() {
    const rows = [...pending.entries()];
    pending = new Map();
    for (let i = 0; i < rows.length; i += CALL_REPORT_BATCH_ROWS) {
      const batch = rows.slice(i, i + CALL_REPORT_BATCH_ROWS);
      try {
        await store.write(batch.map(([, row]) => row));
      } catch (error) {
        keepForRetry(rows.slice(i));
        logger.warn({ err: error, rows: rows.length - i }, 'call report rows not written; trying again at the next flush');
        return;
      }
    }
  }

  /** Puts rows back (adding to any counted since), except those too old to be worth another try. */
  function keepForRetry(rows: [string, CallReportRow][]) {
    const oldest = clock.now() - MAX_BACKLOG_MS;
    let dropped = 0;
    for (const [key, row] of rows) {
      if (Date.parse(row.minute) < oldest) {
        dropped += row.calls;
        continue;
      }
      const since = pending.get(key);
      if (since) {
        row.calls += since.calls;
        row.latencyMsSum += since.latencyMsSum;
        for (let b = 0; b < LATENCY_BUCKETS; b++) row.latencyBuckets[b]! += since.latencyBuckets[b]!;
        row.requestedCost += since.requestedCost;
        row.actualCost += since.actualCost;
      }
      pending.set(key, row);
    }
    if (dropped) logger.error({ calls: dropped }, 'call report rows older than an hour could not be written and were dropped');
  }

  function flush(): Promise<void> {
    // One write at a time: a flush asked during one runs after it, with what was counted since.
    const next = writes.then(() => (pending.size ? writeAll() : undefined));
    writes = next;
    return next;
  }

  async function purgeExpired(): Promise<number> {
    const before = new Date(clock.now() - CALL_REPORT_RETENTION_DAYS * 86_400_000);
    const purged = await store.purge(before);
    if (purged) logger.info({ rows: purged, before: before.toISOString() }, 'call report rows past the retention purged');
    return purged;
  }

  const timers: ClockTimer[] = [
    clock.setInterval(() => void flush(), CALL_REPORT_FLUSH_MS),
    clock.setTimeout(() => {
      const purge = () => void purgeExpired().catch((error: unknown) => logger.warn({ err: error }, 'call report purge failed; trying again in an hour'));
      purge();
      timers.push(clock.setInterval(purge, PURGE_INTERVAL_MS));
      timers.at(-1)!.unref();
    }, FIRST_PURGE_MS),
  ];
  for (const timer of timers) timer.unref();

  return {
    recordCall,
    flush,
    purgeExpired,
    async stop() {
      clock.clearInterval(timers[0]);
      clock.clearTimeout(timers[1]);
      if (timers[2]) clock.clearInterval(timers[2]);
      await flush();
    },
  };
}
