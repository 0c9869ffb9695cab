import { EdgeRecord, Granularity, NodeId } from '@topology/model';
import { addToFold, emptyRequestEdgeFold, RequestEdgeBucket, RequestEdgeFold } from '@topology/trace-aggregate';

/** The bucket rows of one edge at one granularity: per bucket start, the latest row of each scope. */
export class EdgeSeries {
  readonly buckets = new Map<number, Map<string, RequestEdgeBucket>>();
  /** Rises whenever a row of the series changes; keys what readers cache of it. */
  version = 0;
  /** What a reader last derived from the series, for the bucket window it read and the version it saw. */
  cached: { fromMs: number; toMs: number; version: number; value: EdgeRecord | null } | undefined;

  constructor(
    readonly granularity: Granularity,
    readonly src: NodeId,
    readonly dst: NodeId,
  ) {}

  /** Folds the rows of buckets starting in [fromMs, toMs); undefined when none. */
  fold(fromMs: number, toMs: number): RequestEdgeFold | undefined {
    let fold: RequestEdgeFold | undefined;
    for (const [start, scopes] of this.buckets) {
      if (start < fromMs || start >= toMs) continue;
      fold ??= emptyRequestEdgeFold();
      for (const row of scopes.values()) addToFold(fold, row);
    }
    return fold;
  }
}

interface GranularityIndex {
  series: Map<NodeId, Map<NodeId, EdgeSeries>>;
  leaving: Map<NodeId, EdgeSeries[]>;
  entering: Map<NodeId, EdgeSeries[]>;
}

/**
 * Recent edge buckets held in memory, so a traversal level is map lookups: every row whose bucket
 * starts at or after `coveredFromMs`, which follows the newest bucket by `horizonMs`. Rows are
 * kept at their highest version, like ReplacingMergeTree does on merge.
 */
export class RequestEdgeWindow {
  private readonly index: Record<Granularity, GranularityIndex> = { app: emptyIndex(), cluster: emptyIndex() };
  private newestBucketMs = Number.NEGATIVE_INFINITY;
  private rows = 0;
  /** Buckets starting before this are not (all) held; reads of them go to ClickHouse. */
  coveredFromMs = Number.POSITIVE_INFINITY;

  constructor(readonly horizonMs: number) {}

  get size(): number {
    return this.rows;
  }

  /** Starts covering from `fromMs` (everything at or after it has been, or is being, loaded). */
  cover(fromMs: number): void {
    this.coveredFromMs = fromMs;
  }

  /** Whether a read of buckets starting at or after `fromMs` can be answered from memory. */
  covers(fromMs: number): boolean {
    return fromMs >= this.coveredFromMs;
  }

  put(row: RequestEdgeBucket): void {
    if (row.bucketStartMs < this.coveredFromMs) return;
    const index = this.index[row.granularity];
    let byDst = index.series.get(row.src);
    if (byDst === undefined) {
      byDst = new Map();
      index.series.set(row.src, byDst);
    }
    let series = byDst.get(row.dst);
    if (series === undefined) {
      series = new EdgeSeries(row.granularity, row.src, row.dst);
      byDst.set(row.dst, series);
      append(index.leaving, row.src, series);
      append(index.entering, row.dst, series);
    }
    let scopes = series.buckets.get(row.bucketStartMs);
    if (scopes === undefined) {
      scopes = new Map();
      series.buckets.set(row.bucketStartMs, scopes);
    }
    const known = scopes.get(row.scope);
    if (known !== undefined && known.version >= row.version) return;
    if (known === undefined) this.rows++;
    scopes.set(row.scope, row);
    series.version++;
    if (row.bucketStartMs > this.newestBucketMs) {
      this.newestBucketMs = row.bucketStartMs;
      if (this.newestBucketMs - this.horizonMs > this.coveredFromMs) this.evictBefore(this.newestBucketMs - this.horizonMs);
    }
  }

  edgesAt(granularity: Granularity, node: NodeId, side: 'out' | 'in'): readonly EdgeSeries[] {
    const index = this.index[granularity];
    return (side === 'out' ? index.leaving : index.entering).get(node) ?? [];
  }

  *all(granularity: Granularity): Iterable<EdgeSeries> {
    for (const byDst of this.index[granularity].series.values()) yield* byDst.values();
  }

  private evictBefore(fromMs: number): void {
    this.coveredFromMs = fromMs;
    for (const granularity of ['app', 'cluster'] as const) {
      const index = this.index[granularity];
      for (const [src, byDst] of index.series) {
        for (const [dst, series] of byDst) {
          for (const [start, scopes] of series.buckets) {
            if (start >= fromMs) continue;
            this.rows -= scopes.size;
            series.buckets.delete(start);
            series.version++;
          }
          if (series.buckets.size > 0) continue;
          byDst.delete(dst);
          remove(index.leaving, src, series);
          remove(index.entering, dst, series);
        }
        if (byDst.size === 0) index.series.delete(src);
      }
    }
  }
}

function emptyIndex(): GranularityIndex {
  return { series: new Map(), leaving: new Map(), entering: new Map() };
}

function append(index: Map<NodeId, EdgeSeries[]>, id: NodeId, series: EdgeSeries): void {
  const list = index.get(id);
  if (list === undefined) index.set(id, [series]);
  else list.push(series);
}

function remove(index: Map<NodeId, EdgeSeries[]>, id: NodeId, series: EdgeSeries): void {
  const list = index.get(id);
  if (list === undefined) return;
  const at = list.indexOf(series);
  if (at >= 0) list.splice(at, 1);
  if (list.length === 0) index.delete(id);
}
