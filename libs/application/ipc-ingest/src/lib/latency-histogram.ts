import type { LatencyHistogram } from '@topology/model';

/**
 * Call durations being summed while a history bucket is open: counts by bucket upper bound, whatever
 * bucket scheme each reporter uses. Adding a reporter's dense buckets and reading them back as a
 * `LatencyHistogram` loses nothing: equal bounds add up, different bounds sit side by side.
 */
export class LatencyAccumulator {
  private readonly byBound = new Map<number, number>();
  private overflow = 0;
  private overflowAboveMs = 0;

  /** Adds one reporter's buckets: `counts[i]` for `boundsMs[i]`, and `counts[boundsMs.length]` above the last bound. */
  addDense(boundsMs: readonly number[], counts: ArrayLike<number>, scale = 1): void {
    const n = boundsMs.length;
    for (let i = 0; i < n; i++) {
      const c = counts[i] as number;
      if (c > 0) this.addBucket(boundsMs[i] as number, c * scale, i > 0 ? (boundsMs[i - 1] as number) : undefined);
    }
    const above = counts.length > n ? (counts[n] as number) : 0;
    if (above > 0) this.addOverflow(above * scale, n > 0 ? (boundsMs[n - 1] as number) : 0);
  }

  /**
   * Adds calls to the bucket whose upper bound is `boundMs`. Its lower bound, when given, is kept as
   * an empty bucket, so that quantiles interpolate inside the reporter's bucket and not from the
   * last non-empty bound below it.
   */
  addBucket(boundMs: number, count: number, lowerMs?: number): void {
    if (!(count > 0)) return;
    this.byBound.set(boundMs, (this.byBound.get(boundMs) ?? 0) + count);
    if (lowerMs !== undefined && lowerMs > 0 && !this.byBound.has(lowerMs)) this.byBound.set(lowerMs, 0);
  }

  addHistogram(h: LatencyHistogram): void {
    for (let i = 0; i < h.boundsMs.length; i++) {
      const b = h.boundsMs[i] as number;
      this.byBound.set(b, (this.byBound.get(b) ?? 0) + (h.counts[i] as number));
    }
    if (h.overflow > 0) this.addOverflow(h.overflow, h.overflowAboveMs);
  }

  isEmpty(): boolean {
    return this.byBound.size === 0 && this.overflow === 0;
  }

  toHistogram(): LatencyHistogram {
    const bounds = [...this.byBound.keys()].sort((a, b) => a - b);
    return { boundsMs: bounds, counts: bounds.map((b) => this.byBound.get(b) as number), overflow: this.overflow, overflowAboveMs: this.overflowAboveMs };
  }

  private addOverflow(count: number, aboveMs: number): void {
    this.overflow += count;
    if (aboveMs > this.overflowAboveMs) this.overflowAboveMs = aboveMs;
  }
}

/** The sum of two histograms; inputs are left untouched. */
export function mergeHistograms(a: LatencyHistogram, b: LatencyHistogram): LatencyHistogram {
  const boundsMs: number[] = [];
  const counts: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.boundsMs.length || j < b.boundsMs.length) {
    const x = i < a.boundsMs.length ? (a.boundsMs[i] as number) : Infinity;
    const y = j < b.boundsMs.length ? (b.boundsMs[j] as number) : Infinity;
    if (x === y) {
      boundsMs.push(x);
      counts.push((a.counts[i++] as number) + (b.counts[j++] as number));
    } else if (x < y) {
      boundsMs.push(x);
      counts.push(a.counts[i++] as number);
    } else {
      boundsMs.push(y);
      counts.push(b.counts[j++] as number);
    }
  }
  return { boundsMs, counts, overflow: a.overflow + b.overflow, overflowAboveMs: Math.max(a.overflowAboveMs, b.overflowAboveMs) };
}

export function histogramTotal(h: LatencyHistogram): number {
  let total = h.overflow;
  for (const c of h.counts) total += c;
  return total;
}

/**
 * The duration below which a share `q` of the calls fell, interpolated linearly inside the bucket
 * it lands in (from the bound listed before it, or 0). A quantile landing above the last bound is
 * that bound: the histogram only says "longer than this". Undefined for an empty histogram.
 */
export function quantileMs(h: LatencyHistogram, q: number): number | undefined {
  const total = histogramTotal(h);
  if (total <= 0) return undefined;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < h.boundsMs.length; i++) {
    const count = h.counts[i] as number;
    if (count > 0 && below + count >= rank) {
      const lower = i === 0 ? 0 : (h.boundsMs[i - 1] as number);
      const upper = h.boundsMs[i] as number;
      return lower + (upper - lower) * Math.max(0, rank - below) / count;
    }
    below += count;
  }
  return h.overflowAboveMs;
}
