/**
 * Call durations as counts in fixed buckets, so that histograms of any edge, bucket and writer add
 * up and percentiles of any time range come from the sum. Upper bounds in milliseconds (1-2-3-5
 * steps from 0.5 ms to one minute); the last count is everything above the last bound.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 30_000, 60_000,
];

/** Number of counts in a histogram: one per bound plus the overflow. */
export const LATENCY_BUCKETS = LATENCY_BOUNDS_MS.length + 1;

export function emptyLatencyCounts(): number[] {
  return new Array<number>(LATENCY_BUCKETS).fill(0);
}

/** Index of the bucket a duration falls in (binary search: called once per call). */
export function latencyBucketOf(durationMs: number): number {
  let lo = 0;
  let hi = LATENCY_BOUNDS_MS.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (durationMs <= (LATENCY_BOUNDS_MS[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Adds `from` into `into` (lengths may differ if a reader meets an older layout: extra counts go to the overflow). */
export function addLatencyCounts(into: number[], from: readonly number[]): void {
  const last = into.length - 1;
  for (let i = 0; i < from.length; i++) {
    const at = i < last ? i : last;
    into[at] = (into[at] as number) + (from[i] as number);
  }
}

/**
 * The duration below which a share `q` of the calls fell, interpolated linearly inside its bucket;
 * the overflow bucket reports the last bound. Undefined without calls.
 */
export function latencyQuantileMs(counts: readonly number[], q: number): number | undefined {
  let total = 0;
  for (const c of counts) total += c;
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] as number;
    if (c === 0) continue;
    if (seen + c >= rank) {
      const upper = LATENCY_BOUNDS_MS[Math.min(i, LATENCY_BOUNDS_MS.length - 1)] as number;
      if (i >= LATENCY_BOUNDS_MS.length) return upper;
      const lower = i === 0 ? 0 : (LATENCY_BOUNDS_MS[i - 1] as number);
      return lower + ((upper - lower) * Math.max(0, rank - seen)) / c;
    }
    seen += c;
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1];
}
