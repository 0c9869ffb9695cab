import { Direction, EdgeRecord, edgeKey, NodeId, NodeRecord, TraversalQuery } from '@topology/model';
import { breadthFirst, EdgeSide, TraversalGraph } from './breadth-first';
import { app } from './network-fixture';
import { matchesFilters } from './node-filters';

/** Deterministic pseudo-random numbers (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Pair {
  src: NodeId;
  dst: NodeId;
}

function edgeRecord({ src, dst }: Pair, seen: number): EdgeRecord {
  return { key: edgeKey(src, dst), src, dst, granularity: 'app', layers: ['network'], props: {}, firstSeenMs: seen, lastSeenMs: seen + 1 };
}

/** A graph that builds new edge records at every call, as a store without caches would. */
function graphOf(pairs: readonly Pair[], nodes: ReadonlyMap<NodeId, NodeRecord>): TraversalGraph {
  return {
    edgesAt: (frontier: readonly NodeId[], side: EdgeSide) => {
      const at = new Set(frontier);
      return pairs.filter((p) => at.has(side === 'out' ? p.src : p.dst)).map((p, i) => edgeRecord(p, 1_000 + i));
    },
    nodes: (ids) => ids.flatMap((id) => nodes.get(id) ?? []),
  };
}

/** The rules of `breadthFirst` written as plainly as possible: edges collected in a set by key. */
function expected(query: TraversalQuery, pairs: readonly Pair[], nodes: ReadonlyMap<NodeId, NodeRecord>): { nodes: [NodeId, number][]; edges: string[]; truncated: boolean } {
  const distance = new Map<NodeId, number>();
  const rejected = new Set<NodeId>();
  const kept = new Set<string>();
  for (const root of query.roots) distance.set(root, 0);
  let frontier = [...new Set(query.roots)];
  let truncated = false;
  for (let level = 1; level <= query.depth && frontier.length > 0 && !truncated; level++) {
    const followed: Pair[] = [];
    const reached = new Set<NodeId>();
    for (const p of pairs) {
      const ends: NodeId[] = [];
      if (query.direction !== 'up' && frontier.includes(p.src)) ends.push(p.dst);
      if (query.direction !== 'down' && frontier.includes(p.dst)) ends.push(p.src);
      for (const other of ends) {
        if (rejected.has(other)) continue;
        followed.push(p);
        if (!distance.has(other)) reached.add(other);
      }
    }
    const admitted: NodeId[] = [];
    for (const id of [...reached].sort()) {
      const node = nodes.get(id);
      if (node === undefined || !matchesFilters(node, query.filters)) {
        rejected.add(id);
        continue;
      }
      if (distance.size >= query.maxVisited) {
        truncated = true;
        continue;
      }
      distance.set(id, level);
      admitted.push(id);
    }
    for (const p of followed) if (distance.has(p.src) && distance.has(p.dst)) kept.add(edgeKey(p.src, p.dst));
    frontier = admitted;
  }
  const visited = [...distance].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { nodes: visited, edges: [...kept].sort(), truncated };
}

describe('breadth-first traversal', () => {
  it('returns every followed edge exactly once, whichever ends reach it, with records rebuilt at every call', () => {
    const next = random(11);
    const pick = (n: number) => Math.floor(next() * n);
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const directions: Direction[] = ['down', 'up', 'both'];
    let edgesSeen = 0;
    for (let round = 0; round < 400; round++) {
      const nodes = new Map<NodeId, NodeRecord>();
      for (const name of names) {
        const id = app(name);
        nodes.set(id, { id, kind: 'app', granularity: 'app', displayName: name, health: 'healthy', firstSeenMs: 1, lastSeenMs: 2, tier: pick(4) === 0 ? 'tier-2' : 'tier-1' });
      }
      const pairs = new Map<string, Pair>();
      const edgeCount = pick(20);
      for (let i = 0; i < edgeCount; i++) {
        // Self-loops and both directions between two nodes included.
        const pair = { src: app(names[pick(names.length)] as string), dst: app(names[pick(names.length)] as string) };
        pairs.set(edgeKey(pair.src, pair.dst), pair);
      }
      const query: TraversalQuery = {
        roots: [app(names[pick(names.length)] as string), ...(pick(3) === 0 ? [app(names[pick(names.length)] as string)] : [])],
        direction: directions[pick(3)] as Direction,
        depth: 1 + pick(4),
        granularity: 'app',
        range: { fromMs: 0, toMs: 10 },
        maxVisited: pick(2) === 0 ? 3 + pick(4) : 1_000,
        ...(pick(4) === 0 ? { filters: { tiers: ['tier-1'] } } : {}),
      };
      const list = [...pairs.values()];
      const result = breadthFirst(query, graphOf(list, nodes), { edgeOrder: round % 2 === 0 ? 'followed' : 'key' });
      const want = expected(query, list, nodes);
      const keys = result.edges.map((e) => e.key as string);
      const context = `round ${round}: ${JSON.stringify({ query, edges: [...pairs.keys()] })}`;
      expect({ context, nodes: result.nodes.map((v): [NodeId, number] => [v.node.id, v.distance]), truncated: result.truncated }).toEqual({
        context,
        nodes: want.nodes,
        truncated: want.truncated,
      });
      expect({ context, edges: keys.length }).toEqual({ context, edges: new Set(keys).size });
      expect({ context, edges: round % 2 === 0 ? [...keys].sort() : keys }).toEqual({ context, edges: want.edges });
      edgesSeen += keys.length;
    }
    // The random graphs must actually exercise edges, or the comparison above proves nothing.
    expect(edgesSeen).toBeGreaterThan(1_000);
  });
});
