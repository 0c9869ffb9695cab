import {
  EdgeBucket,
  GraphLayerStore,
  NetworkEdgeProps,
  NodeId,
  NodeUpsert,
  nodeId,
  parseNodeId,
  TimeRange,
  TraversalQuery,
  TraversalResult,
} from '@topology/model';
import { granularityOfKind } from './record-rules';

export const app = (name: string): NodeId => nodeId('app', name);
export const cluster = (name: string): NodeId => nodeId('cluster', name);
export const intermediary = (name: string): NodeId => nodeId('intermediary', name);
export const external = (name: string): NodeId => nodeId('external', name);

export function networkProps(bytes: number, extra: Partial<NetworkEdgeProps> = {}): NetworkEdgeProps {
  return {
    bytesSent: bytes,
    bytesReceived: bytes * 2,
    packetsSent: 1,
    packetsReceived: 2,
    connections: 1,
    retransmits: 0,
    ports: [{ port: 443, protocol: 'tcp' }],
    paths: [{ via: [], bytes: bytes * 3, confidence: 1 }],
    confidence: 1,
    hop: false,
    ...extra,
  };
}

export interface BucketOptions {
  granularity?: 'app' | 'cluster';
  hop?: boolean;
  props?: Partial<NetworkEdgeProps>;
}

/** Builds records on a store's own bucket grid, starting at an aligned epoch `t0`. */
export class NetworkFixture {
  readonly bucketMs: number;
  readonly t0: number;

  constructor(readonly store: GraphLayerStore<NetworkEdgeProps>) {
    this.bucketMs = store.bucketMs;
    this.t0 = Math.ceil(1_700_000_000_000 / store.bucketMs) * store.bucketMs;
  }

  /** Start of bucket `i`. */
  at(i: number): number {
    return this.t0 + i * this.bucketMs;
  }

  /** From the start of bucket `from` to the start of bucket `to`. */
  range(from: number, to: number): TimeRange {
    return { fromMs: this.at(from), toMs: this.at(to) };
  }

  bucket(src: NodeId, dst: NodeId, i: number, bytes: number, options: BucketOptions = {}): EdgeBucket<NetworkEdgeProps> {
    const granularity = options.granularity ?? granularityOfKind(parseNodeId(src).kind) ?? granularityOfKind(parseNodeId(dst).kind) ?? 'app';
    return {
      src,
      dst,
      granularity,
      bucketStartMs: this.at(i),
      firstSeenMs: this.at(i) + 1,
      lastSeenMs: this.at(i) + 2,
      props: networkProps(bytes, { hop: options.hop ?? false, ...options.props }),
    };
  }

  node(id: NodeId, fields: Partial<NodeUpsert> = {}): NodeUpsert {
    const { kind, name } = parseNodeId(id);
    return { id, kind, displayName: name, firstSeenMs: this.at(0), lastSeenMs: this.at(0) + 1, ...fields };
  }

  /** A traversal over buckets 0..99 at app granularity unless told otherwise. */
  query(roots: NodeId[], fields: Partial<TraversalQuery> = {}): TraversalQuery {
    return { roots, direction: 'down', depth: 1, granularity: 'app', range: this.range(0, 100), maxVisited: 1000, ...fields };
  }
}

/** `[id, distance]` pairs and edge keys, sorted, for comparing traversals. */
export function shape(result: TraversalResult): { nodes: [string, number][]; edges: string[]; truncated: boolean } {
  return {
    nodes: result.nodes.map((n): [string, number] => [n.node.id, n.distance]).sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])),
    edges: result.edges.map((e) => e.key as string).sort(),
    truncated: result.truncated,
  };
}
