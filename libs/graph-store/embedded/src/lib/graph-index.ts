import { Granularity, NodeId, NodeRecord } from '@topology/model';
import { EdgeSide } from '@topology/graph-store-contract';

/** An edge with the bounds of its buckets, as the traversal pre-filters it. */
export interface EdgeBounds {
  id: number;
  src: NodeId;
  dst: NodeId;
  granularity: Granularity;
  firstBucketMs: number;
  lastBucketMs: number;
  /** Newest bucket that is not a hop; `null` when every bucket is one. */
  lastResolvedBucketMs: number | null;
}

/** Which edges may have a visible bucket: granularity, bucket starts in `[firstStartMs, toMs)`, hops only when asked. */
export interface EdgeWindow {
  granularity: Granularity;
  firstStartMs: number;
  toMs: number;
  includeHops: boolean;
}

export function mayBeVisible(e: EdgeBounds, w: EdgeWindow): boolean {
  return (
    e.granularity === w.granularity &&
    e.lastBucketMs >= w.firstStartMs &&
    e.firstBucketMs < w.toMs &&
    (w.includeHops || (e.lastResolvedBucketMs !== null && e.lastResolvedBucketMs >= w.firstStartMs))
  );
}

/**
 * The edge rows (without buckets) and node records of one layer, held by a reader and kept current
 * from the store's change counters, so a traversal level is map lookups instead of a query.
 */
export class GraphIndex {
  private readonly edges = new Map<number, EdgeBounds>();
  private readonly leaving = new Map<NodeId, Map<number, EdgeBounds>>();
  private readonly entering = new Map<NodeId, Map<number, EdgeBounds>>();
  private readonly nodes = new Map<NodeId, NodeRecord>();

  clear(): void {
    this.edges.clear();
    this.leaving.clear();
    this.entering.clear();
    this.nodes.clear();
  }

  putEdge(edge: EdgeBounds): void {
    this.edges.set(edge.id, edge);
    adjacent(this.leaving, edge.src).set(edge.id, edge);
    adjacent(this.entering, edge.dst).set(edge.id, edge);
  }

  removeEdge(id: number): void {
    const edge = this.edges.get(id);
    if (edge === undefined) return;
    this.edges.delete(id);
    this.leaving.get(edge.src)?.delete(id);
    this.entering.get(edge.dst)?.delete(id);
  }

  putNode(node: NodeRecord): void {
    this.nodes.set(node.id, node);
  }

  node(id: NodeId): NodeRecord | undefined {
    return this.nodes.get(id);
  }

  edgesAt(frontier: readonly NodeId[], side: EdgeSide, window: EdgeWindow): EdgeBounds[] {
    const index = side === 'out' ? this.leaving : this.entering;
    const found: EdgeBounds[] = [];
    for (const id of frontier) {
      const edges = index.get(id);
      if (edges === undefined) continue;
      for (const edge of edges.values()) if (mayBeVisible(edge, window)) found.push(edge);
    }
    return found;
  }

  edgesIn(window: EdgeWindow): EdgeBounds[] {
    const found: EdgeBounds[] = [];
    for (const edge of this.edges.values()) if (mayBeVisible(edge, window)) found.push(edge);
    return found;
  }
}

function adjacent(index: Map<NodeId, Map<number, EdgeBounds>>, id: NodeId): Map<number, EdgeBounds> {
  let edges = index.get(id);
  if (edges === undefined) {
    edges = new Map();
    index.set(id, edges);
  }
  return edges;
}
