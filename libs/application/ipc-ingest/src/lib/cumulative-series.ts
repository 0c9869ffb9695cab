import type { CounterSet } from '@topology/model';
import type { IpcIngestorCounter } from './ipc-ingestor-counters';

/**
 * Where a message was read: one ordered source of messages (a partition of an input topic) and
 * the message's offset there. `replayed` marks a message that may have been handled before the
 * ingestor last lost its memory (read again from a checkpoint).
 */
export interface MessageOrigin {
  source: string;
  offset: number;
  replayed: boolean;
}

interface SeriesState {
  key: string;
  startMs: number;
  timeMs: number;
  count: number;
  buckets: number[] | undefined;
  /** Source and offset of the message the latest point came from (undefined when not tracked). */
  source: string | undefined;
  offset: number;
}

/** The increase of a cumulative series since its previous point; valid until the next `delta` call. */
export interface SeriesDelta {
  /** Start of the interval the increase covers: the previous point's time, or the series' start. */
  fromMs: number;
  count: number;
  buckets: number[] | undefined;
  /**
   * Where the previous point (the baseline the increase is taken from) was read, when it was read
   * from a tracked source: re-reading the increase takes re-reading that message too.
   */
  baselineSource: string | undefined;
  baselineOffset: number;
}

export type InitialCumulative = 'auto' | 'count' | 'drop';

/**
 * Turns cumulative points (OTLP cumulative temporality, Prometheus counters and histograms) into
 * increases per interval, per series. A point not newer than the last one of its series is a replay
 * and adds nothing, so a redelivered message never counts twice; a restart of the series (a new
 * start time, a count that went down) counts from zero again.
 *
 * With message origins it also knows, per source, the offset of each series' latest point: the
 * next point's increase is taken from it, so a restart that lost this memory must read it again.
 */
export class CumulativeSeries {
  private readonly series = new Map<string, SeriesState>();
  /** Per source, its series in the order their latest points were read (oldest first). */
  private readonly latestBySource = new Map<string, Map<string, SeriesState>>();
  private readonly scratch: SeriesDelta = { fromMs: 0, count: 0, buckets: undefined, baselineSource: undefined, baselineOffset: 0 };
  private scratchBuckets: number[] = [];

  constructor(
    private readonly initial: InitialCumulative,
    /** Series that started before this instant existed before the ingestor observed them: their totals are history. */
    private observingSinceMs: number,
    private readonly counters: CounterSet<IpcIngestorCounter>,
  ) {}

  get size(): number {
    return this.series.size;
  }

  /** Since when series are observed: a restart resuming an earlier observation takes the earlier start. */
  get observingSince(): number {
    return this.observingSinceMs;
  }

  resumeObservingSince(ms: number): void {
    if (ms < this.observingSinceMs) this.observingSinceMs = ms;
  }

  /**
   * The increase carried by this point, or undefined when it only primes the series or replays an
   * earlier point. `startMs` is 0 when the source does not say when the series started.
   */
  delta(key: string, startMs: number, timeMs: number, count: number, buckets: ArrayLike<number> | undefined, origin: MessageOrigin | undefined): SeriesDelta | undefined {
    const prev = this.series.get(key);
    if (prev === undefined) {
      const state: SeriesState = { key, startMs, timeMs, count, buckets: copy(buckets), source: undefined, offset: 0 };
      this.series.set(key, state);
      this.track(state, origin);
      const counts = this.initial === 'count' || (this.initial === 'auto' && startMs > 0 && startMs >= this.observingSinceMs);
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
      result.baselineSource = prev.source;
      result.baselineOffset = prev.offset;
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
    if (buckets !== undefined && prev.buckets !== undefined && prev.buckets.length === buckets.length) {
      for (let i = 0; i < buckets.length; i++) prev.buckets[i] = buckets[i] as number;
    } else {
      prev.buckets = copy(buckets);
    }
    this.track(prev, origin);
    return result;
  }

  /**
   * Offset of the oldest latest point of a series still known that was read from `source`, or
   * undefined when there is none: a restart must read the source again from there.
   */
  oldestLatest(source: string): number | undefined {
    const latest = this.latestBySource.get(source);
    if (latest === undefined) return undefined;
    for (const state of latest.values()) return state.offset;
    return undefined;
  }

  /** `oldestLatest` of every source. */
  *oldestLatestBySource(): Iterable<[string, number]> {
    for (const [source, latest] of this.latestBySource) {
      for (const state of latest.values()) {
        yield [source, state.offset];
        break;
      }
    }
  }

  /** Stops tracking the series' latest points of a source (it went to another reader). */
  forgetSource(source: string): void {
    const latest = this.latestBySource.get(source);
    if (latest === undefined) return;
    for (const state of latest.values()) state.source = undefined;
    this.latestBySource.delete(source);
  }

  /**
   * Forgets series whose latest point is older than `beforeMs` (event time, so that a restart that
   * reads the same points again forgets the same series); returns how many.
   */
  expire(beforeMs: number): number {
    let n = 0;
    for (const [key, s] of this.series) {
      if (s.timeMs >= beforeMs) continue;
      this.series.delete(key);
      if (s.source !== undefined) this.latestBySource.get(s.source)?.delete(key);
      n++;
    }
    if (n > 0) this.counters.inc('series_expired', n);
    return n;
  }

  /** Moves the series to the end of its source's order (re-inserting keeps a Map in read order). */
  private track(state: SeriesState, origin: MessageOrigin | undefined): void {
    if (state.source !== undefined) this.latestBySource.get(state.source)?.delete(state.key);
    if (origin === undefined) {
      state.source = undefined;
      return;
    }
    state.source = origin.source;
    state.offset = origin.offset;
    let latest = this.latestBySource.get(origin.source);
    if (latest === undefined) {
      latest = new Map();
      this.latestBySource.set(origin.source, latest);
    }
    latest.set(state.key, state);
  }

  private whole(fromMs: number, count: number, buckets: ArrayLike<number> | undefined): SeriesDelta {
    const result = this.scratch;
    result.fromMs = fromMs;
    result.count = count;
    // The whole count comes from this point alone: no earlier message is needed to take it again.
    result.baselineSource = undefined;
    result.baselineOffset = 0;
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
