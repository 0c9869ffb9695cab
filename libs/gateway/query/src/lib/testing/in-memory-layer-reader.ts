import {
  EdgeListQuery,
  EdgeRecord,
  Layer,
  NodeFilters,
  NodeId,
  NodeRecord,
  parseNodeId,
  TimeRange,
  TraversalQuery,
  TraversalResult,
  VisitedNode,
} from '@topology/model';
import { LayerReader } from '../queries';

/**
 * A layer held in memory, for unit tests of code that reads layers and for demos. It follows the
 * traversal semantics of the `GraphLayerStore` port (filters, hops, maxVisited) over a fixed set of
 * nodes and already-folded edges, but it is not a store: nothing is written, nothing is bucketed.
 */
export class InMemoryLayerReader implements LayerReader {
  private readonly nodes = new Map<NodeId, NodeRecord>();
  private readonly outgoing = new Map<NodeId, EdgeRecord[]>();
  private readonly incoming = new Map<NodeId, EdgeRecord[]>();
  /** Reads made, for tests that check what the gateway asked. */
  readonly traversals: TraversalQuery[] = [];

  constructor(
    readonly layer: Layer,
    nodes: readonly NodeRecord[],
    private readonly edges: readonly EdgeRecord[],
  ) {
    for (const node of nodes) this.nodes.set(node.id, node);
    for (const edge of edges) {
      append(this.outgoing, edge.src, edge);
      append(this.incoming, edge.dst, edge);
    }
  }

  async getNodes(ids: NodeId[]): Promise<NodeRecord[]> {
    const out: NodeRecord[] = [];
    for (const id of ids) {
      const node = this.nodes.get(id);
      if (node !== undefined) out.push(node);
    }
    return out;
  }

  async listEdges(query: EdgeListQuery): Promise<EdgeRecord[]> {
    const touching = query.nodes === undefined ? undefined : new Set(query.nodes);
    return this.edges.filter(
      (edge) =>
        this.visible(edge, query.granularity, query.range, query.includeHops === true) &&
        (touching === undefined || touching.has(edge.src) || touching.has(edge.dst)),
    );
  }

  async traverse(query: TraversalQuery): Promise<TraversalResult> {
    this.traversals.push(query);
    const visited = new Map<NodeId, VisitedNode>();
    const edges = new Map<string, EdgeRecord>();
    let truncated = false;
    let frontier: NodeId[] = [];
    for (const root of query.roots) {
      if (visited.has(root)) continue;
      // Like the stores, keep every root: one the layer has no record of becomes a bare record seen at 0.
      visited.set(root, { node: this.nodes.get(root) ?? bareRecord(root), distance: 0 });
      frontier.push(root);
    }
    const includeHops = query.includeHops === true;
    const down = query.direction !== 'up';
    const up = query.direction !== 'down';
    for (let distance = 1; distance <= query.depth && frontier.length > 0 && !truncated; distance++) {
      const next: NodeId[] = [];
      for (const from of frontier) {
        const candidates = [...(down ? (this.outgoing.get(from) ?? []) : []), ...(up ? (this.incoming.get(from) ?? []) : [])];
        for (const edge of candidates) {
          if (!this.visible(edge, query.granularity, query.range, includeHops)) continue;
          const to = edge.src === from && down ? edge.dst : edge.src;
          const node = this.nodes.get(to);
          if (node === undefined || !matches(node, query.filters)) continue;
          if (!visited.has(to)) {
            if (visited.size >= query.maxVisited) {
              truncated = true;
              continue;
            }
            visited.set(to, { node, distance });
            next.push(to);
          }
          edges.set(edge.key, edge);
        }
      }
      frontier = next;
    }
    return { nodes: [...visited.values()], edges: [...edges.values()], truncated };
  }

  private visible(edge: EdgeRecord, granularity: string, range: TimeRange, includeHops: boolean): boolean {
    if (edge.granularity !== granularity) return false;
    if (edge.lastSeenMs < range.fromMs || edge.firstSeenMs >= range.toMs) return false;
    return includeHops || edge.props.network?.hop !== true;
  }
}

function bareRecord(id: NodeId): NodeRecord {
  const { kind, name } = parseNodeId(id);
  return { id, kind, displayName: name, health: 'unknown', firstSeenMs: 0, lastSeenMs: 0 };
}

function append(index: Map<NodeId, EdgeRecord[]>, id: NodeId, edge: EdgeRecord): void {
  const list = index.get(id);
  if (list === undefined) index.set(id, [edge]);
  else list.push(edge);
}

function matches(node: NodeRecord, filters: NodeFilters | undefined): boolean {
  if (filters === undefined) return true;
  const oneOf = (values: string[] | undefined, value: string | undefined) => values === undefined || values.length === 0 || (value !== undefined && values.includes(value));
  return (
    oneOf(filters.tiers, node.tier) &&
    oneOf(filters.domains, node.domain) &&
    oneOf(filters.owners, node.owner) &&
    oneOf(filters.regions, node.region) &&
    oneOf(filters.health, node.health)
  );
}
