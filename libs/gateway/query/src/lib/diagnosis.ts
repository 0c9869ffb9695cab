import { EdgeRecord, Health, Layer, LAYERS, NodeId } from '@topology/model';
import { compareIds } from './merge';
import { DiagnosisConfig } from './query-config';
import { Suspect, TopologyNode, Verdict } from './queries';

/**
 * What a diagnosis reads: the diagnosed service's downstream graph to some depth, merged across
 * layers, plus the edges into the service (its callers' view of it).
 */
export interface DependencyGraph {
  root: TopologyNode;
  /** Every examined node, the root included, with its fewest hops from the root. */
  nodes: ReadonlyMap<NodeId, TopologyNode>;
  /** Edges between examined nodes, followed downstream (src calls dst). */
  edges: readonly EdgeRecord[];
  /** Edges into the root. */
  rootCallers: readonly EdgeRecord[];
  depth: number;
  /** The layers whose own record of a node gives the health the merged node shows. */
  healthLayers(id: NodeId): Layer[];
}

export interface Diagnosis {
  verdict: Verdict;
  likelyCulprit?: NodeId;
  explanation: string;
  suspects: Suspect[];
  ownErrorRate: number;
}

/** Calls of one edge, from the layer that counts them best: the application layer (every call), else the request layer (sampled traces). */
interface EdgeCalls {
  calls: number;
  errors: number;
  layer: Layer;
}

function callsOf(edge: EdgeRecord): EdgeCalls | undefined {
  const { application, request } = edge.props;
  if (application !== undefined) return { calls: application.calls, errors: application.errors, layer: 'application' };
  if (request !== undefined) return { calls: request.calls, errors: request.errors, layer: 'request' };
  return undefined;
}

function bytesOf(edge: EdgeRecord): number | undefined {
  const network = edge.props.network;
  return network === undefined ? undefined : network.bytesSent + network.bytesReceived;
}

/** The worst p99 any layer measured on an edge (endpoints with calls only). */
function p99Of(edge: EdgeRecord): number | undefined {
  let worst: number | undefined;
  for (const e of edge.props.application?.endpoints ?? []) {
    if (e.calls > 0 && e.latencyP99Ms !== undefined && (worst === undefined || e.latencyP99Ms > worst)) worst = e.latencyP99Ms;
  }
  const request = edge.props.request?.latencyP99Ms;
  if (request !== undefined && (worst === undefined || request > worst)) worst = request;
  return worst;
}

interface EndpointTotals {
  endpoint: string;
  calls: number;
  errors: number;
  errorsByStatus: Map<string, number>;
  latencyP99Ms?: number;
}

/** What a node's callers (within the examined graph) saw of it. */
class ServedCalls {
  calls = 0;
  errors = 0;
  readonly callLayers = new Set<Layer>();
  latencyP99Ms: number | undefined;
  packets = 0;
  retransmits = 0;
  readonly endpoints = new Map<string, EndpointTotals>();

  add(edge: EdgeRecord): void {
    const counted = callsOf(edge);
    if (counted !== undefined) {
      this.calls += counted.calls;
      this.errors += counted.errors;
      this.callLayers.add(counted.layer);
    }
    const p99 = p99Of(edge);
    if (p99 !== undefined && (this.latencyP99Ms === undefined || p99 > this.latencyP99Ms)) this.latencyP99Ms = p99;
    const network = edge.props.network;
    if (network !== undefined) {
      this.packets += network.packetsSent + network.packetsReceived;
      this.retransmits += network.retransmits;
    }
    for (const e of edge.props.application?.endpoints ?? []) {
      const name = `${e.protocol} ${e.endpoint}`;
      let totals = this.endpoints.get(name);
      if (totals === undefined) {
        totals = { endpoint: e.endpoint, calls: 0, errors: 0, errorsByStatus: new Map() };
        this.endpoints.set(name, totals);
      }
      totals.calls += e.calls;
      totals.errors += e.errors;
      for (const [status, n] of Object.entries(e.errorsByStatus)) totals.errorsByStatus.set(status, (totals.errorsByStatus.get(status) ?? 0) + n);
      if (e.latencyP99Ms !== undefined && e.calls > 0 && (totals.latencyP99Ms === undefined || e.latencyP99Ms > totals.latencyP99Ms)) totals.latencyP99Ms = e.latencyP99Ms;
    }
  }

  get errorRate(): number {
    return this.calls > 0 ? this.errors / this.calls : 0;
  }
}

/** How failing a node looks, signal by signal, each on a 0..1 scale. */
interface Signals {
  errors: number;
  health: number;
  latency: number;
  network: number;
}

function severityOf(s: Signals): number {
  return Math.max(s.errors, s.health, s.latency, s.network);
}

const HEALTH_SEVERITY: Readonly<Record<Health, number>> = { unhealthy: 1, degraded: 0.5, healthy: 0, unknown: 0 };
/** Slowness and network trouble hurt, but less than calls that fail. */
const SLOW = 0.5;
const NETWORK_TROUBLE = 0.5;

/**
 * "Is it me or something I depend on?" over one service's downstream graph. Pure: the query
 * service gathers the graph, this ranks. The scoring is described in
 * docs/adr/015-is-it-me-or-upstream.md.
 */
export class DependencyDiagnosis {
  private readonly served = new Map<NodeId, ServedCalls>();
  private readonly outgoing = new Map<NodeId, EdgeRecord[]>();
  private readonly signals = new Map<NodeId, Signals>();
  private readonly shares = new Map<EdgeRecord, number>();

  constructor(
    private readonly graph: DependencyGraph,
    private readonly config: DiagnosisConfig,
  ) {
    for (const edge of graph.edges) {
      if (edge.dst !== graph.root.id) servedOf(this.served, edge.dst).add(edge);
      const out = this.outgoing.get(edge.src);
      if (out === undefined) this.outgoing.set(edge.src, [edge]);
      else out.push(edge);
    }
    const rootServed = servedOf(this.served, graph.root.id);
    for (const edge of graph.rootCallers) rootServed.add(edge);
    for (const [id, node] of graph.nodes) this.signals.set(id, this.signalsOf(node, this.served.get(id)));
    for (const edges of this.outgoing.values()) this.shareOut(edges);
  }

  run(): Diagnosis {
    const { graph, config } = this;
    const root = graph.root;
    const rootServed = this.served.get(root.id) ?? new ServedCalls();
    const rootSignals = this.signals.get(root.id) ?? { errors: 0, health: 0, latency: 0, network: 0 };
    const rootSeverity = severityOf(rootSignals);
    const rootOwn = this.ownFailure(root.id, rootSignals);

    const reach = this.dependence();
    const suspects: Suspect[] = [];
    const severities = new Map<NodeId, number>();
    for (const [id, node] of graph.nodes) {
      if (id === root.id) continue;
      const signals = this.signals.get(id);
      const reached = reach.get(id);
      if (signals === undefined || reached === undefined) continue;
      const severity = severityOf(signals);
      if (severity === 0) continue;
      severities.set(id, severity);
      const own = this.ownFailure(id, signals);
      const nearness = Math.pow(config.nearnessDecay, Math.max(0, node.distance - 1));
      suspects.push(this.suspect(node, signals, own * reached.dependence * nearness, reached));
    }
    suspects.sort(
      (a, b) =>
        b.score - a.score ||
        (severities.get(b.node.id) ?? 0) * b.dependence - (severities.get(a.node.id) ?? 0) * a.dependence ||
        a.distance - b.distance ||
        compareIds(a.node.id, b.node.id),
    );
    const kept = suspects.slice(0, config.maxSuspects);
    const [top] = kept;

    const rootFailing = rootSeverity > 0;
    const explained = rootFailing && rootOwn <= rootSeverity * (1 - config.explainedShare);
    const ownErrorRate = rootServed.errorRate;
    const describeRoot = this.describeFailure(root.id, rootSignals, rootServed);

    if (rootFailing && (!explained || top === undefined)) {
      const passed = this.passedOn(root.id);
      const also = top === undefined ? '' : `; ${top.node.id} is failing too, but accounts for little of it`;
      return {
        verdict: 'self',
        explanation: `${root.id} is failing (${describeRoot}) and its dependencies do not explain it: ${this.describePassedOn(passed)}${also}.`,
        suspects: kept,
        ownErrorRate,
      };
    }
    if (top !== undefined) {
      const how = rootFailing ? `; it explains ${root.id}'s own failure (${describeRoot})` : '';
      return {
        verdict: 'dependency',
        likelyCulprit: top.node.id,
        explanation: `${top.node.id} is the likeliest cause: ${top.evidence[0] ?? 'failing'}. ${root.id} depends on it through ${top.path.join(' → ')} (${percent(top.dependence)} of its traffic along that path)${how}.`,
        suspects: kept,
        ownErrorRate,
      };
    }
    const anyCalls = [...this.served.values()].some((s) => s.calls > 0);
    return {
      verdict: 'no-signal',
      explanation: `nothing within ${graph.depth} hop(s) of ${root.id}'s dependencies, nor ${root.id} itself, shows errors, slowness, network trouble or bad health${anyCalls ? '' : ' (no layer reports calls here, so only health and the network were judged)'}.`,
      suspects: [],
      ownErrorRate,
    };
  }

  private signalsOf(node: TopologyNode, served: ServedCalls | undefined): Signals {
    const { config } = this;
    const judged = served !== undefined && served.calls >= config.minCalls;
    const errorRate = served?.errorRate ?? 0;
    const packets = served?.packets ?? 0;
    return {
      errors: judged && errorRate >= config.errorRateThreshold ? errorRate : 0,
      // With enough calls to judge, the error rate speaks for the node: a health derived from the
      // same errors would count them twice, and would not let a dependency explain them.
      health: judged ? 0 : HEALTH_SEVERITY[node.health],
      latency: served?.latencyP99Ms !== undefined && served.latencyP99Ms >= config.latencyP99ThresholdMs ? SLOW : 0,
      network: packets > 0 && (served?.retransmits ?? 0) / packets >= config.retransmitShareThreshold ? NETWORK_TROUBLE : 0,
    };
  }

  /**
   * The share of a node's own calls that fail: measured on its outgoing edges when they carry
   * enough calls, otherwise estimated from how failing the dependencies it sends traffic to look.
   */
  private passedOn(id: NodeId): { failing: number; measured: boolean; slow: boolean } {
    const out = this.outgoing.get(id) ?? [];
    let calls = 0;
    let errors = 0;
    let slow = false;
    let estimate = 0;
    for (const edge of out) {
      const counted = callsOf(edge);
      if (counted !== undefined) {
        calls += counted.calls;
        errors += counted.errors;
      }
      const p99 = p99Of(edge);
      if (p99 !== undefined && p99 >= this.config.latencyP99ThresholdMs) slow = true;
      const target = this.signals.get(edge.dst);
      if (target !== undefined) estimate += (this.shares.get(edge) ?? 0) * Math.max(target.errors, target.health);
    }
    if (calls >= this.config.minCalls) return { failing: errors / calls, measured: true, slow };
    return { failing: Math.min(1, estimate), measured: false, slow };
  }

  /** What is left of a node's failure once the failures it passes on from its dependencies are taken out. */
  private ownFailure(id: NodeId, signals: Signals): number {
    const passed = this.passedOn(id);
    return Math.max(
      Math.max(0, signals.errors - passed.failing),
      Math.max(0, signals.health - passed.failing),
      passed.slow ? 0 : signals.latency,
      signals.network,
    );
  }

  /**
   * Each outgoing edge's share of its source's traffic: by calls when every edge has a call count,
   * else by bytes when every edge has a network measure, else the mean of the partial shares.
   */
  private shareOut(edges: readonly EdgeRecord[]): void {
    let calls = 0;
    let bytes = 0;
    let allCalls = true;
    let allBytes = true;
    for (const edge of edges) {
      const c = callsOf(edge);
      const b = bytesOf(edge);
      if (c === undefined) allCalls = false;
      else calls += c.calls;
      if (b === undefined) allBytes = false;
      else bytes += b;
    }
    const callShare = (edge: EdgeRecord) => (calls > 0 ? (callsOf(edge)?.calls ?? 0) / calls : 0);
    const byteShare = (edge: EdgeRecord) => (bytes > 0 ? (bytesOf(edge) ?? 0) / bytes : 0);
    for (const edge of edges) {
      let share: number;
      if (allCalls && calls > 0) share = callShare(edge);
      else if (allBytes && bytes > 0) share = byteShare(edge);
      else if (calls > 0 && bytes > 0) share = (callShare(edge) + byteShare(edge)) / 2;
      else if (calls > 0) share = callShare(edge);
      else if (bytes > 0) share = byteShare(edge);
      else share = 1 / edges.length;
      this.shares.set(edge, share);
    }
  }

  /**
   * For every examined node, the path of at most `depth` hops from the root that carries the
   * largest product of shares, and that product.
   */
  private dependence(): Map<NodeId, { dependence: number; path: NodeId[] }> {
    const rootId = this.graph.root.id;
    let best = new Map<NodeId, { dependence: number; path: NodeId[] }>([[rootId, { dependence: 1, path: [rootId] }]]);
    for (let hop = 1; hop <= this.graph.depth; hop++) {
      const previous = best;
      best = new Map(previous);
      let changed = false;
      for (const edge of this.graph.edges) {
        if (edge.dst === rootId) continue;
        const from = previous.get(edge.src);
        if (from === undefined) continue;
        const dependence = from.dependence * (this.shares.get(edge) ?? 0);
        const known = best.get(edge.dst);
        // Strictly better only: at equal dependence the shorter path, found first, stays.
        if (known !== undefined && dependence <= known.dependence) continue;
        best.set(edge.dst, { dependence, path: [...from.path, edge.dst] });
        changed = true;
      }
      if (!changed) break;
    }
    return best;
  }

  private suspect(node: TopologyNode, signals: Signals, score: number, reached: { dependence: number; path: NodeId[] }): Suspect {
    const served = this.served.get(node.id) ?? new ServedCalls();
    const layers = new Set<Layer>();
    if (signals.errors > 0 || signals.latency > 0) for (const layer of served.callLayers) layers.add(layer);
    if (signals.health > 0) for (const layer of this.graph.healthLayers(node.id)) layers.add(layer);
    if (signals.network > 0) layers.add('network');
    return {
      node,
      distance: node.distance,
      path: reached.path,
      dependence: reached.dependence,
      score,
      errorRate: served.errorRate,
      ...(served.latencyP99Ms === undefined ? {} : { latencyP99Ms: served.latencyP99Ms }),
      health: node.health,
      evidenceLayers: LAYERS.filter((layer) => layers.has(layer)),
      evidence: this.evidence(node, signals, served),
    };
  }

  /** Evidence lines, the signals that made the node a suspect first, context after. */
  private evidence(node: TopologyNode, signals: Signals, served: ServedCalls): string[] {
    const lines: string[] = [];
    const callLine = `errors ${percent(served.errorRate)} of ${count(served.calls)} calls served (${layerNames(served.callLayers)})`;
    if (signals.errors > 0) {
      lines.push(callLine);
      const failing = [...served.endpoints.values()].filter((e) => e.errors > 0).sort((a, b) => b.errors - a.errors || compareIds(a.endpoint, b.endpoint));
      for (const e of failing.slice(0, 3)) {
        const statuses = [...e.errorsByStatus].sort((a, b) => b[1] - a[1]).map(([status, n]) => `${status} ${count(n)}`);
        const p99 = e.latencyP99Ms === undefined ? '' : `, p99 ${count(e.latencyP99Ms)} ms`;
        lines.push(`${e.endpoint}: errors ${percent(e.errors / Math.max(1, e.calls))} of ${count(e.calls)} calls${statuses.length > 0 ? ` (${statuses.join(', ')})` : ''}${p99} (application layer)`);
      }
    }
    if (signals.latency > 0 && served.latencyP99Ms !== undefined) lines.push(`p99 latency ${count(served.latencyP99Ms)} ms (${layerNames(served.callLayers)})`);
    if (node.health === 'unhealthy' || node.health === 'degraded') {
      const from = this.graph.healthLayers(node.id);
      lines.push(`health ${node.health}${from.length > 0 ? ` (${layerNames(from)})` : ''}`);
    }
    if (signals.network > 0) lines.push(`retransmits ${percent(served.retransmits / served.packets)} of packets (network layer)`);
    if (signals.errors === 0 && served.calls > 0) lines.push(callLine);
    const passed = this.passedOn(node.id);
    if (passed.failing > 0) {
      lines.push(
        passed.measured
          ? `its own calls to its dependencies fail ${percent(passed.failing)}: it passes some of their failure on`
          : `about ${percent(passed.failing)} of its traffic goes to dependencies that look unhealthy: it may pass their failure on`,
      );
    }
    return lines;
  }

  private describeFailure(id: NodeId, signals: Signals, served: ServedCalls): string {
    const parts: string[] = [];
    if (signals.errors > 0) parts.push(`errors ${percent(served.errorRate)} of ${count(served.calls)} calls served`);
    if (signals.health > 0) parts.push(`health ${this.graph.nodes.get(id)?.health ?? 'unknown'}`);
    if (signals.latency > 0 && served.latencyP99Ms !== undefined) parts.push(`p99 ${count(served.latencyP99Ms)} ms`);
    if (signals.network > 0) parts.push(`retransmits ${percent(served.retransmits / served.packets)}`);
    return parts.join(', ');
  }

  private describePassedOn(passed: { failing: number; measured: boolean }): string {
    if (passed.failing === 0) return 'the calls it makes succeed';
    if (!passed.measured) return `only about ${percent(passed.failing)} of its traffic goes to dependencies that look unhealthy`;
    return `the calls it makes fail ${percent(passed.failing)}`;
  }
}

function servedOf(served: Map<NodeId, ServedCalls>, id: NodeId): ServedCalls {
  let s = served.get(id);
  if (s === undefined) {
    s = new ServedCalls();
    served.set(id, s);
  }
  return s;
}

function percent(share: number): string {
  const p = share * 100;
  return `${p >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}

function count(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function layerNames(layers: Iterable<Layer>): string {
  const list = LAYERS.filter((layer) => [...layers].includes(layer));
  return list.length === 1 ? `${list[0]} layer` : `${list.join(' and ')} layers`;
}
