import type { TraversalQuery, TraversalResult } from '@topology/model';

/** What a store answers a traversal with, for timing it alone. */
export interface TraversableStore {
  traverse(query: TraversalQuery): Promise<TraversalResult>;
}

/**
 * A store's own walk with the gateway's meaning of each direction: both ways is the walk down and
 * the walk up (ADR 019), not the store's any-direction primitive, so its figure times the same work
 * the gateway asks of the store. Returns the number of nodes and edges the walks found.
 */
export async function storeWalk(store: TraversableStore, query: TraversalQuery): Promise<{ nodes: number; edges: number }> {
  if (query.direction !== 'both' || query.depth <= 1) {
    const r = await store.traverse(query);
    return { nodes: r.nodes.length, edges: r.edges.length };
  }
  const [down, up] = await Promise.all([store.traverse({ ...query, direction: 'down' }), store.traverse({ ...query, direction: 'up' })]);
  return { nodes: new Set([...down.nodes, ...up.nodes].map((n) => n.node.id)).size, edges: new Set([...down.edges, ...up.edges].map((e) => e.key)).size };
}
