import { EdgeRecord, Health, NodeContext, NodeRecord, TimeRange, TraversalQuery, TraversalResult } from './graph';
import { EdgeKey, Granularity, Layer, NodeId, NodeKind } from './ids';
import { IntermediaryType, UnknownReason } from './peer';

/**
 * What a writer knows about a node at one moment. Upserts merge: `firstSeenMs` keeps the minimum,
 * `lastSeenMs` the maximum, `reportsIpcMetrics` once true stays true (until retention removes the
 * node), and every other given field replaces the stored one (an absent field leaves it as it was).
 */
export interface NodeUpsert extends NodeContext {
  id: NodeId;
  kind: NodeKind;
  granularity?: Granularity;
  displayName: string;
  app?: string;
  cluster?: string;
  account?: string;
  health?: Health;
  firstSeenMs: number;
  lastSeenMs: number;
  intermediaryType?: IntermediaryType;
  unknownReason?: UnknownReason;
  address?: string;
  /** The app reported IPC metrics of its own; false or absent says nothing (see `NodeRecord.reportsIpcMetrics`). */
  reportsIpcMetrics?: boolean;
}

/**
 * One edge's totals in one history bucket, as one layer measured them. `props` is the layer's own
 * bucket payload (for the network layer a `NetworkEdgeProps`). Writing a bucket replaces the
 * previous value for the same (src, dst, granularity, bucketStartMs): a replayed writer converges,
 * never adds. Writing a bucket creates its endpoint nodes if missing and widens their seen times.
 */
export interface EdgeBucket<P> {
  src: NodeId;
  dst: NodeId;
  granularity: Granularity;
  /** Epoch milliseconds, aligned to the store's bucket width. */
  bucketStartMs: number;
  firstSeenMs: number;
  lastSeenMs: number;
  props: P;
}

/** One history bucket of one edge, by identity. */
export interface EdgeBucketRef {
  src: NodeId;
  dst: NodeId;
  granularity: Granularity;
  bucketStartMs: number;
}

/** How a layer folds its bucket payloads over a time range. Pure; supplied by the layer's domain. */
export interface BucketMerger<P> {
  readonly layer: Layer;
  /** Combine two payloads (associative; order of buckets is not guaranteed). */
  merge(a: P, b: P): P;
  /**
   * Whether a payload is a raw hop that queries hide unless they ask for hops. A fold is a hop
   * exactly when every bucket in it is one (stores index the per-bucket flag and rely on this).
   */
  isHop(props: P): boolean;
}

export interface EdgeListQuery {
  granularity: Granularity;
  range: TimeRange;
  includeHops?: boolean;
  /** Only edges touching these nodes (as source or target); all edges when absent. */
  nodes?: NodeId[];
}

export interface EdgeHistoryPoint<P> {
  bucketStartMs: number;
  props: P;
}

/**
 * The store of one graph layer (network or application): nodes, and edges as history buckets.
 *
 * Contract, which every adapter passes in the shared contract suite:
 * - Writes are idempotent and durable when their promise resolves, so a caller (a Kafka consumer)
 *   may commit its offsets after that and may retry or replay freely: a node upsert merges, a
 *   bucket write replaces.
 * - Writes of one caller apply in call order. One process writes; any number of processes may read
 *   at the same time and see each write whole or not at all.
 * - A record that violates the contract (an unknown node kind, a bucket not aligned to the bucket
 *   width, NaN counts) is rejected with a `StoreError` whose code is `invalid-record`; the rest of
 *   the batch is still written.
 * - Reads only ever return edges with at least one bucket overlapping the requested range, folded with the
 *   layer's `BucketMerger`, and nodes that are endpoints of such edges or were asked for by id.
 */
export interface GraphLayerStore<P> {
  readonly layer: Layer;
  /** Width of history buckets in milliseconds. */
  readonly bucketMs: number;

  upsertNodes(nodes: NodeUpsert[]): Promise<void>;
  putEdgeBuckets(buckets: EdgeBucket<P>[]): Promise<void>;
  /** Removes buckets (a withdrawn contribution's); idempotent. Returns how many existed. */
  deleteEdgeBuckets(refs: EdgeBucketRef[]): Promise<number>;

  getNodes(ids: NodeId[]): Promise<NodeRecord[]>;
  /** Multi-hop traversal from roots; see `TraversalQuery`. Edges carry only this store's layer. */
  traverse(query: TraversalQuery): Promise<TraversalResult>;
  listEdges(query: EdgeListQuery): Promise<EdgeRecord[]>;
  /** The buckets of one edge; a pair that exists at both granularities is read at `granularity` (default cluster). */
  edgeHistory(key: EdgeKey, range: TimeRange, granularity?: Granularity): Promise<EdgeHistoryPoint<P>[]>;

  /**
   * Delete history buckets that ended before `beforeMs`, and nodes last seen before it that no
   * longer end an edge. Returns buckets deleted.
   */
  deleteBefore(beforeMs: number): Promise<number>;
  close(): Promise<void>;
}

export const STORE_ERROR_CODES = ['invalid-record', 'unavailable', 'timeout'] as const;
export type StoreErrorCode = (typeof STORE_ERROR_CODES)[number];

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    readonly rejected: unknown[] = [],
  ) {
    super(message);
    this.name = 'StoreError';
  }
}
