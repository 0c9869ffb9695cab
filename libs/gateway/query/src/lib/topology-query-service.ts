import {
  Clock,
  CounterSet,
  Direction,
  EdgeRecord,
  Granularity,
  Layer,
  LAYERS,
  NodeFilters,
  NodeId,
  parseNodeId,
  systemClock,
  TimeRange,
  TraversalResult,
} from '@topology/model';
import { fanOut, LayerAnswer, systemTimer, Timer } from './layer-fan-out';
import { compareIds, GraphMerge } from './merge';
import { decodePageToken, encodePageToken, fingerprintOf } from './page-token';
import { QueryConfig, resolveQueryConfig } from './query-config';
import { QueryError } from './query-error';
import {
  BlastRadiusRequest,
  BlastRadiusResponse,
  GetNodeRequest,
  GetNodeResponse,
  ImpactedNode,
  LayerReader,
  LayerSource,
  LayerStatus,
  NeighbourSummary,
  TeamImpact,
  TopologyNode,
  TraverseRequest,
  TraverseResponse,
  TruncationReason,
} from './queries';
import {
  resolveDepth,
  resolveDirection,
  resolveFilters,
  resolveGranularity,
  resolveLayers,
  resolveNodeRef,
  resolvePageSize,
  resolveRange,
  resolveRoots,
} from './request-validation';

export const QUERY_COUNTERS = {
  queries: 'Queries received, labelled by method.',
  rejected_queries: 'Queries answered with an error, labelled by error code.',
  layer_timeouts: 'Layer reads that did not answer within layerTimeoutMs, labelled by layer; the query answered without them.',
  layer_failures: 'Layer reads that threw, labelled by layer; the query answered without them.',
  truncated_queries: 'Traversals cut short by maxVisited.',
  edges_without_endpoint: 'Edges dropped from an answer because no layer returned one of their endpoints (a store breaking its contract).',
} as const;
export type QueryCounter = keyof typeof QUERY_COUNTERS;

export interface QueryServiceDeps {
  clock?: Clock;
  /** Schedules layer timeouts; the global timers by default. */
  timer?: Timer;
}

interface TraversalPlan {
  roots: NodeId[];
  direction: Direction;
  depth: number;
  granularity: Granularity;
  range: TimeRange;
  filters?: NodeFilters;
  includeHops: boolean;
}

interface MergedTraversal {
  merge: GraphMerge;
  /** Node ids ordered by distance then id, at most `maxVisited`. */
  order: NodeId[];
  /** Position of each id in `order`. */
  position: Map<NodeId, number>;
  layerStatus: LayerStatus[];
  truncatedReason?: TruncationReason;
}

const TIER_ORDER = new Intl.Collator('en', { numeric: true });

/**
 * The unified query: fans a request out to every requested layer in parallel, each under its own
 * timeout, and merges what comes back into one graph. A layer that stalls or fails is reported in
 * `layerStatus` and the others still answer; only a bad request (or a node no layer knows) fails.
 *
 * Traversal is the union of each layer's own traversal, not a traversal of the union graph: a path
 * that needs edges from two layers to reach a node within `depth` does not reach it.
 */
export class TopologyQueryService {
  readonly config: QueryConfig;
  readonly counters = new CounterSet<QueryCounter>(QUERY_COUNTERS);
  /** The layers this gateway serves, in `LAYERS` order. */
  readonly layers: readonly Layer[];
  private readonly readers = new Map<Layer, LayerReader>();
  private readonly clock: Clock;
  private readonly timer: Timer;

  constructor(sources: readonly LayerSource[], config: Partial<QueryConfig> = {}, deps: QueryServiceDeps = {}) {
    this.config = resolveQueryConfig(config);
    if (sources.length === 0) throw new Error('the query service needs at least one layer');
    for (const { layer, reader } of sources) {
      if (!LAYERS.includes(layer)) throw new Error(`unknown layer ${String(layer)}`);
      if (this.readers.has(layer)) throw new Error(`layer ${layer} is given twice`);
      this.readers.set(layer, reader);
    }
    this.layers = LAYERS.filter((layer) => this.readers.has(layer));
    this.clock = deps.clock ?? systemClock;
    this.timer = deps.timer ?? systemTimer;
  }

  traverse(request: TraverseRequest): Promise<TraverseResponse> {
    return this.counted('traverse', async () => {
      const { config } = this;
      const granularity = resolveGranularity(request.granularity);
      const direction = resolveDirection(request.direction);
      const depth = resolveDepth(request.depth, 1, config.maxDepth);
      const roots = resolveRoots(request.roots, granularity, config.maxVisited);
      const layers = resolveLayers(request.layers, this.layers);
      const filters = resolveFilters(request.filters);
      const includeHops = request.includeHops === true;
      const pageSize = resolvePageSize(request.pageSize, config.defaultPageSize, config.maxPageSize);
      let asOfMs = this.clock.now();
      const resolved = resolveRange(request.range, asOfMs, config.liveTtlMs);
      const { live } = resolved;
      let { range } = resolved;

      const fingerprint = fingerprintOf(
        JSON.stringify([roots, direction, depth, granularity, layers, live ? 'live' : [range.fromMs, range.toMs], filters ?? null, includeHops]),
      );
      let offset = 0;
      if (request.pageToken) {
        const cursor = decodePageToken(request.pageToken, fingerprint);
        offset = cursor.offset;
        asOfMs = cursor.asOfMs;
        if (live) range = resolveRange(undefined, asOfMs, config.liveTtlMs).range;
      }

      const merged = await this.traverseLayers({ roots, direction, depth, granularity, range, filters, includeHops }, layers);
      // With a layer silent, an unknown root may just be unknown so far: answer (partially) instead.
      if (merged.layerStatus.every((s) => s.state === 'ok') && !roots.some((root) => isKnown(merged, root))) {
        throw new QueryError('not-found', `no requested layer knows ${roots.join(', ')} in the requested time range`);
      }
      const end = Math.min(offset + pageSize, merged.order.length);
      const nodes: TopologyNode[] = [];
      for (let i = offset; i < end; i++) {
        const node = merged.merge.node(merged.order[i] as NodeId);
        if (node !== undefined) nodes.push(node);
      }
      return {
        nodes,
        edges: this.edgesAnchoredIn(merged, offset, end),
        layerStatus: merged.layerStatus,
        nextPageToken: end < merged.order.length ? encodePageToken({ offset: end, asOfMs, fingerprint }) : '',
        truncated: merged.truncatedReason !== undefined,
        ...(merged.truncatedReason === undefined ? {} : { truncatedReason: merged.truncatedReason }),
      };
    });
  }

  getNode(request: GetNodeRequest): Promise<GetNodeResponse> {
    return this.counted('get-node', async () => {
      const granularity = resolveGranularity(request.granularity);
      const id = resolveNodeRef(request.id, granularity, 'id');
      const layers = resolveLayers(request.layers, this.layers);
      const { range } = resolveRange(request.range, this.clock.now(), this.config.liveTtlMs);
      // An intermediary's every edge is a raw hop; hiding hops would hide all its neighbours.
      const includeHops = parseNodeId(id).kind === 'intermediary';

      const answers = await this.ask(layers, async (reader) => {
        const [nodes, edges] = await Promise.all([reader.getNodes([id]), reader.listEdges({ granularity, range, includeHops, nodes: [id] })]);
        const neighbourIds = new Set<NodeId>();
        for (const edge of edges) {
          if (edge.src === id) neighbourIds.add(edge.dst);
          if (edge.dst === id) neighbourIds.add(edge.src);
        }
        const neighbours = neighbourIds.size === 0 ? [] : await reader.getNodes([...neighbourIds]);
        return { nodes, edges, neighbours };
      });

      const merge = new GraphMerge();
      const displayNames = new Map<NodeId, string>();
      for (const { status, value } of answers) {
        if (value === undefined) continue;
        for (const node of value.nodes) if (node.id === id) merge.addNode(status.layer, node, 0);
        merge.addEdges(
          status.layer,
          value.edges.filter((edge) => edge.src === id || edge.dst === id),
        );
        for (const n of value.neighbours) if (!displayNames.has(n.id)) displayNames.set(n.id, n.displayName);
      }
      const node = merge.node(id);
      if (node === undefined) this.throwUnknown(id, answers.map((a) => a.status));

      const downstream: NeighbourSummary[] = [];
      const upstream: NeighbourSummary[] = [];
      for (const edge of merge.edges()) {
        if (edge.src === id) downstream.push(summary(edge.dst, edge.layers, displayNames));
        if (edge.dst === id) upstream.push(summary(edge.src, edge.layers, displayNames));
      }
      const limit = this.config.maxVisited;
      const truncated = downstream.length > limit || upstream.length > limit;
      if (truncated) this.counters.inc('truncated_queries');
      return {
        node,
        downstream: downstream.sort(byNeighbourId).slice(0, limit),
        upstream: upstream.sort(byNeighbourId).slice(0, limit),
        layerStatus: answers.map((a) => a.status),
        truncated,
      };
    });
  }

  blastRadius(request: BlastRadiusRequest): Promise<BlastRadiusResponse> {
    return this.counted('blast-radius', async () => {
      const granularity = resolveGranularity(request.granularity);
      const root = resolveNodeRef(request.root, granularity, 'root');
      const depth = resolveDepth(request.depth, this.config.maxDepth, this.config.maxDepth);
      const layers = resolveLayers(request.layers, this.layers);
      const { range } = resolveRange(request.range, this.clock.now(), this.config.liveTtlMs);
      // Clients of a load balancer reach it only through raw hops; without them it has no dependents.
      const includeHops = parseNodeId(root).kind === 'intermediary';

      const merged = await this.traverseLayers({ roots: [root], direction: 'up', depth, granularity, range, includeHops }, layers);
      const rootNode = isKnown(merged, root) ? merged.merge.node(root) : undefined;
      if (rootNode === undefined) this.throwUnknown(root, merged.layerStatus);

      const impacted: ImpactedNode[] = [];
      for (const id of merged.order) {
        const node = id === root ? undefined : merged.merge.node(id);
        if (node === undefined) continue;
        impacted.push({ node, distance: node.distance, ...(node.tier === undefined ? {} : { tier: node.tier }), ...(node.owner === undefined ? {} : { owner: node.owner }) });
      }
      impacted.sort(byImpact);
      return {
        root: rootNode,
        impacted,
        teams: teamsToNotify(impacted),
        layerStatus: merged.layerStatus,
        truncated: merged.truncatedReason !== undefined,
        ...(merged.truncatedReason === undefined ? {} : { truncatedReason: merged.truncatedReason }),
      };
    });
  }

  private async traverseLayers(plan: TraversalPlan, layers: readonly Layer[]): Promise<MergedTraversal> {
    const { maxVisited } = this.config;
    const answers: LayerAnswer<TraversalResult>[] = await this.ask(layers, (reader) =>
      reader.traverse({
        roots: plan.roots,
        direction: plan.direction,
        depth: plan.depth,
        granularity: plan.granularity,
        range: plan.range,
        ...(plan.filters === undefined ? {} : { filters: plan.filters }),
        includeHops: plan.includeHops,
        maxVisited,
      }),
    );

    const merge = new GraphMerge();
    let truncated = false;
    for (const { status, value } of answers) {
      if (value === undefined) continue;
      merge.addVisited(status.layer, value.nodes);
      merge.addEdges(status.layer, value.edges);
      if (value.truncated) truncated = true;
    }
    let order = merge.orderedIds();
    if (order.length > maxVisited) {
      // Layers each stop at maxVisited; their union may not exceed it either.
      order = order.slice(0, maxVisited);
      truncated = true;
    }
    const position = new Map<NodeId, number>();
    for (let i = 0; i < order.length; i++) position.set(order[i] as NodeId, i);
    if (truncated) this.counters.inc('truncated_queries');
    return {
      merge,
      order,
      position,
      layerStatus: answers.map((a) => a.status),
      ...(truncated ? { truncatedReason: 'max-visited' as const } : {}),
    };
  }

  /**
   * The edges whose later-ordered endpoint is at a position in [from, to): each edge belongs to
   * exactly one page, and both its endpoints are on that page or an earlier one.
   */
  private edgesAnchoredIn(merged: MergedTraversal, from: number, to: number): EdgeRecord[] {
    const page: { edge: EdgeRecord; later: number; earlier: number; src: number }[] = [];
    let orphans = 0;
    for (const edge of merged.merge.edges()) {
      const src = merged.position.get(edge.src);
      const dst = merged.position.get(edge.dst);
      if (src === undefined || dst === undefined) {
        // Either cut by maxVisited (expected) or never returned by any layer (a store defect).
        if (!merged.merge.hasNode(edge.src) || !merged.merge.hasNode(edge.dst)) orphans++;
        continue;
      }
      const later = src > dst ? src : dst;
      if (later >= from && later < to) page.push({ edge, later, earlier: src > dst ? dst : src, src });
    }
    if (orphans > 0) this.counters.inc('edges_without_endpoint', orphans);
    page.sort((a, b) => a.later - b.later || a.earlier - b.earlier || a.src - b.src);
    return page.map((p) => p.edge);
  }

  private async ask<T>(layers: readonly Layer[], work: (reader: LayerReader, layer: Layer) => Promise<T>): Promise<LayerAnswer<T>[]> {
    const answers = await fanOut(layers, this.readers, work, this.config.layerTimeoutMs, this.clock, this.timer);
    for (const { status } of answers) {
      if (!this.readers.has(status.layer)) continue;
      if (status.state === 'timed-out') this.counters.inc('layer_timeouts', 1, status.layer);
      if (status.state === 'failed') this.counters.inc('layer_failures', 1, status.layer);
    }
    return answers;
  }

  /** Not found is only certain when every requested layer answered. */
  private throwUnknown(what: string, statuses: readonly LayerStatus[]): never {
    const silent = statuses.filter((s) => s.state !== 'ok');
    if (silent.length === 0) throw new QueryError('not-found', `no requested layer knows ${what} in the requested time range`);
    throw new QueryError(
      'unavailable',
      `${what} is unknown to the layers that answered, and ${silent.map((s) => `${s.layer} ${s.state}`).join(', ')}: ${silent.map((s) => s.message).join('; ')}`,
    );
  }

  private async counted<T>(method: string, run: () => Promise<T>): Promise<T> {
    this.counters.inc('queries', 1, method);
    try {
      return await run();
    } catch (error) {
      const failure = error instanceof QueryError ? error : new QueryError('internal', `${method} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      this.counters.inc('rejected_queries', 1, failure.code);
      throw failure;
    }
  }
}

/**
 * Stores keep every root in a traversal, answering one they have never seen with a bare record seen
 * at time 0. A root is known when some layer has a real record of it or an edge at it.
 */
function isKnown(merged: MergedTraversal, root: NodeId): boolean {
  const node = merged.merge.node(root);
  if (node === undefined) return false;
  if (node.lastSeenMs > 0) return true;
  for (const edge of merged.merge.edges()) if (edge.src === root || edge.dst === root) return true;
  return false;
}

function summary(id: NodeId, layers: Layer[], displayNames: ReadonlyMap<NodeId, string>): NeighbourSummary {
  return { id, displayName: displayNames.get(id) ?? parseNodeId(id).name, layers };
}

function byNeighbourId(a: NeighbourSummary, b: NeighbourSummary): number {
  return compareIds(a.id, b.id);
}

/** Distance, then tier (`tier-0` before `tier-1`; no tier last), then id. */
function byImpact(a: ImpactedNode, b: ImpactedNode): number {
  if (a.distance !== b.distance) return a.distance - b.distance;
  if (a.tier !== b.tier) {
    if (a.tier === undefined) return 1;
    if (b.tier === undefined) return -1;
    const byTier = TIER_ORDER.compare(a.tier, b.tier);
    if (byTier !== 0) return byTier;
  }
  return compareIds(a.node.id, b.node.id);
}

/** Owners in the order they must hear about it: nearest first, then the most affected. */
export function teamsToNotify(impacted: readonly ImpactedNode[]): TeamImpact[] {
  const teams = new Map<string, TeamImpact>();
  for (const { node, distance, owner = '' } of impacted) {
    const team = teams.get(owner);
    if (team === undefined) {
      teams.set(owner, { owner, nodeCount: 1, minDistance: distance, nodeIds: [node.id] });
      continue;
    }
    team.nodeCount++;
    if (distance < team.minDistance) team.minDistance = distance;
    team.nodeIds.push(node.id);
  }
  return [...teams.values()].sort(
    (a, b) =>
      a.minDistance - b.minDistance ||
      b.nodeCount - a.nodeCount ||
      (a.owner === '' ? 1 : 0) - (b.owner === '' ? 1 : 0) ||
      compareIds(a.owner, b.owner),
  );
}
