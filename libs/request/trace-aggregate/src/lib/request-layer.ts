import { Granularity, NodeId, NodeKind, RequestEdgeProps } from '@topology/model';
import { addLatencyCounts, emptyLatencyCounts, latencyQuantileMs } from './latency-histogram';
import { TraceSpan } from './span';

/**
 * One edge's totals in one time bucket, as counted from the traces of one writer scope. A row
 * replaces the row with the same (granularity, src, dst, bucketStartMs, scope) and a lower version;
 * rows of different scopes add up.
 */
export interface RequestEdgeBucket {
  granularity: Granularity;
  src: NodeId;
  dst: NodeId;
  /** Epoch milliseconds, a multiple of the aggregator's bucket width. */
  bucketStartMs: number;
  /** What the totals were counted from: `<writer>/<topic>/<partition>`. */
  scope: string;
  /** Increases with every write of the same identity; the highest one stands. */
  version: number;
  calls: number;
  errors: number;
  /** Counts per `LATENCY_BOUNDS_MS` bucket (plus overflow). */
  latencyCounts: number[];
  /** Sum of the call durations, microseconds (whole numbers, so sums are exact in any order). */
  latencySumUs: number;
  /** Calls per operation (the callee's span name), at most the configured number of names plus `OTHER_OPERATIONS`. */
  operations: Record<string, number>;
  firstSeenMs: number;
  lastSeenMs: number;
}

/** What the request layer knows of a node: who reported spans, and the peers they called. */
export interface RequestNode {
  id: NodeId;
  kind: NodeKind;
  granularity?: Granularity;
  displayName: string;
  app?: string;
  cluster?: string;
  region?: string;
  /** Epoch milliseconds, event time of the spans. */
  firstSeenMs: number;
  lastSeenMs: number;
}

/** Operation names beyond the per-row limit are counted under this name. */
export const OTHER_OPERATIONS = '(other)';

/**
 * Where the trace aggregator writes its output: edge totals per bucket, nodes, and every span for
 * trace overlays.
 *
 * Contract:
 * - Every write is idempotent and durable when its promise resolves, so the caller (a Kafka
 *   consumer) may commit its offsets after that, and may retry or replay freely: an edge bucket row
 *   replaces the row of the same identity with a lower version (replace, never add); a node write
 *   folds first/last seen by min/max; a span is keyed by (trace id, span id, service, kind), so a
 *   span written twice is stored once.
 * - Writes of one caller apply in call order.
 * - A row that breaks the contract (an id that is not a node id, NaN counts) is refused with a
 *   `StoreError('invalid-record')` after the valid rest of its batch is written.
 */
export interface RequestLayerWriter {
  writeEdgeBuckets(rows: readonly RequestEdgeBucket[]): Promise<void>;
  writeNodes(nodes: readonly RequestNode[]): Promise<void>;
  indexSpans(spans: readonly TraceSpan[]): Promise<void>;
}

/** An edge's bucket rows folded over a time range (mutable while folding). */
export interface RequestEdgeFold {
  calls: number;
  errors: number;
  latencyCounts: number[];
  latencySumUs: number;
  operations: Map<string, number>;
  firstSeenMs: number;
  lastSeenMs: number;
}

export function emptyRequestEdgeFold(): RequestEdgeFold {
  return {
    calls: 0,
    errors: 0,
    latencyCounts: emptyLatencyCounts(),
    latencySumUs: 0,
    operations: new Map(),
    firstSeenMs: Number.POSITIVE_INFINITY,
    lastSeenMs: Number.NEGATIVE_INFINITY,
  };
}

type BucketTotals = Pick<RequestEdgeBucket, 'calls' | 'errors' | 'latencyCounts' | 'latencySumUs' | 'operations' | 'firstSeenMs' | 'lastSeenMs'>;

export function addToFold(fold: RequestEdgeFold, row: BucketTotals): void {
  fold.calls += row.calls;
  fold.errors += row.errors;
  addLatencyCounts(fold.latencyCounts, row.latencyCounts);
  fold.latencySumUs += row.latencySumUs;
  for (const name in row.operations) fold.operations.set(name, (fold.operations.get(name) ?? 0) + (row.operations[name] as number));
  if (row.firstSeenMs < fold.firstSeenMs) fold.firstSeenMs = row.firstSeenMs;
  if (row.lastSeenMs > fold.lastSeenMs) fold.lastSeenMs = row.lastSeenMs;
}

/** The edge properties the API shows: percentiles from the summed histogram, operations by calls (most first). */
export function requestEdgeProps(fold: RequestEdgeFold, maxOperations = 20): RequestEdgeProps {
  const operations = [...fold.operations]
    .filter(([name]) => name !== OTHER_OPERATIONS)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, maxOperations)
    .map(([name]) => name);
  const p50 = latencyQuantileMs(fold.latencyCounts, 0.5);
  const p99 = latencyQuantileMs(fold.latencyCounts, 0.99);
  return {
    calls: fold.calls,
    errors: fold.errors,
    ...(p50 === undefined ? {} : { latencyP50Ms: round3(p50) }),
    ...(p99 === undefined ? {} : { latencyP99Ms: round3(p99) }),
    operations,
  };
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
