import { EdgeKey, EdgeRecord, Layer, NodeId, NodeRecord, VisitedNode } from '@topology/model';
import { TopologyNode } from './queries';

const LAYER_RANK: Readonly<Record<Layer, number>> = { network: 0, application: 1, request: 2 };

/** Optional fields of a node that layers may know or not; the merged node takes each from the richest record that has it. */
const CONTEXT_FIELDS = ['granularity', 'app', 'cluster', 'account', 'tier', 'domain', 'owner', 'region', 'intermediaryType', 'unknownReason', 'address'] as const;

type ContextField = (typeof CONTEXT_FIELDS)[number];

function fillGap<F extends ContextField>(target: NodeRecord, source: NodeRecord, field: F): void {
  if (target[field] === undefined) target[field] = source[field];
}

function richness(record: NodeRecord): number {
  let score = record.health === 'unknown' ? 0 : 1;
  for (const field of CONTEXT_FIELDS) if (record[field] !== undefined) score++;
  return score;
}

function byLayerRank(a: Layer, b: Layer): number {
  return LAYER_RANK[a] - LAYER_RANK[b];
}

interface NodeSightings {
  distance: number;
  records: NodeRecord[];
  layers: Layer[];
}

/**
 * Merges what several layers returned for the same query into one graph: a node seen by several
 * layers is one node, an edge seen by several layers is one edge carrying each layer's property set.
 */
export class GraphMerge {
  private readonly nodes = new Map<NodeId, NodeSightings>();
  private readonly edges = new Map<EdgeKey, EdgeRecord>();

  addNode(layer: Layer, record: NodeRecord, distance: number): void {
    const seen = this.nodes.get(record.id);
    if (seen === undefined) {
      this.nodes.set(record.id, { distance, records: [record], layers: [layer] });
      return;
    }
    if (distance < seen.distance) seen.distance = distance;
    seen.records.push(record);
    if (!seen.layers.includes(layer)) seen.layers.push(layer);
  }

  addVisited(layer: Layer, visited: readonly VisitedNode[]): void {
    for (const v of visited) this.addNode(layer, v.node, v.distance);
  }

  addEdges(layer: Layer, edges: readonly EdgeRecord[]): void {
    for (const edge of edges) {
      const props = edge.props[layer];
      const merged = this.edges.get(edge.key);
      if (merged === undefined) {
        this.edges.set(edge.key, {
          key: edge.key,
          src: edge.src,
          dst: edge.dst,
          granularity: edge.granularity,
          layers: [layer],
          props: props === undefined ? {} : { [layer]: props },
          firstSeenMs: edge.firstSeenMs,
          lastSeenMs: edge.lastSeenMs,
        });
        continue;
      }
      if (!merged.layers.includes(layer)) merged.layers.push(layer);
      if (props !== undefined) merged.props = { ...merged.props, [layer]: props };
      if (edge.firstSeenMs < merged.firstSeenMs) merged.firstSeenMs = edge.firstSeenMs;
      if (edge.lastSeenMs > merged.lastSeenMs) merged.lastSeenMs = edge.lastSeenMs;
    }
  }

  hasNode(id: NodeId): boolean {
    return this.nodes.has(id);
  }

  node(id: NodeId): TopologyNode | undefined {
    const seen = this.nodes.get(id);
    return seen === undefined ? undefined : mergeSightings(seen);
  }

  /** Every node, ordered by distance then id: the order pages are cut in. */
  orderedNodes(): TopologyNode[] {
    const out: TopologyNode[] = [];
    for (const seen of this.nodes.values()) out.push(mergeSightings(seen));
    return out.sort(compareByDistanceThenId);
  }

  allEdges(): EdgeRecord[] {
    const out = [...this.edges.values()];
    for (const edge of out) if (edge.layers.length > 1) edge.layers.sort(byLayerRank);
    return out;
  }
}

export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareByDistanceThenId(a: TopologyNode, b: TopologyNode): number {
  return a.distance - b.distance || compareIds(a.id, b.id);
}

function mergeSightings(seen: NodeSightings): TopologyNode {
  const layers = seen.layers.length > 1 ? [...seen.layers].sort(byLayerRank) : seen.layers;
  const [only] = seen.records;
  if (seen.records.length === 1 && only !== undefined) return { ...only, distance: seen.distance, layers };
  // Richest first; ties keep the order the layers answered in, which is LAYERS order.
  const ranked = seen.records
    .map((record, at) => ({ record, at, score: richness(record) }))
    .sort((a, b) => b.score - a.score || a.at - b.at)
    .map((r) => r.record);
  const [richest, ...others] = ranked;
  if (richest === undefined) throw new Error('a merged node has no record');
  const merged: TopologyNode = { ...richest, distance: seen.distance, layers };
  for (const other of others) {
    for (const field of CONTEXT_FIELDS) {
      fillGap(merged, other, field);
    }
    if (merged.health === 'unknown' && other.health !== 'unknown') merged.health = other.health;
    if (other.firstSeenMs < merged.firstSeenMs) merged.firstSeenMs = other.firstSeenMs;
    if (other.lastSeenMs > merged.lastSeenMs) merged.lastSeenMs = other.lastSeenMs;
  }
  return merged;
}
