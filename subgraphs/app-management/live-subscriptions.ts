/**
 * Live subscriptions: the message subscriptions open now, as each gateway last reported them
 * (gateway/live-subscriptions.ts, every few seconds). A gateway's report replaces its earlier rows;
 * reads count only reports of the last minute, so a gateway that stopped without saying so (a
 * crash) drops out on its own, and its rows are deleted at a later report of any gateway.
 */
import { and, desc, eq, gte, lt, sql } from 'drizzle-orm';
import type { Caller } from '../../core/caller.js';
import type { Clock } from '../../core/clock.js';
import type { Db } from '../../core/db.js';
import { badInput, forbidden } from '../../core/errors.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import { liveSubscriptions, type AppRow } from './tables.js';

/** Reports older than this count no more (a gateway reports every 5 s: a silent minute means it is gone). */
export const LIVE_REPORT_WINDOW_MS = 60_000;
/** Rows older than this are deleted at any gateway's next report: well past the window, so no read misses them. */
const STALE_ROWS_MS = 10 * 60_000;
/** Rows one call may carry (one per app and merchant with a subscription open on that gateway; ~100 bytes each). */
export const MAX_LIVE_ROWS = 5_000;
/** Apps `apps(first)` lists at most. */
const MAX_LISTED_APPS = 200;

export interface LiveSubscriptionRowInput {
  appKey: string;
  merchantId: string;
  subscriptions: number;
}

/** One app's open subscriptions, over every gateway that reported in the window. */
export interface AppLiveCount {
  appKey: string;
  subscriptions: number;
  merchants: number;
}

const CONTROL = /[\u0000-\u001f\u007f]/;

function checkKey(value: string, field: string, allowEmpty: boolean): void {
  if ((!allowEmpty && !value) || value.length > 64 || CONTROL.test(value)) throw badInput(`${field} must be ${allowEmpty ? '' : 'non-empty '}text of at most 64 characters without control characters`, field);
}

/** The rows checked (a bad one refuses the whole report) and those of one app and merchant added up. */
function mergedRows(rows: readonly LiveSubscriptionRowInput[]): LiveSubscriptionRowInput[] {
  if (rows.length > MAX_LIVE_ROWS) throw badInput(`At most ${MAX_LIVE_ROWS} rows per call`, 'rows');
  const merged = new Map<string, LiveSubscriptionRowInput>();
  rows.forEach((row, i) => {
    checkKey(row.appKey, `rows[${i}].appKey`, false);
    checkKey(row.merchantId, `rows[${i}].merchantId`, true);
    if (!Number.isSafeInteger(row.subscriptions) || row.subscriptions < 1) throw badInput(`rows[${i}].subscriptions must be an integer of at least 1`, `rows[${i}].subscriptions`);
    const key = `${row.appKey}\u0000${row.merchantId}`;
    const same = merged.get(key);
    if (same) same.subscriptions += row.subscriptions;
    else merged.set(key, { ...row });
  });
  return [...merged.values()];
}

export function createLiveSubscriptionStore(db: Db, clock: Clock) {
  return {
    /**
     * Records a gateway's rows (one transaction: a read sees them all or none). A report in one call
     * (`final`, no `reportStartedAt`) replaces the gateway's rows; a report in several calls adds
     * its rows call by call, and its final call deletes the gateway's rows recorded before
     * `reportStartedAt`, so that readers meanwhile see the old count of a pair, never none.
     * When the rows were recorded.
     */
    async record(gatewayId: string, rows: readonly LiveSubscriptionRowInput[], report: { final: boolean; reportStartedAt: Date | null }): Promise<Date> {
      checkKey(gatewayId, 'gatewayId', false);
      const values = mergedRows(rows);
      const reportedAt = new Date(clock.now());
      if (report.reportStartedAt && report.reportStartedAt.getTime() > reportedAt.getTime()) throw badInput('reportStartedAt must be what the report\'s first call answered', 'reportStartedAt');
      await db.transaction(async (tx) => {
        const ofGateway = eq(liveSubscriptions.gatewayId, gatewayId);
        if (report.final && !report.reportStartedAt) await tx.delete(liveSubscriptions).where(ofGateway);
        if (values.length) {
          await tx
            .insert(liveSubscriptions)
            .values(values.map((row) => ({ ...row, gatewayId, reportedAt })))
            .onConflictDoUpdate({ target: [liveSubscriptions.gatewayId, liveSubscriptions.appKey, liveSubscriptions.merchantId], set: { subscriptions: sql`excluded.subscriptions`, reportedAt } });
        }
        if (report.final && report.reportStartedAt) await tx.delete(liveSubscriptions).where(and(ofGateway, lt(liveSubscriptions.reportedAt, report.reportStartedAt)));
        await tx.delete(liveSubscriptions).where(lt(liveSubscriptions.reportedAt, new Date(reportedAt.getTime() - STALE_ROWS_MS)));
      });
      return reportedAt;
    },

    /** Per app, most subscriptions first, with when the freshest report in the window came. */
    async current(): Promise<{ apps: AppLiveCount[]; reportedAt: Date | null }> {
      const since = new Date(clock.now() - LIVE_REPORT_WINDOW_MS);
      const subscriptions = sql<number>`sum(${liveSubscriptions.subscriptions})::int`;
      const rows = await db
        .select({
          appKey: liveSubscriptions.appKey,
          subscriptions,
          merchants: sql<number>`count(distinct ${liveSubscriptions.merchantId})::int`,
          reportedAt: sql<Date>`max(${liveSubscriptions.reportedAt})`.mapWith(liveSubscriptions.reportedAt),
        })
        .from(liveSubscriptions)
        .where(gte(liveSubscriptions.reportedAt, since))
        .groupBy(liveSubscriptions.appKey)
        .orderBy(desc(subscriptions), liveSubscriptions.appKey);
      const newest = rows.reduce((max, row) => Math.max(max, row.reportedAt.getTime()), Number.NEGATIVE_INFINITY);
      return {
        apps: rows.map((row) => ({ appKey: row.appKey, subscriptions: Number(row.subscriptions), merchants: Number(row.merchants) })),
        reportedAt: rows.length ? new Date(newest) : null,
      };
    },
  };
}

export type LiveSubscriptionStore = ReturnType<typeof createLiveSubscriptionStore>;

type Context = SubgraphContext<{ app: { load(key: string): Promise<AppRow | null> } }>;

/** What a LiveSubscriptions object carries to its fields: the one read they share. */
interface LiveSource {
  current: Promise<{ apps: AppLiveCount[]; reportedAt: Date | null }>;
}

function operatorOnly(caller: Caller): void {
  if (caller.kind !== 'operator') throw forbidden('Only operators may do this');
}

export function createLiveSubscriptionResolvers(store: LiveSubscriptionStore) {
  return {
    Query: {
      liveSubscriptions: (_: unknown, __: unknown, ctx: Context): LiveSource => {
        operatorOnly(ctx.caller);
        return { current: store.current() };
      },
    },
    Mutation: {
      recordLiveSubscriptions: (_: unknown, args: { gatewayId: string; rows: LiveSubscriptionRowInput[]; final: boolean; reportStartedAt?: Date | null }, ctx: Context) => {
        if (ctx.caller.kind !== 'system') throw forbidden('Internal');
        return store.record(args.gatewayId, args.rows, { final: args.final, reportStartedAt: args.reportStartedAt ?? null });
      },
    },
    LiveSubscriptions: {
      total: async (source: LiveSource) => (await source.current).apps.reduce((sum, app) => sum + app.subscriptions, 0),
      reportedAt: async (source: LiveSource) => (await source.current).reportedAt,
      apps: async (source: LiveSource, args: { first: number }, ctx: Context) => {
        if (!Number.isInteger(args.first) || args.first < 1 || args.first > MAX_LISTED_APPS) throw badInput(`first must be from 1 to ${MAX_LISTED_APPS}`, 'first');
        // An app deleted since its gateway reported is left out (its subscriptions end at the next recheck).
        const listed = (await source.current).apps.slice(0, args.first);
        const found = await Promise.all(listed.map((row) => ctx.loaders.app.load(row.appKey)));
        return listed.flatMap((row, i) => (found[i] ? [{ app: found[i], subscriptions: row.subscriptions, merchants: row.merchants }] : []));
      },
    },
  };
}
