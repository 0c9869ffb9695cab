import { BucketMerger, EdgeRecord, edgeKey, Granularity, Layer, LayerEdgeProps, NodeId, TimeRange } from '@topology/model';

/**
 * The buckets a time range reads: every bucket whose interval `[start, start + bucketMs)` overlaps
 * `[fromMs, toMs)`, i.e. the starts in `[firstStartMs, toMs)`.
 */
export interface BucketWindow {
  firstStartMs: number;
  /** Exclusive bound on bucket starts. */
  toMs: number;
}

export function bucketWindow(range: TimeRange, bucketMs: number): BucketWindow {
  return { firstStartMs: Math.floor(range.fromMs / bucketMs) * bucketMs, toMs: range.toMs };
}

/** One stored bucket as the read path sees it. */
export interface StoredBucket<P> {
  hop: boolean;
  firstSeenMs: number;
  lastSeenMs: number;
  props: P;
}

/** The fold of an edge's buckets over a range. */
export interface FoldedEdge<P> {
  props: P;
  /** Every folded bucket was a hop. */
  hop: boolean;
  firstSeenMs: number;
  lastSeenMs: number;
}

export function foldBuckets<P>(merger: BucketMerger<P>, buckets: readonly StoredBucket<P>[]): FoldedEdge<P> | undefined {
  let folded: FoldedEdge<P> | undefined;
  for (const b of buckets) {
    folded =
      folded === undefined
        ? { props: b.props, hop: b.hop, firstSeenMs: b.firstSeenMs, lastSeenMs: b.lastSeenMs }
        : combineFolds(merger, folded, b);
  }
  return folded;
}

export function combineFolds<P>(merger: BucketMerger<P>, a: FoldedEdge<P>, b: FoldedEdge<P>): FoldedEdge<P> {
  return {
    props: merger.merge(a.props, b.props),
    hop: a.hop && b.hop,
    firstSeenMs: Math.min(a.firstSeenMs, b.firstSeenMs),
    lastSeenMs: Math.max(a.lastSeenMs, b.lastSeenMs),
  };
}

/**
 * Whether a folded edge is shown: hops only when the query asks for them. The per-bucket hop flag
 * (`merger.isHop` of each bucket) decides, so stores can index it; this assumes, as the network
 * merger does, that a fold is a hop exactly when all its buckets are.
 */
export function isVisible(folded: FoldedEdge<unknown> | undefined, includeHops: boolean | undefined): boolean {
  return folded !== undefined && (includeHops === true || !folded.hop);
}

export function layerEdgeRecord<P>(layer: Layer, granularity: Granularity, src: NodeId, dst: NodeId, folded: FoldedEdge<P>): EdgeRecord {
  // P is the layer's own payload type; the port types each layer's slot separately.
  const props = { [layer]: folded.props } as LayerEdgeProps;
  return {
    key: edgeKey(src, dst),
    src,
    dst,
    granularity,
    layers: [layer],
    props,
    firstSeenMs: folded.firstSeenMs,
    lastSeenMs: folded.lastSeenMs,
  };
}
