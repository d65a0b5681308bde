/**
 * The report's periods as chart series: one point per hour or day of the range, those without
 * calls included (the API lists only periods that had calls), so time runs evenly along the axis.
 */
import type { CallReport, Granularity } from './operations';

export interface RangeOption {
  value: string;
  label: string;
  hours: number;
  granularity: Granularity;
}

export const RANGES: RangeOption[] = [
  { value: '24h', label: 'Last 24 hours', hours: 24, granularity: 'HOUR' },
  { value: '7d', label: 'Last 7 days', hours: 24 * 7, granularity: 'HOUR' },
  { value: '30d', label: 'Last 30 days', hours: 24 * 30, granularity: 'DAY' },
  { value: '90d', label: 'Last 90 days', hours: 24 * 90, granularity: 'DAY' },
];

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The range's bounds in UTC: `to` the end of the current hour or day, `from` as far back as the range goes. */
export function rangeBounds(range: RangeOption, now: number): { from: string; to: string } {
  const step = range.granularity === 'HOUR' ? HOUR_MS : DAY_MS;
  const to = Math.ceil((now + 1) / step) * step;
  const from = to - Math.ceil((range.hours * HOUR_MS) / step) * step;
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

export interface Point {
  /** The period's start (ms), for keys. */
  at: number;
  label: string;
  calls: number;
  errors: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export function pointsOf(report: CallReport, bounds: { from: string; to: string }, granularity: Granularity): Point[] {
  const step = granularity === 'HOUR' ? HOUR_MS : DAY_MS;
  const format = new Intl.DateTimeFormat(undefined, granularity === 'HOUR' ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' } : { month: 'short', day: 'numeric' });
  const byStart = new Map(report.periods.map((p) => [Date.parse(p.start), p.stats]));
  const points: Point[] = [];
  for (let at = Date.parse(bounds.from); at < Date.parse(bounds.to); at += step) {
    const stats = byStart.get(at);
    points.push({
      at,
      label: format.format(at),
      calls: stats?.calls ?? 0,
      errors: stats?.errors ?? 0,
      p50: stats?.latency.p50 ?? null,
      p95: stats?.latency.p95 ?? null,
      p99: stats?.latency.p99 ?? null,
    });
  }
  return points;
}
