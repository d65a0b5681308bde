/**
 * Live subscriptions: every LIVE_SUBSCRIPTIONS_REPORT_MS this gateway tells app-management how many
 * message subscriptions it holds open per app and merchant (its rows replace what it said before),
 * for the console's traffic view. A gateway has a random id per process, so two never overwrite
 * each other; on a clean stop it reports nothing open, and a crashed one's rows age out (the
 * console counts reports of the last minute only).
 */
import crypto from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { InternalClient } from './upstream/internal-client.js';

/** How often a gateway reports; app-management counts reports of the last 60 s, so a few may fail in a row. */
export const LIVE_SUBSCRIPTIONS_REPORT_MS = 5_000;

/** Rows per call: a report of more goes in several calls (a call's body stays well under the subgraphs' 1 MB). */
export const LIVE_SUBSCRIPTIONS_ROWS_PER_CALL = 2_000;

const RECORD = `mutation RecordLiveSubscriptions($gatewayId: String!, $rows: [LiveSubscriptionRowInput!]!, $final: Boolean!, $reportStartedAt: DateTime) {
  recordLiveSubscriptions(gatewayId: $gatewayId, rows: $rows, final: $final, reportStartedAt: $reportStartedAt)
}`;

/** How long a stopping gateway waits for its last report and its withdrawal. */
const STOP_WAIT_MS = 2_000;

export type LiveSubscriptionRow = { appKey: string; merchantId: string; subscriptions: number };

export interface LiveSubscriptionReports {
  /** Stops reporting and withdraws this gateway's rows. */
  stop(): Promise<void>;
}

export function startLiveSubscriptionReports(options: {
  /** The subscriptions open on this gateway now, per app and merchant (its message channel's). */
  openSubscriptions: () => LiveSubscriptionRow[];
  callSubgraph: InternalClient;
  appManagementUrl: string;
  clock: Clock;
  logger: Logger;
}): LiveSubscriptionReports {
  const { clock, logger } = options;
  const gatewayId = crypto.randomUUID();
  let lastWasEmpty = true;
  let writes: Promise<void> = Promise.resolve();

  const call = async (rows: LiveSubscriptionRow[], final: boolean, reportStartedAt: string | null) =>
    (await options.callSubgraph<{ recordLiveSubscriptions: string }>(options.appManagementUrl, RECORD, { gatewayId, rows, final, reportStartedAt })).recordLiveSubscriptions;

  /** One call, or several for many rows: the last one (final) drops what the gateway reported before the first. */
  const send = async (rows: LiveSubscriptionRow[]) => {
    if (rows.length <= LIVE_SUBSCRIPTIONS_ROWS_PER_CALL) {
      await call(rows, true, null);
      return;
    }
    const startedAt = await call(rows.slice(0, LIVE_SUBSCRIPTIONS_ROWS_PER_CALL), false, null);
    for (let i = LIVE_SUBSCRIPTIONS_ROWS_PER_CALL; i < rows.length; i += LIVE_SUBSCRIPTIONS_ROWS_PER_CALL) {
      await call(rows.slice(i, i + LIVE_SUBSCRIPTIONS_ROWS_PER_CALL), i + LIVE_SUBSCRIPTIONS_ROWS_PER_CALL >= rows.length, startedAt);
    }
  };

  const report = (): Promise<void> => {
    // One report at a time, so an older one never lands after a newer one.
    writes = writes.then(async () => {
      const rows = options.openSubscriptions();
      // A gateway with nothing open and nothing reported before has nothing to say.
      if (!rows.length && lastWasEmpty) return;
      try {
        await send(rows);
        lastWasEmpty = !rows.length;
      } catch (error) {
        logger.warn({ err: error }, 'live subscriptions not reported; trying again at the next report');
      }
    });
    return writes;
  };

  const timer = clock.setInterval(() => void report(), LIVE_SUBSCRIPTIONS_REPORT_MS);
  // Reporting never keeps the process alive.
  timer.unref();

  /** Whether `work` settled within STOP_WAIT_MS (a stopping gateway does not wait on a subgraph that hangs). */
  const settlesInTime = (work: Promise<unknown>) =>
    new Promise<boolean>((resolve) => {
      const timeout = clock.setTimeout(() => resolve(false), STOP_WAIT_MS);
      timeout.unref();
      void work.then(() => {
        clock.clearTimeout(timeout);
        resolve(true);
      });
    });

  return {
    async stop() {
      clock.clearInterval(timer);
      const withdrawn = writes.then(async () => {
        if (lastWasEmpty) return;
        try {
          await send([]);
          lastWasEmpty = true;
        } catch (error) {
          logger.warn({ err: error }, 'live subscriptions of this gateway not withdrawn; they age out within a minute');
        }
      });
      writes = withdrawn;
      if (!(await settlesInTime(withdrawn))) logger.warn('live subscriptions of this gateway not withdrawn in time; they age out within a minute');
    },
  };
}
