import {
  BlastRadiusRequest,
  BlastRadiusResponse,
  CoverageRequest,
  CoverageResponse,
  DiagnoseRequest,
  DiagnoseResponse,
  GetNodeRequest,
  GetNodeResponse,
  LayerState,
  LayerStatus,
  NeighbourSummary,
  QueryError,
  Suspect,
  TopologyNode,
  TraceOverlayRequest,
  TraceOverlayResponse,
  TraverseRequest,
  TraverseResponse,
  Verdict,
} from '@topology/query';
import {
  ApplicationEdgeProps,
  Direction,
  EdgeRecord,
  Granularity,
  Health,
  Layer,
  NetworkEdgeProps,
  NodeFilters,
  RequestEdgeProps,
  TimeRange,
} from '@topology/model';
import {
  ApplicationEdgeMessage,
  BlastRadiusRequestMessage,
  BlastRadiusResponseMessage,
  CoverageRequestMessage,
  CoverageResponseMessage,
  DiagnoseRequestMessage,
  DiagnoseResponseMessage,
  EdgeMessage,
  GetNodeRequestMessage,
  GetNodeResponseMessage,
  LayerName,
  LayerStateName,
  LayerStatusMessage,
  NeighbourSummaryMessage,
  NetworkEdgeMessage,
  NodeFiltersMessage,
  NodeMessage,
  RequestEdgeMessage,
  SuspectMessage,
  TimeRangeMessage,
  TraceOverlayRequestMessage,
  TraceOverlayResponseMessage,
  TraverseRequestMessage,
  TraverseResponseMessage,
  VerdictName,
} from './api-messages';

// Requests: proto → domain. An enum value the gateway does not know is the caller's error.

function invalidEnum(field: string, value: unknown): QueryError {
  return new QueryError('invalid-argument', `${field} has an unknown value ${JSON.stringify(value)}`);
}

function directionOf(name: string | undefined): Direction | undefined {
  switch (name) {
    case undefined:
    case '':
    case 'DIRECTION_UNSPECIFIED':
      return undefined;
    case 'DIRECTION_DOWN':
      return 'down';
    case 'DIRECTION_UP':
      return 'up';
    case 'DIRECTION_BOTH':
      return 'both';
    default:
      throw invalidEnum('direction', name);
  }
}

function granularityOf(name: string | undefined): Granularity | undefined {
  switch (name) {
    case undefined:
    case '':
    case 'GRANULARITY_UNSPECIFIED':
      return undefined;
    case 'GRANULARITY_APP':
      return 'app';
    case 'GRANULARITY_CLUSTER':
      return 'cluster';
    default:
      throw invalidEnum('granularity', name);
  }
}

function layerOf(name: string): Layer {
  switch (name) {
    case 'LAYER_NETWORK':
      return 'network';
    case 'LAYER_APPLICATION':
      return 'application';
    case 'LAYER_REQUEST':
      return 'request';
    default:
      throw invalidEnum('layers', name);
  }
}

function layersOf(names: readonly string[] | undefined): Layer[] | undefined {
  return names === undefined || names.length === 0 ? undefined : names.map(layerOf);
}

function rangeOf(range: TimeRangeMessage | null | undefined): TimeRange | undefined {
  if (range === null || range === undefined) return undefined;
  return { fromMs: Number(range.fromMs ?? 0), toMs: Number(range.toMs ?? 0) };
}

function filtersOf(filters: NodeFiltersMessage | null | undefined): NodeFilters | undefined {
  if (filters === null || filters === undefined) return undefined;
  const out: NodeFilters = {};
  if (filters.tiers?.length) out.tiers = filters.tiers;
  if (filters.domains?.length) out.domains = filters.domains;
  if (filters.owners?.length) out.owners = filters.owners;
  if (filters.regions?.length) out.regions = filters.regions;
  // The domain validates health values; the cast only carries them there.
  if (filters.health?.length) out.health = filters.health as Health[];
  return out;
}

/** Fields left out when absent, so the domain applies its own defaults. */
function defined<T extends object>(fields: T): T {
  for (const key of Object.keys(fields) as (keyof T)[]) if (fields[key] === undefined) delete fields[key];
  return fields;
}

export function traverseRequestOf(message: TraverseRequestMessage): TraverseRequest {
  return defined({
    roots: message.roots ?? [],
    direction: directionOf(message.direction),
    depth: message.depth,
    granularity: granularityOf(message.granularity),
    layers: layersOf(message.layers),
    range: rangeOf(message.range),
    filters: filtersOf(message.filters),
    includeHops: message.includeHops,
    pageSize: message.pageSize,
    pageToken: message.pageToken,
  });
}

export function getNodeRequestOf(message: GetNodeRequestMessage): GetNodeRequest {
  return defined({
    id: message.id ?? '',
    granularity: granularityOf(message.granularity),
    layers: layersOf(message.layers),
    range: rangeOf(message.range),
  });
}

export function blastRadiusRequestOf(message: BlastRadiusRequestMessage): BlastRadiusRequest {
  return defined({
    root: message.root ?? '',
    depth: message.depth,
    granularity: granularityOf(message.granularity),
    layers: layersOf(message.layers),
    range: rangeOf(message.range),
  });
}

export function diagnoseRequestOf(message: DiagnoseRequestMessage): DiagnoseRequest {
  return defined({
    id: message.id ?? '',
    depth: message.depth,
    granularity: granularityOf(message.granularity),
    layers: layersOf(message.layers),
    range: rangeOf(message.range),
  });
}

export function coverageRequestOf(message: CoverageRequestMessage): CoverageRequest {
  return defined({
    granularity: granularityOf(message.granularity),
    range: rangeOf(message.range),
    pageSize: message.pageSize,
    pageToken: message.pageToken,
  });
}

// Responses: domain → proto.

const LAYER_NAME: Readonly<Record<Layer, LayerName>> = {
  network: 'LAYER_NETWORK',
  application: 'LAYER_APPLICATION',
  request: 'LAYER_REQUEST',
};

function layerNames(layers: readonly Layer[]): LayerName[] {
  return layers.map((layer) => LAYER_NAME[layer]);
}

function stateName(state: LayerState): LayerStateName {
  switch (state) {
    case 'ok':
      return 'STATE_OK';
    case 'timed-out':
      return 'STATE_TIMED_OUT';
    case 'failed':
      return 'STATE_FAILED';
  }
}

function layerStatusMessages(statuses: readonly LayerStatus[]): LayerStatusMessage[] {
  return statuses.map((s) => ({ layer: LAYER_NAME[s.layer], state: stateName(s.state), message: s.message, latencyMs: Math.round(s.latencyMs) }));
}

export function nodeMessage(node: TopologyNode): NodeMessage {
  return {
    id: node.id,
    kind: node.kind,
    granularity: node.granularity ?? '',
    displayName: node.displayName,
    app: node.app ?? '',
    cluster: node.cluster ?? '',
    region: node.region ?? '',
    tier: node.tier ?? '',
    domain: node.domain ?? '',
    owner: node.owner ?? '',
    account: node.account ?? '',
    health: node.health,
    firstSeenMs: node.firstSeenMs,
    lastSeenMs: node.lastSeenMs,
    intermediaryType: node.intermediaryType ?? '',
    unknownReason: node.unknownReason ?? '',
    address: node.address ?? '',
    distance: node.distance,
    layers: layerNames(node.layers),
    reportsIpcMetrics: node.reportsIpcMetrics === true,
  };
}

function networkMessageOf(p: NetworkEdgeProps): NetworkEdgeMessage {
  return {
    bytesSent: p.bytesSent,
    bytesReceived: p.bytesReceived,
    packetsSent: p.packetsSent,
    packetsReceived: p.packetsReceived,
    connections: p.connections,
    retransmits: p.retransmits,
    rttMeanUs: p.rttMeanUs ?? 0,
    ports: p.ports,
    paths: p.paths,
    confidence: p.confidence,
    hop: p.hop,
  };
}

function applicationMessageOf(p: ApplicationEdgeProps): ApplicationEdgeMessage {
  return {
    calls: p.calls,
    errors: p.errors,
    endpoints: p.endpoints.map((e) => ({
      endpoint: e.endpoint,
      protocol: e.protocol,
      calls: e.calls,
      errors: e.errors,
      errorsByStatus: e.errorsByStatus,
      latencyP50Ms: e.latencyP50Ms ?? 0,
      latencyP90Ms: e.latencyP90Ms ?? 0,
      latencyP99Ms: e.latencyP99Ms ?? 0,
      serverReportedOnly: e.serverReportedOnly === true,
    })),
  };
}

function requestMessageOf(p: RequestEdgeProps): RequestEdgeMessage {
  return { calls: p.calls, errors: p.errors, latencyP50Ms: p.latencyP50Ms ?? 0, latencyP99Ms: p.latencyP99Ms ?? 0, operations: p.operations };
}

/**
 * One message per layer property set, kept as long as the set: stores hand out the same frozen
 * property objects while an edge's buckets do not change, so a message (and the bytes
 * `TraverseResponseEncoder` keeps for it) is built once, not once per response. Messages are
 * shared between responses: they must not be changed.
 */
function memoized<P extends object, M>(build: (props: P) => M): (props: P) => M {
  const built = new WeakMap<P, M>();
  return (props) => {
    let message = built.get(props);
    if (message === undefined) {
      message = build(props);
      built.set(props, message);
    }
    return message;
  };
}

const networkMessage = memoized(networkMessageOf);
const applicationMessage = memoized(applicationMessageOf);
const requestMessage = memoized(requestMessageOf);

export function edgeMessage(edge: EdgeRecord): EdgeMessage {
  const { network, application, request } = edge.props;
  const message: EdgeMessage = {
    src: edge.src,
    dst: edge.dst,
    granularity: edge.granularity,
    layers: layerNames(edge.layers),
    firstSeenMs: edge.firstSeenMs,
    lastSeenMs: edge.lastSeenMs,
  };
  if (network !== undefined) message.network = networkMessage(network);
  if (application !== undefined) message.application = applicationMessage(application);
  if (request !== undefined) message.request = requestMessage(request);
  return message;
}

export function traverseResponseMessage(response: TraverseResponse): TraverseResponseMessage {
  return {
    nodes: response.nodes.map(nodeMessage),
    edges: response.edges.map(edgeMessage),
    layerStatus: layerStatusMessages(response.layerStatus),
    nextPageToken: response.nextPageToken,
    truncated: response.truncated,
    truncatedReason: response.truncatedReason ?? '',
  };
}

function neighbourMessage(n: NeighbourSummary): NeighbourSummaryMessage {
  return { id: n.id, displayName: n.displayName, layers: layerNames(n.layers) };
}

export function getNodeResponseMessage(response: GetNodeResponse): GetNodeResponseMessage {
  return {
    node: nodeMessage(response.node),
    downstream: response.downstream.map(neighbourMessage),
    upstream: response.upstream.map(neighbourMessage),
    layerStatus: layerStatusMessages(response.layerStatus),
    truncated: response.truncated,
  };
}

export function blastRadiusResponseMessage(response: BlastRadiusResponse): BlastRadiusResponseMessage {
  return {
    root: nodeMessage(response.root),
    impacted: response.impacted.map((i) => ({ node: nodeMessage(i.node), distance: i.distance, tier: i.tier ?? '', owner: i.owner ?? '' })),
    teams: response.teams.map((t) => ({ owner: t.owner, nodeCount: t.nodeCount, minDistance: t.minDistance, nodeIds: t.nodeIds })),
    layerStatus: layerStatusMessages(response.layerStatus),
    truncated: response.truncated,
    truncatedReason: response.truncatedReason ?? '',
  };
}

function verdictName(verdict: Verdict): VerdictName {
  switch (verdict) {
    case 'self':
      return 'VERDICT_SELF';
    case 'dependency':
      return 'VERDICT_DEPENDENCY';
    case 'no-signal':
      return 'VERDICT_NO_SIGNAL';
  }
}

function suspectMessage(s: Suspect): SuspectMessage {
  return {
    node: nodeMessage(s.node),
    distance: s.distance,
    path: s.path,
    dependence: s.dependence,
    score: s.score,
    errorRate: s.errorRate,
    latencyP99Ms: s.latencyP99Ms ?? 0,
    health: s.health,
    evidenceLayers: layerNames(s.evidenceLayers),
    evidence: s.evidence,
  };
}

export function diagnoseResponseMessage(response: DiagnoseResponse): DiagnoseResponseMessage {
  return {
    node: nodeMessage(response.node),
    verdict: verdictName(response.verdict),
    likelyCulprit: response.likelyCulprit ?? '',
    explanation: response.explanation,
    suspects: response.suspects.map(suspectMessage),
    ownErrorRate: response.ownErrorRate,
    layerStatus: layerStatusMessages(response.layerStatus),
    truncated: response.truncated,
  };
}

export function coverageResponseMessage(response: CoverageResponse): CoverageResponseMessage {
  return {
    networkOnly: response.networkOnly.map(nodeMessage),
    applicationOnly: response.applicationOnly.map(nodeMessage),
    networkOnlyCount: response.networkOnlyCount,
    applicationOnlyCount: response.applicationOnlyCount,
    bothCount: response.bothCount,
    layerStatus: layerStatusMessages(response.layerStatus),
    nextPageToken: response.nextPageToken,
  };
}

export function traceOverlayRequestOf(message: TraceOverlayRequestMessage): TraceOverlayRequest {
  return defined({ traceId: message.traceId ?? '', granularity: granularityOf(message.granularity) });
}

export function traceOverlayResponseMessage(response: TraceOverlayResponse): TraceOverlayResponseMessage {
  return {
    traceId: response.traceId,
    found: response.found,
    nodes: response.nodes.map(nodeMessage),
    edges: response.edges.map(edgeMessage),
    hops: response.hops.map((h) => ({ ...h })),
    startMs: response.startMs,
    durationMs: response.durationMs,
    layerStatus: layerStatusMessages(response.layerStatus),
  };
}
