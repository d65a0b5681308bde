/**
 * Call latencies as a histogram over fixed bounds: the gateway counts each call into a bucket, the
 * call report keeps the buckets per minute (`call_reports.latency_buckets`), and any range's
 * percentiles come from the sum of its rows' buckets. Fixed bounds are what make rows of different
 * minutes and gateways add up; changing them would need a migration of the stored rows.
 */

/**
 * Upper bounds of the buckets, in ms (inclusive); one more bucket after them holds everything
 * slower. Dense where the platform's calls are (a few ms to a few hundred), so a percentile read
 * back is within a bucket's width of the truth.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = [1, 2, 5, 10, 15, 25, 40, 60, 100, 150, 250, 400, 600, 1000, 1500, 2500, 4000, 6000, 10_000, 30_000];

/** Buckets per histogram: one per bound and one above the last. */
export const LATENCY_BUCKETS = LATENCY_BOUNDS_MS.length + 1;

/** The bucket a latency falls in. */
export function latencyBucket(latencyMs: number): number {
  // Few bounds: a linear scan is as fast as a binary search and simpler.
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) if (latencyMs <= LATENCY_BOUNDS_MS[i]!) return i;
  return LATENCY_BOUNDS_MS.length;
}

export const emptyHistogram = (): number[] => new Array<number>(LATENCY_BUCKETS).fill(0);

/** Adds `from` into `into`, bucket by bucket. */
export function addHistogram(into: number[], from: readonly number[]): number[] {
  for (let i = 0; i < LATENCY_BUCKETS; i++) into[i] = (into[i] ?? 0) + (from[i] ?? 0);
  return into;
}

/**
 * The latency below which a fraction `q` (0 to 1) of the calls fell, read from the buckets as
 * Prometheus' histogram_quantile does: linear within the bucket the rank falls in (from the bucket
 * below's bound, 0 for the first). A rank in the last, open bucket answers the last bound. Null for
 * no calls.
 */
export function latencyPercentile(buckets: readonly number[], q: number): number | null {
  let total = 0;
  for (const count of buckets) total += count;
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < buckets.length; i++) {
    const count = buckets[i]!;
    if (count > 0 && below + count >= rank) {
      if (i >= LATENCY_BOUNDS_MS.length) return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!;
      const lower = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1]!;
      const upper = LATENCY_BOUNDS_MS[i]!;
      return lower + ((upper - lower) * (rank - below)) / count;
    }
    below += count;
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!;
}
