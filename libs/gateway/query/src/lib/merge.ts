import { EdgeKey, EdgeRecord, Layer, LAYERS, NodeId, NodeRecord, VisitedNode } from '@topology/model';
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

interface NodeSightings {
  id: NodeId;
  distance: number;
  /** One record per layer, in the order the layers answered. */
  records: NodeRecord[];
  /** The layer of each record in `records`. */
  recordLayers: Layer[];
  /** The same layers in `LAYERS` order. */
  layers: Layer[];
}

/**
 * Merges what several layers returned for the same query into one graph: a node seen by several
 * layers is one node, an edge seen by several layers is one edge carrying each layer's property set.
 */
export class GraphMerge {
  private readonly nodes = new Map<NodeId, NodeSightings>();
  private readonly edgesByKey = new Map<EdgeKey, EdgeRecord>();
  /** Keys whose record in `edgesByKey` is this merge's own copy rather than a store's record. */
  private readonly owned = new Set<EdgeKey>();
  private firstLayerEdges: { layer: Layer; edges: readonly EdgeRecord[] } | undefined;

  addNode(layer: Layer, record: NodeRecord, distance: number): void {
    const seen = this.nodes.get(record.id);
    if (seen === undefined) {
      this.nodes.set(record.id, { id: record.id, distance, records: [record], recordLayers: [layer], layers: [layer] });
      return;
    }
    if (distance < seen.distance) seen.distance = distance;
    addLayer(seen.layers, layer);
    // A level-by-level traversal can meet a node in one layer more than once; its record is the same.
    if (seen.recordLayers.includes(layer)) return;
    seen.records.push(record);
    seen.recordLayers.push(layer);
  }

  /**
   * A layer's record of a node already in the graph that this layer did not see in the answer (no
   * edge of it reached the node): it fills context (health, owner, ...) without listing the layer.
   */
  addContext(layer: Layer, record: NodeRecord): void {
    const seen = this.nodes.get(record.id);
    if (seen === undefined || seen.recordLayers.includes(layer)) return;
    seen.records.push(record);
    seen.recordLayers.push(layer);
  }

  addVisited(layer: Layer, visited: readonly VisitedNode[]): void {
    for (const v of visited) this.addNode(layer, v.node, v.distance);
  }

  addEdges(layer: Layer, edges: readonly EdgeRecord[]): void {
    if (this.edgesByKey.size === 0 && this.firstLayerEdges === undefined) {
      // Most queries are answered by one layer: its list is used as it is unless a second one comes.
      this.firstLayerEdges = { layer, edges };
      return;
    }
    if (this.firstLayerEdges !== undefined) {
      const first = this.firstLayerEdges;
      this.firstLayerEdges = undefined;
      this.indexEdges(first.layer, first.edges);
    }
    this.indexEdges(layer, edges);
  }

  private indexEdges(layer: Layer, edges: readonly EdgeRecord[]): void {
    for (const edge of edges) {
      const known = this.edgesByKey.get(edge.key);
      if (known === undefined) {
        // Most edges are seen by one layer: keep the store's record as it is until a second layer sees it.
        const [only] = edge.layers;
        this.edgesByKey.set(edge.key, edge.layers.length === 1 && only === layer ? edge : this.own(edge, layer));
        continue;
      }
      const merged = this.owned.has(edge.key) ? known : this.own(known, known.layers[0] ?? layer);
      addLayer(merged.layers, layer);
      const props = edge.props[layer];
      if (props !== undefined) merged.props = { ...merged.props, [layer]: props };
      if (edge.firstSeenMs < merged.firstSeenMs) merged.firstSeenMs = edge.firstSeenMs;
      if (edge.lastSeenMs > merged.lastSeenMs) merged.lastSeenMs = edge.lastSeenMs;
    }
  }

  /** A copy of `edge` carrying only `layer`'s property set, which this merge may change. */
  private own(edge: EdgeRecord, layer: Layer): EdgeRecord {
    const props = edge.props[layer];
    const copy: EdgeRecord = {
      key: edge.key,
      src: edge.src,
      dst: edge.dst,
      granularity: edge.granularity,
      layers: [layer],
      props: props === undefined ? {} : { [layer]: props },
      firstSeenMs: edge.firstSeenMs,
      lastSeenMs: edge.lastSeenMs,
    };
    this.edgesByKey.set(edge.key, copy);
    this.owned.add(edge.key);
    return copy;
  }

  /**
   * Adds what another merge of the same query holds (the other direction of a walk both ways):
   * each node at the fewer hops of the two, with every layer's record and sighting; each edge with
   * every layer's property set.
   */
  absorb(other: GraphMerge): void {
    for (const seen of other.nodes.values()) {
      seen.records.forEach((record, at) => {
        const layer = seen.recordLayers[at] as Layer;
        if (seen.layers.includes(layer)) this.addNode(layer, record, seen.distance);
      });
    }
    for (const seen of other.nodes.values()) {
      seen.records.forEach((record, at) => this.addContext(seen.recordLayers[at] as Layer, record));
    }
    const edges = [...other.edges()];
    for (const layer of LAYERS) {
      const ofLayer = edges.filter((e) => e.layers.includes(layer));
      if (ofLayer.length > 0) this.addEdges(layer, ofLayer);
    }
  }

  hasNode(id: NodeId): boolean {
    return this.nodes.has(id);
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  hasRecordFrom(id: NodeId, layer: Layer): boolean {
    return this.nodes.get(id)?.recordLayers.includes(layer) === true;
  }

  /** Each layer's own record of a node, for callers that must say which layer reported what. */
  recordsOf(id: NodeId): { layer: Layer; record: NodeRecord }[] {
    const seen = this.nodes.get(id);
    if (seen === undefined) return [];
    return seen.records.map((record, at) => ({ layer: seen.recordLayers[at] as Layer, record }));
  }

  node(id: NodeId): TopologyNode | undefined {
    const seen = this.nodes.get(id);
    return seen === undefined ? undefined : mergeSightings(seen);
  }

  /**
   * Node ids ordered by distance then id: the order pages are cut in. Cheap on purpose: merged
   * nodes are built only for the page that is returned.
   */
  orderedIds(): NodeId[] {
    const sightings = [...this.nodes.values()].sort((a, b) => a.distance - b.distance || compareIds(a.id, b.id));
    const ids: NodeId[] = new Array(sightings.length);
    for (let i = 0; i < sightings.length; i++) ids[i] = (sightings[i] as NodeSightings).id;
    return ids;
  }

  edges(): Iterable<EdgeRecord> {
    return this.firstLayerEdges?.edges ?? this.edgesByKey.values();
  }
}

/** Keeps a node's or edge's layers in `LAYERS` order as they are added. */
function addLayer(layers: Layer[], layer: Layer): void {
  if (layers.includes(layer)) return;
  let at = layers.length;
  while (at > 0 && LAYER_RANK[layers[at - 1] as Layer] > LAYER_RANK[layer]) at--;
  layers.splice(at, 0, layer);
}

export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function mergeSightings(seen: NodeSightings): TopologyNode {
  const layers = [...seen.layers];
  const [only] = seen.records;
  if (seen.records.length === 1 && only !== undefined) return { ...only, distance: seen.distance, layers };
  // Richest first; ties go to the layer first in LAYERS order, whatever order the records came in.
  const ranked = seen.records
    .map((record, at) => ({ record, rank: LAYER_RANK[seen.recordLayers[at] as Layer], score: richness(record) }))
    .sort((a, b) => b.score - a.score || a.rank - b.rank)
    .map((r) => r.record);
  const [richest, ...others] = ranked;
  if (richest === undefined) throw new Error('a merged node has no record');
  const merged: TopologyNode = { ...richest, distance: seen.distance, layers };
  for (const other of others) {
    for (const field of CONTEXT_FIELDS) {
      fillGap(merged, other, field);
    }
    if (merged.health === 'unknown' && other.health !== 'unknown') merged.health = other.health;
    // Only the application layer knows it; it takes no part in which record is the richest.
    if (other.reportsIpcMetrics === true) merged.reportsIpcMetrics = true;
    if (other.firstSeenMs < merged.firstSeenMs) merged.firstSeenMs = other.firstSeenMs;
    if (other.lastSeenMs > merged.lastSeenMs) merged.lastSeenMs = other.lastSeenMs;
  }
  return merged;
}
