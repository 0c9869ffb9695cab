import { Clock, CounterSet, EdgeRecord, Layer, LAYERS, NodeId, NodeRecord, parseNodeId, systemClock } from '@topology/model';
import { splitCoverage, withReportingNodes } from './coverage';
import { DependencyDiagnosis } from './diagnosis';
import { fanOut, LayerAnswer, systemTimer, Timer } from './layer-fan-out';
import { compareIds, GraphMerge } from './merge';
import { TraversalPlan, traverseUnion } from './union-traversal';
import { decodePageToken, encodePageToken, fingerprintOf } from './page-token';
import { QueryConfig, QueryConfigOverrides, resolveQueryConfig } from './query-config';
import { QueryError } from './query-error';
import {
  BlastRadiusRequest,
  BlastRadiusResponse,
  CoverageRequest,
  CoverageResponse,
  DiagnoseRequest,
  DiagnoseResponse,
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
import { notFoundOverlay, OverlayContext, overlayOf, resolveTraceId, TraceOverlayRequest, TraceOverlayResponse, TracePathReader } from './trace-overlay';

export const QUERY_COUNTERS = {
  queries: 'Queries received, labelled by method.',
  rejected_queries: 'Queries answered with an error, labelled by error code.',
  layer_timeouts: 'Layer reads that did not answer within layerTimeoutMs, labelled by layer; the query answered without them.',
  layer_failures: 'Layer reads that threw, labelled by layer; the query answered without them.',
  truncated_queries: 'Traversals cut short by maxVisited.',
  edges_without_endpoint: 'Edges dropped from an answer because no layer returned one of their endpoints (a store breaking its contract).',
  diagnoses: 'Diagnoses answered, labelled by verdict (self, dependency, no-signal).',
} as const;
export type QueryCounter = keyof typeof QUERY_COUNTERS;

export interface QueryServiceDeps {
  clock?: Clock;
  /** Schedules layer timeouts; the global timers by default. */
  timer?: Timer;
  /** The request layer's span index, for trace overlays; without it `traceOverlay` is unavailable. */
  traces?: TracePathReader;
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
 * Traversal walks the union of the layers' graphs (see `traverseUnion`): a node that only a mix of
 * two layers' edges connects to a root is reached, at the fewest hops any mix allows.
 */
export class TopologyQueryService {
  readonly config: QueryConfig;
  readonly counters = new CounterSet<QueryCounter>(QUERY_COUNTERS);
  /** The layers this gateway serves, in `LAYERS` order. */
  readonly layers: readonly Layer[];
  private readonly readers = new Map<Layer, LayerReader>();
  private readonly served: ReadonlySet<Layer>;
  private readonly clock: Clock;
  private readonly timer: Timer;
  private readonly traces: TracePathReader | undefined;

  constructor(sources: readonly LayerSource[], config: QueryConfigOverrides = {}, deps: QueryServiceDeps = {}) {
    this.config = resolveQueryConfig(config);
    if (sources.length === 0) throw new Error('the query service needs at least one layer');
    for (const { layer, reader } of sources) {
      if (!LAYERS.includes(layer)) throw new Error(`unknown layer ${String(layer)}`);
      if (this.readers.has(layer)) throw new Error(`layer ${layer} is given twice`);
      this.readers.set(layer, reader);
    }
    this.layers = LAYERS.filter((layer) => this.readers.has(layer));
    this.served = new Set(this.layers);
    this.clock = deps.clock ?? systemClock;
    this.timer = deps.timer ?? systemTimer;
    this.traces = deps.traces;
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

  /**
   * "Is this failure mine, or something I depend on?": the service's dependencies to `depth` hops
   * across the layers, the failing ones ranked by own failure, dependence and nearness, and a
   * verdict (see `DependencyDiagnosis`).
   */
  diagnose(request: DiagnoseRequest): Promise<DiagnoseResponse> {
    return this.counted('diagnose', async () => {
      const granularity = resolveGranularity(request.granularity);
      const id = resolveNodeRef(request.id, granularity, 'id');
      const depth = resolveDepth(request.depth, Math.min(this.config.diagnosis.defaultDepth, this.config.maxDepth), this.config.maxDepth);
      const layers = resolveLayers(request.layers, this.layers);
      const startMs = this.clock.now();
      const { range } = resolveRange(request.range, startMs, this.config.liveTtlMs);
      const includeHops = parseNodeId(id).kind === 'intermediary';

      // The dependencies, and (in parallel) the callers' view of the service itself.
      const [merged, callerAnswers] = await Promise.all([
        this.traverseLayers({ roots: [id], direction: 'down', depth, granularity, range, includeHops }, layers),
        this.ask(layers, (reader) => reader.listEdges({ granularity, range, includeHops, nodes: [id] })),
      ]);
      const callers = new GraphMerge();
      for (const { status, value } of callerAnswers) {
        if (value !== undefined) callers.addEdges(status.layer, value.filter((edge) => edge.dst === id));
      }
      const rootCallers = [...callers.edges()];
      let layerStatus = worstOf(merged.layerStatus, callerAnswers.map((a) => a.status));
      const root = isKnown(merged, id) || rootCallers.length > 0 ? merged.merge.node(id) : undefined;
      if (root === undefined) this.throwUnknown(id, layerStatus);
      // Health decides for dependencies no layer reports calls to, and a layer may know a node's
      // health without an edge to it: ask every layer for the records it did not return.
      const answering = layerStatus.filter((s) => s.state === 'ok').map((s) => s.layer);
      const remainingMs = Math.max(1, this.config.layerTimeoutMs - (this.clock.now() - startMs));
      layerStatus = worstOf(layerStatus, await this.fillContext(merged.merge, merged.order, answering, remainingMs));

      const nodes = new Map<NodeId, TopologyNode>([[id, merged.merge.node(id) ?? root]]);
      for (const nodeId of merged.order) {
        const node = merged.merge.node(nodeId);
        if (node !== undefined) nodes.set(nodeId, node);
      }
      const edges: EdgeRecord[] = [];
      for (const edge of merged.merge.edges()) if (nodes.has(edge.src) && nodes.has(edge.dst)) edges.push(edge);
      // Layers return edges in no set order; ties between equally strong paths go by key.
      edges.sort((a, b) => compareIds(a.key, b.key));
      const healthLayers = (nodeId: NodeId): Layer[] => {
        const health = nodes.get(nodeId)?.health;
        return merged.merge.recordsOf(nodeId).filter((r) => r.record.health === health).map((r) => r.layer);
      };
      const diagnosis = new DependencyDiagnosis({ root: nodes.get(id) ?? root, nodes, edges, rootCallers, depth, healthLayers }, this.config.diagnosis).run();
      this.counters.inc('diagnoses', 1, diagnosis.verdict);
      return {
        node: nodes.get(id) ?? root,
        verdict: diagnosis.verdict,
        ...(diagnosis.likelyCulprit === undefined ? {} : { likelyCulprit: diagnosis.likelyCulprit }),
        explanation: diagnosis.explanation,
        suspects: diagnosis.suspects,
        ownErrorRate: diagnosis.ownErrorRate,
        layerStatus,
        truncated: merged.truncatedReason !== undefined,
      };
    });
  }

  /**
   * Services the network layer sees that report no application metrics (not instrumented), and
   * services application metrics describe that the network never saw, over the range; paged over
   * the network-only list and then the application-only list. Needs both layers: without one of
   * them there is nothing to compare, and the answer is `unavailable`.
   */
  coverage(request: CoverageRequest): Promise<CoverageResponse> {
    return this.counted('coverage', async () => {
      const granularity = resolveGranularity(request.granularity);
      const pageSize = resolvePageSize(request.pageSize, this.config.defaultPageSize, this.config.maxPageSize);
      let asOfMs = this.clock.now();
      const resolved = resolveRange(request.range, asOfMs, this.config.liveTtlMs);
      let { range } = resolved;
      const fingerprint = fingerprintOf(JSON.stringify(['coverage', granularity, resolved.live ? 'live' : [range.fromMs, range.toMs]]));
      let offset = 0;
      if (request.pageToken) {
        const cursor = decodePageToken(request.pageToken, fingerprint);
        offset = cursor.offset;
        asOfMs = cursor.asOfMs;
        if (resolved.live) range = resolveRange(undefined, asOfMs, this.config.liveTtlMs).range;
      }

      const compared: Layer[] = ['network', 'application'];
      const answers = await this.ask(compared, (reader) => reader.listEdges({ granularity, range }));
      const [network, application] = answers;
      if (network?.value === undefined || application?.value === undefined) {
        const silent = answers.filter((a) => a.value === undefined).map((a) => a.status);
        throw new QueryError('unavailable', `coverage compares the network and application layers: ${silent.map((s) => s.message).join('; ')}`);
      }
      const byEdges = splitCoverage(network.value, application.value, granularity === 'app' ? 'app' : 'cluster');
      // Without the application layer's records, the edges alone decide.
      const facts = await this.ask(['application'], (reader) => reader.getNodes(byEdges.networkOnly));
      const split = withReportingNodes(byEdges, facts[0]?.value ?? [], range);

      const total = split.networkOnly.length + split.applicationOnly.length;
      const end = Math.min(offset + pageSize, total);
      const pageNetwork = split.networkOnly.slice(Math.min(offset, split.networkOnly.length), Math.min(end, split.networkOnly.length));
      const pageApplication = split.applicationOnly.slice(Math.max(0, offset - split.networkOnly.length), Math.max(0, end - split.networkOnly.length));
      const records = await this.ask(compared, (reader, layer) => reader.getNodes(layer === 'network' ? pageNetwork : pageApplication));
      const recordOf = new Map<NodeId, NodeRecord>();
      for (const { value } of records) for (const record of value ?? []) recordOf.set(record.id, record);
      const node = (nodeId: NodeId): TopologyNode => ({ ...(recordOf.get(nodeId) ?? bareNode(nodeId)), distance: 0, layers: split.layersOf.get(nodeId) ?? [] });
      return {
        networkOnly: pageNetwork.map(node),
        applicationOnly: pageApplication.map(node),
        networkOnlyCount: split.networkOnly.length,
        applicationOnlyCount: split.applicationOnly.length,
        bothCount: split.bothCount,
        layerStatus: worstOf(worstOf(answers.map((a) => a.status), facts.map((a) => a.status)), records.map((a) => a.status)),
        nextPageToken: end < total ? encodePageToken({ offset: end, asOfMs, fingerprint }) : '',
      };
    });
  }

  /**
   * One trace's service path laid over the topology: its hops (from the span index) in topology
   * node ids at the granularity, and the layers' records of its nodes and of the edges it crosses.
   * A trace the index does not hold is answered `found: false`, not as an error.
   */
  traceOverlay(request: TraceOverlayRequest): Promise<TraceOverlayResponse> {
    return this.counted('trace-overlay', async () => {
      const traceId = resolveTraceId(request.traceId);
      const granularity = resolveGranularity(request.granularity);
      const traces = this.traces;
      if (traces === undefined) throw new QueryError('unavailable', 'this gateway serves no trace index (the request layer is not served)');
      const path = await this.withinLayerTimeout('the trace index', () => traces.tracePath(traceId, granularity));
      if (path === undefined) return notFoundOverlay(traceId);
      // The buckets the trace's calls were counted in; a trace whose spans gave no time reads none.
      const range = { fromMs: Math.floor(path.startUs / 1000), toMs: Math.ceil((path.startUs + path.durationUs) / 1000) + 1 };
      const answers = await this.ask<OverlayContext>(this.layers, async (reader) => {
        const [nodes, edges] = await Promise.all([reader.getNodes(path.nodes), reader.listEdges({ granularity, range, includeHops: false, nodes: path.nodes })]);
        return { nodes, edges };
      });
      return overlayOf(path, granularity, answers);
    });
  }

  /** Adds each answering layer's records of the given nodes where it returned none, as context only. */
  private async fillContext(merge: GraphMerge, ids: readonly NodeId[], layers: readonly Layer[], timeoutMs: number): Promise<LayerStatus[]> {
    const answers = await this.ask(
      layers,
      (reader, layer) => {
        const missing = ids.filter((nodeId) => !merge.hasRecordFrom(nodeId, layer));
        return missing.length === 0 ? Promise.resolve([]) : reader.getNodes(missing);
      },
      timeoutMs,
    );
    for (const { status, value } of answers) {
      // Stores answer ids they never saw with bare records seen at 0: no context there.
      for (const record of value ?? []) if (record.lastSeenMs > 0) merge.addContext(status.layer, record);
    }
    return answers.map((a) => a.status);
  }

  private async traverseLayers(plan: TraversalPlan, layers: readonly Layer[]): Promise<MergedTraversal> {
    const { maxVisited } = this.config;
    const { merge, layerStatus, truncated: cut } = await traverseUnion(plan, layers, this.served, (asked, work, timeoutMs) => this.ask(asked, work, timeoutMs), this.config, this.clock);
    let truncated = cut;
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
      layerStatus,
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

  private async ask<T>(layers: readonly Layer[], work: (reader: LayerReader, layer: Layer) => Promise<T>, timeoutMs = this.config.layerTimeoutMs): Promise<LayerAnswer<T>[]> {
    const answers = await fanOut(layers, this.readers, work, timeoutMs, this.clock, this.timer);
    for (const { status } of answers) {
      if (!this.readers.has(status.layer)) continue;
      if (status.state === 'timed-out') this.counters.inc('layer_timeouts', 1, status.layer);
      if (status.state === 'failed') this.counters.inc('layer_failures', 1, status.layer);
    }
    return answers;
  }

  /** A read outside the layer fan-out (the trace index), under the same timeout; a failure is `unavailable`. */
  private withinLayerTimeout<T>(what: string, work: () => Promise<T>): Promise<T> {
    const timeoutMs = this.config.layerTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const handle = this.timer.setTimeout(() => reject(new QueryError('unavailable', `${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
      work().then(
        (value) => {
          this.timer.clearTimeout(handle);
          resolve(value);
        },
        (error: unknown) => {
          this.timer.clearTimeout(handle);
          reject(new QueryError('unavailable', `${what} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
        },
      );
    });
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

/** Per layer, the worse of two reads' statuses (the first that is not ok), with the longer latency. */
function worstOf(first: readonly LayerStatus[], second: readonly LayerStatus[]): LayerStatus[] {
  return first.map((a) => {
    const b = second.find((s) => s.layer === a.layer);
    if (b === undefined) return a;
    const worse = a.state !== 'ok' ? a : b;
    return { ...worse, latencyMs: Math.max(a.latencyMs, b.latencyMs) };
  });
}

/** A node a layer listed on an edge but returned no record for (a store defect, or a race with retention). */
function bareNode(id: NodeId): NodeRecord {
  const { kind, name } = parseNodeId(id);
  return { id, kind, displayName: name, health: 'unknown', firstSeenMs: 0, lastSeenMs: 0 };
}
