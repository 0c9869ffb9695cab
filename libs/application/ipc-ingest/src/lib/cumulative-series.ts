import type { CounterSet } from '@topology/model';
import type { IpcIngestorCounter } from './ipc-ingestor-counters';

interface SeriesState {
  startMs: number;
  timeMs: number;
  count: number;
  buckets: number[] | undefined;
  touchedAtMs: number;
}

/** The increase of a cumulative series since its previous point; valid until the next `delta` call. */
export interface SeriesDelta {
  /** Start of the interval the increase covers: the previous point's time, or the series' start. */
  fromMs: number;
  count: number;
  buckets: number[] | undefined;
}

export type InitialCumulative = 'auto' | 'count' | 'drop';

/**
 * Turns cumulative points (OTLP cumulative temporality, Prometheus counters and histograms) into
 * increases per interval, per series. A point not newer than the last one of its series is a replay
 * and adds nothing, so a redelivered message never counts twice; a restart of the series (a new
 * start time, a count that went down) counts from zero again.
 */
export class CumulativeSeries {
  private readonly series = new Map<string, SeriesState>();
  private readonly scratch: SeriesDelta = { fromMs: 0, count: 0, buckets: undefined };
  private scratchBuckets: number[] = [];

  constructor(
    private readonly initial: InitialCumulative,
    /** Series that started before this instant existed before this process: their totals are history. */
    private readonly startedAtMs: number,
    private readonly counters: CounterSet<IpcIngestorCounter>,
  ) {}

  get size(): number {
    return this.series.size;
  }

  /**
   * The increase carried by this point, or undefined when it only primes the series or replays an
   * earlier point. `startMs` is 0 when the source does not say when the series started.
   */
  delta(key: string, startMs: number, timeMs: number, count: number, buckets: ArrayLike<number> | undefined, nowMs: number): SeriesDelta | undefined {
    const prev = this.series.get(key);
    if (prev === undefined) {
      this.series.set(key, { startMs, timeMs, count, buckets: copy(buckets), touchedAtMs: nowMs });
      const counts = this.initial === 'count' || (this.initial === 'auto' && startMs > 0 && startMs >= this.startedAtMs);
      if (!counts) {
        this.counters.inc('series_primed');
        return undefined;
      }
      return this.whole(startMs > 0 ? startMs : timeMs, count, buckets);
    }
    if (timeMs <= prev.timeMs && (startMs === prev.startMs || startMs === 0)) {
      this.counters.inc('points_replayed');
      return undefined;
    }
    const restarted = (startMs > 0 && startMs !== prev.startMs) || count < prev.count || !sameShape(prev.buckets, buckets);
    const fromMs = restarted && startMs > 0 ? startMs : prev.timeMs;
    let result: SeriesDelta;
    if (restarted) {
      this.counters.inc('series_resets');
      result = this.whole(fromMs, count, buckets);
    } else {
      result = this.scratch;
      result.fromMs = fromMs;
      result.count = count - prev.count;
      if (buckets === undefined || prev.buckets === undefined) {
        result.buckets = undefined;
      } else {
        const out = this.scratchBuckets;
        out.length = buckets.length;
        for (let i = 0; i < buckets.length; i++) out[i] = Math.max(0, (buckets[i] as number) - (prev.buckets[i] as number));
        result.buckets = out;
      }
    }
    prev.startMs = startMs;
    prev.timeMs = timeMs;
    prev.count = count;
    prev.touchedAtMs = nowMs;
    if (buckets !== undefined && prev.buckets !== undefined && prev.buckets.length === buckets.length) {
      for (let i = 0; i < buckets.length; i++) prev.buckets[i] = buckets[i] as number;
    } else {
      prev.buckets = copy(buckets);
    }
    return result;
  }

  /** Forgets series with no point since `beforeMs` (processing time); returns how many. */
  expire(beforeMs: number): number {
    let n = 0;
    for (const [key, s] of this.series) {
      if (s.touchedAtMs < beforeMs) {
        this.series.delete(key);
        n++;
      }
    }
    if (n > 0) this.counters.inc('series_expired', n);
    return n;
  }

  private whole(fromMs: number, count: number, buckets: ArrayLike<number> | undefined): SeriesDelta {
    const result = this.scratch;
    result.fromMs = fromMs;
    result.count = count;
    if (buckets === undefined) {
      result.buckets = undefined;
    } else {
      const out = this.scratchBuckets;
      out.length = buckets.length;
      for (let i = 0; i < buckets.length; i++) out[i] = buckets[i] as number;
      result.buckets = out;
    }
    return result;
  }
}

function copy(buckets: ArrayLike<number> | undefined): number[] | undefined {
  return buckets === undefined ? undefined : Array.from(buckets);
}

function sameShape(a: number[] | undefined, b: ArrayLike<number> | undefined): boolean {
  return (a === undefined) === (b === undefined) && (a === undefined || b === undefined || a.length === b.length);
}
