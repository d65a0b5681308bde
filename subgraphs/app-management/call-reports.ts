/**
 * Call reports: what the gateways counted (per minute, app, merchant, operation, document and
 * outcome, with a latency histogram and the cost), stored by their internal mutation, read back by
 * the app itself (app-level token) and by operators, and purged after 90 days.
 *
 * Rows of the same minute and key add up: each gateway writes what it counted since its last
 * flush, so a minute's row is the sum of every gateway's flushes of it. Reads sum rows in SQL per
 * hour or day (UTC), bucket by bucket, so any range's percentiles come from the same histogram.
 */
import type { CallReportRow } from '../../core/call-report-row.js';
import { and, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { Caller } from '../../core/caller.js';
import type { Db } from '../../core/db.js';
import { badInput, forbidden } from '../../core/errors.js';
import { LATENCY_BUCKETS, addHistogram, emptyHistogram, latencyPercentile } from '../../core/latency-histogram.js';
import { scalarResolvers } from '../../core/scalars.js';
import type { SubgraphContext } from '../../core/subgraph.js';
import { apps, callReports, type AppRow } from './tables.js';

/** The outcome of a call that answered without an error. */
const OK = 'OK';
/** Rows one recordCallReports may carry (the gateway sends at most 500). */
export const MAX_RECORDED_ROWS = 1_000;
/** Longest ranges a report covers: a month by the hour, a year by the day (rows are kept 90 days). */
const MAX_HOURS = 31 * 24;
const MAX_DAYS = 366;
/** Operations and apps a report lists at most. */
const MAX_LISTED = 200;

export type Granularity = 'HOUR' | 'DAY';
export type AppRanking = 'CALLS' | 'COST' | 'ERRORS' | 'ERROR_RATE';

/** One row as the gateway sends it, its minute parsed (the `DateTime` scalar). */
export type CallReportRowInput = CallReportRow<Date>;

/** Sums of a group of rows with one outcome. */
interface OutcomeSums {
  outcome: string;
  calls: number;
  latencyMsSum: number;
  buckets: number[];
  requestedCost: number;
  actualCost: number;
}

/** What a report's figures are about: one app, or (appId null) the whole platform. */
interface ReportScope {
  appId: string | null;
  from: Date;
  to: Date;
  granularity: Granularity;
  operationName: string | null;
}

const CONTROL = /[\u0000-\u001f\u007f]/;

function checkText(value: string, field: string, row: number, max: number, allowEmpty = true): void {
  if ((!allowEmpty && !value) || value.length > max || CONTROL.test(value)) {
    throw badInput(`rows[${row}].${field} must be ${allowEmpty ? '' : 'non-empty '}text of at most ${max} characters without control characters`, `rows[${row}].${field}`);
  }
}

function checkCount(value: number, field: string, row: number, min = 0): void {
  if (!Number.isSafeInteger(value) || value < min) throw badInput(`rows[${row}].${field} must be an integer of at least ${min}`, `rows[${row}].${field}`);
}

/** Every row checked before anything is written: a bad one refuses the whole batch. */
function checkRows(rows: readonly CallReportRowInput[]): void {
  if (rows.length > MAX_RECORDED_ROWS) throw badInput(`At most ${MAX_RECORDED_ROWS} rows per call`, 'rows');
  rows.forEach((row, i) => {
    if (row.minute.getTime() % 60_000 !== 0) throw badInput(`rows[${i}].minute must be the start of a minute`, `rows[${i}].minute`);
    checkText(row.appKey, 'appKey', i, 64, false);
    checkText(row.merchantId, 'merchantId', i, 64);
    checkText(row.operationName, 'operationName', i, 100);
    checkText(row.documentHash, 'documentHash', i, 64);
    checkText(row.outcome, 'outcome', i, 64, false);
    checkCount(row.calls, 'calls', i, 1);
    checkCount(row.requestedCost, 'requestedCost', i);
    checkCount(row.actualCost, 'actualCost', i);
    if (!Number.isFinite(row.latencyMsSum) || row.latencyMsSum < 0) throw badInput(`rows[${i}].latencyMsSum must be a number of at least 0`, `rows[${i}].latencyMsSum`);
    if (row.latencyBuckets.length !== LATENCY_BUCKETS) throw badInput(`rows[${i}].latencyBuckets must have ${LATENCY_BUCKETS} buckets`, `rows[${i}].latencyBuckets`);
    let inBuckets = 0;
    for (const count of row.latencyBuckets) {
      checkCount(count, 'latencyBuckets', i);
      inBuckets += count;
    }
    if (inBuckets !== row.calls) throw badInput(`rows[${i}].latencyBuckets must hold its ${row.calls} calls`, `rows[${i}].latencyBuckets`);
  });
}

/** The range a report may cover, or a BAD_USER_INPUT. */
function checkRange(from: Date, to: Date, granularity: Granularity): void {
  if (to.getTime() <= from.getTime()) throw badInput('`to` must be after `from`', 'to');
  const hours = (to.getTime() - from.getTime()) / 3_600_000;
  if (granularity === 'HOUR' && hours > MAX_HOURS) throw badInput(`An hourly report covers at most ${MAX_HOURS / 24} days`, 'to');
  if (granularity === 'DAY' && hours > MAX_DAYS * 24) throw badInput(`A daily report covers at most ${MAX_DAYS} days`, 'to');
}

function checkFirst(first: number): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_LISTED) throw badInput(`first must be from 1 to ${MAX_LISTED}`, 'first');
  return first;
}

/** A number from the driver (bigint columns come back as strings from pg, as numbers or bigints from PGlite). */
const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));

/** Sums of the selected rows, the histogram summed bucket by bucket (arrays are 1-based in SQL). */
const SUMS = {
  calls: sql<string>`sum(${callReports.calls})`,
  latencyMsSum: sql<string>`sum(${callReports.latencyMsSum})`,
  buckets: sql<unknown[]>`array[${sql.raw(Array.from({ length: LATENCY_BUCKETS }, (_, i) => `sum(latency_buckets[${i + 1}])`).join(', '))}]`,
  requestedCost: sql<string>`sum(${callReports.requestedCost})`,
  actualCost: sql<string>`sum(${callReports.actualCost})`,
};

const toSums = (row: { outcome: string; calls: unknown; latencyMsSum: unknown; buckets: unknown[]; requestedCost: unknown; actualCost: unknown }): OutcomeSums => ({
  outcome: row.outcome,
  calls: num(row.calls),
  latencyMsSum: num(row.latencyMsSum),
  buckets: row.buckets.map(num),
  requestedCost: num(row.requestedCost),
  actualCost: num(row.actualCost),
});

/** The start of a row's hour or day (UTC), as ms since the epoch. */
const periodOf = (granularity: Granularity): SQL<number> =>
  sql<number>`(extract(epoch from date_trunc(${sql.raw(granularity === 'HOUR' ? "'hour'" : "'day'")}, ${callReports.minute} at time zone 'UTC')) * 1000)::float8`;

/** The figures a report shows for a set of calls. */
export interface CallStats {
  calls: number;
  errors: number;
  errorRate: number;
  errorsByCode: { code: string; calls: number }[];
  latency: { p50: number | null; p95: number | null; p99: number | null; mean: number | null };
  requestedCost: number;
  actualCost: number;
}

/** Adds up groups of one outcome each into a report's figures. */
export function statsOf(groups: Iterable<OutcomeSums>): CallStats {
  let calls = 0;
  let latencyMsSum = 0;
  let requestedCost = 0;
  let actualCost = 0;
  const buckets = emptyHistogram();
  const byCode = new Map<string, number>();
  for (const group of groups) {
    calls += group.calls;
    latencyMsSum += group.latencyMsSum;
    requestedCost += group.requestedCost;
    actualCost += group.actualCost;
    addHistogram(buckets, group.buckets);
    if (group.outcome !== OK) byCode.set(group.outcome, (byCode.get(group.outcome) ?? 0) + group.calls);
  }
  const errors = [...byCode.values()].reduce((a, b) => a + b, 0);
  return {
    calls,
    errors,
    errorRate: calls ? errors / calls : 0,
    errorsByCode: [...byCode].map(([code, n]) => ({ code, calls: n })).sort((a, b) => b.calls - a.calls || a.code.localeCompare(b.code)),
    latency: {
      p50: latencyPercentile(buckets, 0.5),
      p95: latencyPercentile(buckets, 0.95),
      p99: latencyPercentile(buckets, 0.99),
      mean: calls ? latencyMsSum / calls : null,
    },
    requestedCost,
    actualCost,
  };
}

function groupInto<K>(map: Map<K, OutcomeSums[]>, key: K, sums: OutcomeSums) {
  const list = map.get(key);
  if (list) list.push(sums);
  else map.set(key, [sums]);
}

export function createCallReportStore(db: Db) {
  const inRange = (scope: ReportScope): SQL =>
    and(
      gte(callReports.minute, scope.from),
      lt(callReports.minute, scope.to),
      scope.appId ? eq(callReports.appId, scope.appId) : undefined,
      scope.operationName !== null ? eq(callReports.operationName, scope.operationName) : undefined,
    )!;

  return {
    /** Adds rows to the report (rows of the same minute and key add up); rows of unknown apps are dropped. How many were written. */
    async record(rows: readonly CallReportRowInput[]): Promise<number> {
      checkRows(rows);
      if (!rows.length) return 0;
      const keys = [...new Set(rows.map((r) => r.appKey))];
      const idOf = new Map((await db.select({ id: apps.id, key: apps.key }).from(apps).where(inArray(apps.key, keys))).map((a) => [a.key, a.id]));
      // One row per key (one statement cannot update a row twice), in key order (two gateways
      // writing overlapping minutes lock their rows in the same order: no deadlock).
      const merged = new Map<string, typeof callReports.$inferInsert>();
      for (const row of rows) {
        const appId = idOf.get(row.appKey);
        if (!appId) continue;
        const key = [row.minute.toISOString(), appId, row.merchantId, row.operationName, row.documentHash, row.outcome].join('\u0000');
        const same = merged.get(key);
        if (same) {
          same.calls += row.calls;
          same.latencyMsSum += row.latencyMsSum;
          same.latencyBuckets = addHistogram([...same.latencyBuckets], row.latencyBuckets);
          same.requestedCost += row.requestedCost;
          same.actualCost += row.actualCost;
        } else {
          merged.set(key, { ...row, appId, latencyBuckets: [...row.latencyBuckets] });
        }
      }
      const values = [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
      if (!values.length) return 0;
      await db
        .insert(callReports)
        .values(values)
        .onConflictDoUpdate({
          target: [callReports.minute, callReports.appId, callReports.merchantId, callReports.operationName, callReports.documentHash, callReports.outcome],
          set: {
            calls: sql`${callReports.calls} + excluded.calls`,
            latencyMsSum: sql`${callReports.latencyMsSum} + excluded.latency_ms_sum`,
            latencyBuckets: sql`array(select a + b from unnest(${callReports.latencyBuckets}, excluded.latency_buckets) with ordinality as t(a, b, i) order by i)`,
            requestedCost: sql`${callReports.requestedCost} + excluded.requested_cost`,
            actualCost: sql`${callReports.actualCost} + excluded.actual_cost`,
          },
        });
      return values.length;
    },

    /** Deletes rows of minutes before `before`; how many. */
    async purge(before: Date): Promise<number> {
      const deleted = await db.delete(callReports).where(lt(callReports.minute, before)).returning({ minute: callReports.minute });
      return deleted.length;
    },

    /** Sums per period and outcome, oldest first. */
    async byPeriod(scope: ReportScope): Promise<{ start: number; sums: OutcomeSums }[]> {
      const period = periodOf(scope.granularity);
      const rows = await db
        .select({ period, outcome: callReports.outcome, ...SUMS })
        .from(callReports)
        .where(inRange(scope))
        .groupBy(period, callReports.outcome)
        .orderBy(period);
      return rows.map((row) => ({ start: num(row.period), sums: toSums(row) }));
    },

    /** The operations (name and document) with the most calls, with their sums per outcome. */
    async topOperations(scope: ReportScope, first: number): Promise<{ operationName: string; documentHash: string; sums: OutcomeSums[] }[]> {
      const calls = sql<string>`sum(${callReports.calls})`;
      const top = await db
        .select({ operationName: callReports.operationName, documentHash: callReports.documentHash, calls })
        .from(callReports)
        .where(inRange(scope))
        .groupBy(callReports.operationName, callReports.documentHash)
        .orderBy(sql`${calls} desc`, callReports.operationName, callReports.documentHash)
        .limit(first);
      if (!top.length) return [];
      const rows = await db
        .select({ operationName: callReports.operationName, documentHash: callReports.documentHash, outcome: callReports.outcome, ...SUMS })
        .from(callReports)
        .where(and(inRange(scope), inArray(callReports.operationName, [...new Set(top.map((t) => t.operationName))])))
        .groupBy(callReports.operationName, callReports.documentHash, callReports.outcome);
      const byOperation = new Map<string, OutcomeSums[]>();
      for (const row of rows) groupInto(byOperation, `${row.operationName}\u0000${row.documentHash}`, toSums(row));
      return top.map((t) => ({ operationName: t.operationName, documentHash: t.documentHash, sums: byOperation.get(`${t.operationName}\u0000${t.documentHash}`) ?? [] }));
    },

    /** The apps first by `by` over the range, with their sums per outcome. */
    async topApps(scope: ReportScope, by: AppRanking, first: number): Promise<{ appId: string; sums: OutcomeSums[] }[]> {
      const calls = sql`sum(${callReports.calls})`;
      const errors = sql`coalesce(sum(${callReports.calls}) filter (where ${callReports.outcome} <> ${OK}), 0)`;
      const rank = { CALLS: calls, COST: sql`sum(${callReports.actualCost})`, ERRORS: errors, ERROR_RATE: sql`${errors}::float8 / ${calls}` }[by];
      const top = await db
        .select({ appId: callReports.appId })
        .from(callReports)
        .where(inRange(scope))
        .groupBy(callReports.appId)
        .orderBy(sql`${rank} desc`, sql`${calls} desc`, callReports.appId)
        .limit(first);
      if (!top.length) return [];
      const rows = await db
        .select({ appId: callReports.appId, outcome: callReports.outcome, ...SUMS })
        .from(callReports)
        .where(and(inRange(scope), inArray(callReports.appId, top.map((t) => t.appId))))
        .groupBy(callReports.appId, callReports.outcome);
      const byApp = new Map<string, OutcomeSums[]>();
      for (const row of rows) groupInto(byApp, row.appId, toSums(row));
      return top.map((t) => ({ appId: t.appId, sums: byApp.get(t.appId) ?? [] }));
    },
  };
}

export type CallReportStore = ReturnType<typeof createCallReportStore>;

/** What a CallReport or PlatformCallReport object carries to its field resolvers. */
interface ReportSource extends ReportScope {
  /** The per-period sums, read once for `total` and `periods`. */
  periodSums?: Promise<{ start: number; sums: OutcomeSums }[]>;
}

type Context = SubgraphContext<{ appById: { load(id: string): Promise<AppRow | null> } }>;

/** Who may read an app's report: operators, the app itself with its app-level token (it covers every merchant), and its developer. */
function mayReadReport(caller: Caller, app: AppRow): void {
  if (caller.kind === 'operator') return;
  if (caller.kind === 'app' && caller.appKey === app.key && !caller.merchantId) return;
  if (caller.kind === 'developer' && !!caller.developerId && caller.developerId === app.developerId) return;
  throw forbidden("An app's call report is read with its own token (client credentials), not one a merchant authorized, by its developer, or by operators");
}

function operatorOnly(caller: Caller): void {
  if (caller.kind !== 'operator') throw forbidden('Only operators may do this');
}

function internalOnly(caller: Caller): void {
  if (caller.kind !== 'system') throw forbidden('Internal');
}

export function createCallReportResolvers(store: CallReportStore) {
  const periodsOf = (source: ReportSource) => (source.periodSums ??= store.byPeriod(source));
  const reportFields = {
    total: async (source: ReportSource) => statsOf((await periodsOf(source)).map((p) => p.sums)),
    periods: async (source: ReportSource) => {
      const byStart = new Map<number, OutcomeSums[]>();
      for (const p of await periodsOf(source)) groupInto(byStart, p.start, p.sums);
      return [...byStart].map(([start, sums]) => ({ start: new Date(start), stats: statsOf(sums) }));
    },
  };
  return {
    Long: scalarResolvers.Long,
    Query: {
      platformCallReport: (_: unknown, args: { from: Date; to: Date; granularity: Granularity }, ctx: Context): ReportSource => {
        operatorOnly(ctx.caller);
        checkRange(args.from, args.to, args.granularity);
        return { appId: null, from: args.from, to: args.to, granularity: args.granularity, operationName: null };
      },
    },
    Mutation: {
      recordCallReports: (_: unknown, args: { rows: CallReportRowInput[] }, ctx: Context) => {
        internalOnly(ctx.caller);
        return store.record(args.rows);
      },
      purgeCallReports: (_: unknown, args: { before: Date }, ctx: Context) => {
        internalOnly(ctx.caller);
        return store.purge(args.before);
      },
    },
    App: {
      callReport: (app: AppRow, args: { from: Date; to: Date; granularity: Granularity; operationName?: string | null }, ctx: Context): ReportSource => {
        mayReadReport(ctx.caller, app);
        checkRange(args.from, args.to, args.granularity);
        return { appId: app.id, from: args.from, to: args.to, granularity: args.granularity, operationName: args.operationName ?? null };
      },
    },
    CallReport: {
      ...reportFields,
      operations: async (source: ReportSource, args: { first: number }) =>
        (await store.topOperations(source, checkFirst(args.first))).map((op) => ({ operationName: op.operationName, documentHash: op.documentHash, stats: statsOf(op.sums) })),
    },
    PlatformCallReport: {
      ...reportFields,
      topApps: async (source: ReportSource, args: { by: AppRanking; first: number }, ctx: Context) => {
        const top = await store.topApps(source, args.by, checkFirst(args.first));
        const found = await Promise.all(top.map((t) => ctx.loaders.appById.load(t.appId)));
        return top.flatMap((t, i) => (found[i] ? [{ app: found[i], stats: statsOf(t.sums) }] : []));
      },
    },
  };
}
