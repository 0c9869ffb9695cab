import { EdgeKey, EdgeRecord, isNodeId, NodeId, NodeRecord, TraversalQuery, TraversalResult, VisitedNode } from '@topology/model';
import { matchesFilters } from './node-filters';
import { nodeRecordFromId } from './record-rules';

/** Which end of an edge touches the frontier: `out` edges leave it (src in frontier), `in` edges enter it. */
export type EdgeSide = 'out' | 'in';

/**
 * What the traversal needs from a store, already narrowed to the query's granularity and time
 * range: visible edges (folded, hops only when asked) and node records.
 */
export interface TraversalGraph {
  /** Visible edges whose `src` (side `out`) or `dst` (side `in`) is in `frontier`. */
  edgesAt(frontier: readonly NodeId[], side: EdgeSide): readonly EdgeRecord[];
  /** Stored records of these nodes; ids the store does not know are left out. */
  nodes(ids: readonly NodeId[]): readonly NodeRecord[];
}

const SIDES: Record<TraversalQuery['direction'], readonly EdgeSide[]> = { down: ['out'], up: ['in'], both: ['out', 'in'] };

function byId(records: readonly NodeRecord[]): Map<NodeId, NodeRecord> {
  const map = new Map<NodeId, NodeRecord>();
  for (const r of records) map.set(r.id, r);
  return map;
}

interface SeenSpan {
  first: number;
  last: number;
}

function seenSpan(edges: readonly EdgeRecord[]): SeenSpan {
  let first = Infinity;
  let last = -Infinity;
  for (const e of edges) {
    first = Math.min(first, e.firstSeenMs);
    last = Math.max(last, e.lastSeenMs);
  }
  return { first, last };
}

/**
 * Level-by-level breadth-first traversal with the semantics every adapter shares:
 * - a node's distance is the fewest hops from any root; roots are at 0 and always kept;
 * - a node that fails the filters is neither returned nor traversed through;
 * - an edge is returned when it was followed from a node of the previous level to a returned node
 *   (so edges back to nodes found earlier are kept, edges beyond `depth` are not);
 * - once `maxVisited` nodes are kept, nodes still to admit are dropped in id order and the result
 *   says `truncated`.
 * Nodes come out by distance then id, edges by key.
 */
export function breadthFirst(query: TraversalQuery, graph: TraversalGraph): TraversalResult {
  const sides = SIDES[query.direction];
  const visited = new Map<NodeId, VisitedNode>();
  const rejected = new Set<NodeId>();
  const edges = new Map<EdgeKey, EdgeRecord>();
  const roots = [...new Set(query.roots.filter((r) => isNodeId(r)))];
  const rootRecords = byId(graph.nodes(roots));
  for (const id of roots) visited.set(id, { node: rootRecords.get(id) ?? nodeRecordFromId(id, 0, 0), distance: 0 });

  let frontier: NodeId[] = roots;
  let truncated = false;
  for (let distance = 1; distance <= query.depth && frontier.length > 0 && !truncated; distance++) {
    const followed: { edge: EdgeRecord; other: NodeId }[] = [];
    // Seen times of the edges reaching each new node, for nodes the store has no record of.
    const reachedBy = new Map<NodeId, SeenSpan>();
    for (const side of sides) {
      for (const edge of graph.edgesAt(frontier, side)) {
        const other = side === 'out' ? edge.dst : edge.src;
        if (rejected.has(other)) continue;
        followed.push({ edge, other });
        if (visited.has(other)) continue;
        const span = reachedBy.get(other);
        if (span === undefined) reachedBy.set(other, { first: edge.firstSeenMs, last: edge.lastSeenMs });
        else {
          if (edge.firstSeenMs < span.first) span.first = edge.firstSeenMs;
          if (edge.lastSeenMs > span.last) span.last = edge.lastSeenMs;
        }
      }
    }
    const candidates = [...reachedBy.keys()].sort();
    const records = byId(graph.nodes(candidates));
    const admitted: NodeId[] = [];
    for (const id of candidates) {
      let node = records.get(id);
      if (node === undefined) {
        const span = reachedBy.get(id) ?? { first: 0, last: 0 };
        node = nodeRecordFromId(id, span.first, span.last);
      }
      if (!matchesFilters(node, query.filters)) {
        rejected.add(id);
        continue;
      }
      if (visited.size >= query.maxVisited) {
        truncated = true;
        continue;
      }
      visited.set(id, { node, distance });
      admitted.push(id);
    }
    for (const { edge, other } of followed) if (visited.has(other)) edges.set(edge.key, edge);
    frontier = admitted;
  }

  const edgeList = [...edges.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const touched = new Set<NodeId>();
  for (const e of edgeList) touched.add(e.src).add(e.dst);
  // A root nobody wrote about is not a node of this layer: say nothing rather than invent one.
  const nodes = [...visited.values()]
    .filter((v) => v.distance > 0 || rootRecords.has(v.node.id) || touched.has(v.node.id))
    .map((v) => (v.distance === 0 && !rootRecords.has(v.node.id) ? { ...v, node: rootFromEdges(v.node.id, edgeList) } : v))
    .sort((a, b) => a.distance - b.distance || (a.node.id < b.node.id ? -1 : a.node.id > b.node.id ? 1 : 0));
  return { nodes, edges: edgeList, truncated };
}

function rootFromEdges(id: NodeId, edges: readonly EdgeRecord[]): NodeRecord {
  const span = seenSpan(edges.filter((e) => e.src === id || e.dst === id));
  return nodeRecordFromId(id, span.first, span.last);
}
