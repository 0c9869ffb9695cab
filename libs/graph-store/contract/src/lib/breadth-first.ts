import { EdgeRecord, isNodeId, NodeId, NodeRecord, TraversalQuery, TraversalResult, VisitedNode } from '@topology/model';
import { matchesFilters } from './node-filters';
import { nodeRecordFromId } from './record-rules';

/** Which end of an edge touches the frontier: `out` edges leave it (src in frontier), `in` edges enter it. */
export type EdgeSide = 'out' | 'in';

/**
 * What the traversal needs from a store, already narrowed to the query's granularity and time
 * range: visible edges (folded, hops only when asked) and node records.
 */
export interface TraversalGraph {
  /**
   * Visible edges whose `src` (side `out`) or `dst` (side `in`) is in `frontier`, each once. The
   * traversal relies on the same edges being visible at every call of one query.
   */
  edgesAt(frontier: readonly NodeId[], side: EdgeSide): readonly EdgeRecord[];
  /** Stored records of these nodes; ids the store does not know are left out. */
  nodes(ids: readonly NodeId[]): readonly NodeRecord[];
}

export interface BreadthFirstOptions {
  /** `key` (default): edges sorted by key. `followed`: in the order they were followed, unsorted. */
  edgeOrder?: 'key' | 'followed';
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
 * Nodes come out by distance then id. Edges come out once each, by key, or with `edgeOrder:
 * 'followed'` in the order they were followed: the port promises no order and the gateway orders
 * each page itself, so a store that needs no stable order spares the sort.
 */
export function breadthFirst(query: TraversalQuery, graph: TraversalGraph, options: BreadthFirstOptions = {}): TraversalResult {
  const sides = SIDES[query.direction];
  const bothWays = sides.length === 2;
  const visited = new Map<NodeId, VisitedNode>();
  const rejected = new Set<NodeId>();
  const edges: EdgeRecord[] = [];
  const roots = [...new Set(query.roots.filter((r) => isNodeId(r)))];
  const rootRecords = byId(graph.nodes(roots));
  for (const id of roots) visited.set(id, { node: rootRecords.get(id) ?? nodeRecordFromId(id, 0, 0), distance: 0 });

  let frontier: NodeId[] = roots;
  let truncated = false;
  for (let distance = 1; distance <= query.depth && frontier.length > 0 && !truncated; distance++) {
    // Edges to nodes not yet visited, kept once the level's admissions are known.
    const pendingEdges: EdgeRecord[] = [];
    const pendingEnds: NodeId[] = [];
    // Seen times of the edges reaching each new node, for nodes the store has no record of.
    const reachedBy = new Map<NodeId, SeenSpan>();
    for (const side of sides) {
      const entering = side === 'in';
      for (const edge of graph.edgesAt(frontier, side)) {
        const other = entering ? edge.src : edge.dst;
        if (rejected.has(other)) continue;
        const seen = visited.get(other);
        if (seen !== undefined) {
          // Walking both ways, an edge whose other end was a frontier node too (of an earlier
          // level, or of this one when reached entering) was already followed from that end.
          if (bothWays && (seen.distance < distance - 1 || (entering && seen.distance === distance - 1))) continue;
          edges.push(edge);
          continue;
        }
        pendingEdges.push(edge);
        pendingEnds.push(other);
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
    for (let i = 0; i < pendingEdges.length; i++) if (visited.has(pendingEnds[i] as NodeId)) edges.push(pendingEdges[i] as EdgeRecord);
    frontier = admitted;
  }

  // Visited nodes are already in distance then id order, but for the roots (in request order).
  const nodes: VisitedNode[] = [];
  let touched: Set<NodeId> | undefined;
  for (const v of visited.values()) {
    if (v.distance > 0) {
      nodes.push(v);
      continue;
    }
    if (rootRecords.has(v.node.id)) {
      nodes.push(v);
      continue;
    }
    // A root nobody wrote about is not a node of this layer: say nothing rather than invent one.
    touched ??= endpoints(edges);
    if (touched.has(v.node.id)) nodes.push({ ...v, node: rootFromEdges(v.node.id, edges) });
  }
  let rootCount = 0;
  while (rootCount < nodes.length && (nodes[rootCount] as VisitedNode).distance === 0) rootCount++;
  if (rootCount > 1) {
    const sortedRoots = nodes.slice(0, rootCount).sort((a, b) => (a.node.id < b.node.id ? -1 : a.node.id > b.node.id ? 1 : 0));
    for (let i = 0; i < rootCount; i++) nodes[i] = sortedRoots[i] as VisitedNode;
  }
  if (options.edgeOrder !== 'followed') edges.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { nodes, edges, truncated };
}

function endpoints(edges: readonly EdgeRecord[]): Set<NodeId> {
  const ids = new Set<NodeId>();
  for (const e of edges) ids.add(e.src).add(e.dst);
  return ids;
}

function rootFromEdges(id: NodeId, edges: readonly EdgeRecord[]): NodeRecord {
  const span = seenSpan(edges.filter((e) => e.src === id || e.dst === id));
  return nodeRecordFromId(id, span.first, span.last);
}
