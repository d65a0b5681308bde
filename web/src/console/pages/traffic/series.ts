/**
 * Call reports as chart series, and the ranges the traffic pages ask for. The API lists only the
 * periods that had calls; the charts get one point per hour or day of the range (empty ones as 0),
 * so time runs evenly along the axis. Periods start on UTC hours and days.
 */

// Structural types, not the generated ones: tests import this file under Node's module resolution.
export type Granularity = 'HOUR' | 'DAY';
interface PeriodStats {
  calls: number;
  errors: number;
  errorsByCode: { code: string; calls: number }[];
  latency: { p50: number | null; p95: number | null; p99: number | null };
}

export const THROTTLED = 'THROTTLED';
export const QUOTA_EXCEEDED = 'QUOTA_EXCEEDED';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
export const stepOf = (granularity: Granularity) => (granularity === 'HOUR' ? HOUR_MS : DAY_MS);

/** The API's bounds on one report: an hourly one covers at most 31 days, a daily one 366. */
export const MAX_RANGE_DAYS: Record<Granularity, number> = { HOUR: 31, DAY: 366 };

export interface RangePreset {
  value: string;
  label: string;
  hours: number;
  granularity: Granularity;
}

export const PRESETS: RangePreset[] = [
  { value: '24h', label: '24 hours', hours: 24, granularity: 'HOUR' },
  { value: '7d', label: '7 days', hours: 24 * 7, granularity: 'HOUR' },
  { value: '30d', label: '30 days', hours: 24 * 30, granularity: 'DAY' },
  { value: '90d', label: '90 days', hours: 24 * 90, granularity: 'DAY' },
];

export interface Range {
  from: string;
  to: string;
  granularity: Granularity;
}

/** A preset's range ending with the current hour or day (UTC), so the last period is whole on the axis. */
export function presetRange(preset: RangePreset, granularity: Granularity, now: number): Range {
  const step = stepOf(granularity);
  const to = Math.ceil((now + 1) / step) * step;
  const from = to - Math.ceil((preset.hours * HOUR_MS) / step) * step;
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), granularity };
}

/** What is wrong with a range before asking for it, or undefined. */
export function rangeProblem(range: { from: string | undefined; to: string | undefined; granularity: Granularity }): string | undefined {
  if (!range.from || !range.to) return 'Pick a start and an end.';
  const span = Date.parse(range.to) - Date.parse(range.from);
  if (span <= 0) return 'The end must be after the start.';
  if (span > MAX_RANGE_DAYS[range.granularity] * DAY_MS) return `${range.granularity === 'HOUR' ? 'Per hour' : 'Per day'}, a report covers at most ${MAX_RANGE_DAYS[range.granularity]} days.`;
  return undefined;
}

export interface Point {
  label: string;
  calls: number;
  errors: number;
  throttled: number;
  quotaExceeded: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export const callsWithCode = (stats: Pick<PeriodStats, 'errorsByCode'> | undefined, code: string) => stats?.errorsByCode.find((e) => e.code === code)?.calls ?? 0;

export function pointsOf(periods: { start: string; stats: PeriodStats }[], range: Range): Point[] {
  const step = stepOf(range.granularity);
  const format = new Intl.DateTimeFormat(undefined, range.granularity === 'HOUR' ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' } : { month: 'short', day: 'numeric', timeZone: 'UTC' });
  const byStart = new Map(periods.map((p) => [Date.parse(p.start), p.stats]));
  const points: Point[] = [];
  const end = Date.parse(range.to);
  // A guard against a huge axis: the API refuses longer ranges anyway (MAX_RANGE_DAYS).
  for (let at = Math.floor(Date.parse(range.from) / step) * step; at < end && points.length < 800; at += step) {
    const stats = byStart.get(at);
    points.push({
      label: format.format(at),
      calls: stats?.calls ?? 0,
      errors: stats?.errors ?? 0,
      throttled: callsWithCode(stats, THROTTLED),
      quotaExceeded: callsWithCode(stats, QUOTA_EXCEEDED),
      p50: stats?.latency.p50 ?? null,
      p95: stats?.latency.p95 ?? null,
      p99: stats?.latency.p99 ?? null,
    });
  }
  return points;
}
