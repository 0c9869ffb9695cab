import { Clock, Direction, Granularity, Layer, NodeFilters, NodeId, TimeRange, TraversalQuery, TraversalResult } from '@topology/model';
import { LayerAnswer } from './layer-fan-out';
import { GraphMerge } from './merge';
import { LayerReader, LayerStatus } from './queries';

export interface TraversalPlan {
  roots: NodeId[];
  direction: Direction;
  depth: number;
  granularity: Granularity;
  range: TimeRange;
  filters?: NodeFilters;
  includeHops: boolean;
}

/** Asks the given layers in parallel, each under `timeoutMs`; never rejects (see `fanOut`). */
export type AskLayers = <T>(layers: readonly Layer[], work: (reader: LayerReader, layer: Layer) => Promise<T>, timeoutMs: number) => Promise<LayerAnswer<T>[]>;

export interface UnionTraversal {
  merge: GraphMerge;
  /** One status per requested layer, in the requested order. */
  layerStatus: LayerStatus[];
  /** A layer, or the union, went past `maxVisited`. */
  truncated: boolean;
}

export interface UnionTraversalLimits {
  maxVisited: number;
  layerTimeoutMs: number;
}

/**
 * Traverses the union of the requested layers' graphs: a node is reached when any mix of layers'
 * edges connects it to a root within `depth`, at the fewest hops any mix allows.
 *
 * With one served layer, or one hop, each layer's own traversal is already that, and one call per
 * layer answers it. Otherwise the traversal goes level by level: every level's frontier is expanded
 * in every layer in parallel (the port's `traverse` at depth 1), and the union of what they found
 * is the next frontier. Each layer keeps one timeout for the whole traversal, so a query still
 * answers within `layerTimeoutMs`; a layer that stalls or fails at some level is left out of the
 * levels after it and reported, and what it returned before stays in the answer.
 */
export async function traverseUnion(plan: TraversalPlan, layers: readonly Layer[], served: ReadonlySet<Layer>, ask: AskLayers, limits: UnionTraversalLimits, clock: Clock): Promise<UnionTraversal> {
  if (plan.direction === 'both' && plan.depth > 1) return traverseUpAndDown(plan, layers, served, ask, limits, clock);
  const servedCount = layers.filter((layer) => served.has(layer)).length;
  if (plan.depth === 1 || servedCount <= 1) return traverseEachLayer(plan, layers, ask, limits);
  return traverseLevelByLevel(plan, layers, ask, limits, clock);
}

const STATE_RANK: Readonly<Record<LayerStatus['state'], number>> = { ok: 0, 'timed-out': 1, failed: 2 };

/**
 * Both ways means a service's upstream and its downstream: what it depends on, down to `depth`,
 * and what depends on it, up to `depth`, each walked in its own direction, a node at the fewer hops
 * of the two. Walking edges in any direction instead would reach, two hops away, every other
 * caller of each dependency (siblings sharing a database, say) and soon most of a fleet: on the
 * simulated fleet a three-hop walk reaches four times the nodes and seven times the edges, none of
 * them on the service's call paths. One hop is the same either way.
 */
async function traverseUpAndDown(plan: TraversalPlan, layers: readonly Layer[], served: ReadonlySet<Layer>, ask: AskLayers, limits: UnionTraversalLimits, clock: Clock): Promise<UnionTraversal> {
  const [down, up] = await Promise.all([
    traverseUnion({ ...plan, direction: 'down' }, layers, served, ask, limits, clock),
    traverseUnion({ ...plan, direction: 'up' }, layers, served, ask, limits, clock),
  ]);
  down.merge.absorb(up.merge);
  const layerStatus = down.layerStatus.map((a, i) => {
    const b = up.layerStatus[i] ?? a;
    const worse = STATE_RANK[b.state] > STATE_RANK[a.state] ? b : a;
    // The two walks ran side by side: the layer took as long as the slower.
    return { ...worse, latencyMs: Math.max(a.latencyMs, b.latencyMs) };
  });
  return { merge: down.merge, layerStatus, truncated: down.truncated || up.truncated || down.merge.nodeCount > limits.maxVisited };
}

function query(plan: TraversalPlan, roots: NodeId[], depth: number, maxVisited: number): TraversalQuery {
  return {
    roots,
    direction: plan.direction,
    depth,
    granularity: plan.granularity,
    range: plan.range,
    ...(plan.filters === undefined ? {} : { filters: plan.filters }),
    includeHops: plan.includeHops,
    maxVisited,
  };
}

async function traverseEachLayer(plan: TraversalPlan, layers: readonly Layer[], ask: AskLayers, limits: UnionTraversalLimits): Promise<UnionTraversal> {
  const answers = await ask(layers, (reader) => reader.traverse(query(plan, plan.roots, plan.depth, limits.maxVisited)), limits.layerTimeoutMs);
  const merge = new GraphMerge();
  let truncated = false;
  for (const { status, value } of answers) {
    if (value === undefined) continue;
    merge.addVisited(status.layer, value.nodes);
    merge.addEdges(status.layer, value.edges);
    if (value.truncated) truncated = true;
  }
  return { merge, layerStatus: answers.map((a) => a.status), truncated };
}

async function traverseLevelByLevel(plan: TraversalPlan, layers: readonly Layer[], ask: AskLayers, limits: UnionTraversalLimits, clock: Clock): Promise<UnionTraversal> {
  const { maxVisited, layerTimeoutMs } = limits;
  const startMs = clock.now();
  const merge = new GraphMerge();
  const statuses = new Map<Layer, LayerStatus>();
  let active: Layer[] = [...layers];
  let frontier: NodeId[] = plan.roots;
  let truncated = false;

  for (let distance = 1; distance <= plan.depth && frontier.length > 0 && active.length > 0; distance++) {
    const remainingMs = Math.max(1, layerTimeoutMs - (clock.now() - startMs));
    // A level may find up to maxVisited new nodes in each layer; the union is cut below.
    const levelMax = frontier.length + maxVisited;
    const levelRoots = frontier;
    const answers: LayerAnswer<TraversalResult>[] = await ask(active, (reader) => reader.traverse(query(plan, levelRoots, 1, levelMax)), remainingMs);

    const next: NodeId[] = [];
    for (const { status, value } of answers) {
      const before = statuses.get(status.layer);
      const latencyMs = (before?.latencyMs ?? 0) + status.latencyMs;
      // The level's timeout is what was left of the layer's; the caller knows only the whole.
      const message = status.state === 'timed-out' ? `the ${status.layer} layer did not answer within ${layerTimeoutMs} ms` : status.message;
      statuses.set(status.layer, { ...status, message, latencyMs });
      if (value === undefined) continue;
      if (value.truncated) truncated = true;
      // A frontier node counts as seen by this layer when the layer has an edge at it; every layer
      // returns every frontier node (stores keep their roots), most as bare records.
      const touched = distance === 1 ? undefined : endpointsOf(value);
      for (const visited of value.nodes) {
        const id = visited.node.id;
        if (visited.distance === 0) {
          if (touched === undefined || touched.has(id)) merge.addNode(status.layer, visited.node, distance - 1);
          continue;
        }
        if (!merge.hasNode(id)) next.push(id);
        merge.addNode(status.layer, visited.node, distance);
      }
      merge.addEdges(status.layer, value.edges);
    }
    active = active.filter((layer) => statuses.get(layer)?.state === 'ok');
    if (merge.nodeCount > maxVisited) {
      truncated = true;
      break;
    }
    frontier = next;
  }
  const layerStatus = layers.map((layer) => statuses.get(layer) ?? { layer, state: 'ok' as const, message: '', latencyMs: 0 });
  return { merge, layerStatus, truncated };
}

function endpointsOf(result: TraversalResult): Set<NodeId> {
  const ids = new Set<NodeId>();
  for (const edge of result.edges) {
    ids.add(edge.src);
    ids.add(edge.dst);
  }
  return ids;
}
