import {
  Direction,
  EdgeRecord,
  GraphLayerStore,
  Health,
  Granularity,
  Layer,
  NodeFilters,
  NodeId,
  NodeRecord,
  TimeRange,
} from '@topology/model';

/**
 * What the gateway needs from one layer's store. Every layer (network today; application and
 * request later) plugs in through this port alone.
 */
export type LayerReader = Pick<GraphLayerStore<unknown>, 'traverse' | 'getNodes' | 'listEdges'>;

export interface LayerSource {
  layer: Layer;
  reader: LayerReader;
}

/** Absent fields take the defaults written beside them. */
export interface TraverseRequest {
  /** Node ids (`app:checkout`) or bare names, read as `app:`/`cluster:` by granularity. */
  roots: string[];
  /** Default `down`. */
  direction?: Direction;
  /** Hops from the roots; 0 or absent means 1; more than `maxDepth` is rejected. */
  depth?: number;
  /** Default `app`. */
  granularity?: Granularity;
  /** Empty or absent: every layer the gateway serves. */
  layers?: Layer[];
  /** Absent or 0/0: the live view, the last `liveTtlMs` up to now. */
  range?: TimeRange;
  filters?: NodeFilters;
  includeHops?: boolean;
  /** 0 or absent: `defaultPageSize`; clamped to `maxPageSize`. */
  pageSize?: number;
  /** From a previous response; the rest of the request must be unchanged (page size may differ). */
  pageToken?: string;
}

export interface GetNodeRequest {
  id: string;
  granularity?: Granularity;
  layers?: Layer[];
  range?: TimeRange;
}

export interface BlastRadiusRequest {
  root: string;
  /** 0 or absent: `maxDepth`. */
  depth?: number;
  granularity?: Granularity;
  layers?: Layer[];
  range?: TimeRange;
}

/** A node merged across the layers that saw it. */
export interface TopologyNode extends NodeRecord {
  /** Hops from the nearest root (the smallest any layer found); 0 for a root. */
  distance: number;
  /** The layers that returned this node, in `LAYERS` order. */
  layers: Layer[];
}

export const LAYER_STATES = ['ok', 'timed-out', 'failed'] as const;
export type LayerState = (typeof LAYER_STATES)[number];

export interface LayerStatus {
  layer: Layer;
  state: LayerState;
  /** Empty when `ok`. */
  message: string;
  latencyMs: number;
}

export const TRUNCATION_REASONS = ['max-visited'] as const;
export type TruncationReason = (typeof TRUNCATION_REASONS)[number];

export interface TraverseResponse {
  /** This page's nodes, ordered by distance then id. */
  nodes: TopologyNode[];
  /** Edges whose later-ordered endpoint is on this page; each edge is on exactly one page. */
  edges: EdgeRecord[];
  layerStatus: LayerStatus[];
  /** Empty on the last page. */
  nextPageToken: string;
  truncated: boolean;
  truncatedReason?: TruncationReason;
}

export interface NeighbourSummary {
  id: NodeId;
  displayName: string;
  /** The layers that saw the edge to or from this neighbour. */
  layers: Layer[];
}

export interface GetNodeResponse {
  node: TopologyNode;
  /** What the node calls, ordered by id. */
  downstream: NeighbourSummary[];
  /** What calls the node, ordered by id. */
  upstream: NeighbourSummary[];
  layerStatus: LayerStatus[];
  /** True when a node had more than `maxVisited` neighbours in one direction and the list was cut. */
  truncated: boolean;
}

export interface ImpactedNode {
  node: TopologyNode;
  distance: number;
  tier?: string;
  owner?: string;
}

export interface TeamImpact {
  /** Empty for nodes with no known owner. */
  owner: string;
  nodeCount: number;
  minDistance: number;
  /** In the order of `impacted`. */
  nodeIds: NodeId[];
}

export interface BlastRadiusResponse {
  root: TopologyNode;
  /** Ordered by distance, then tier (most critical first; no tier last), then id. */
  impacted: ImpactedNode[];
  /** Ordered by min distance, then node count descending, then owner (no owner last). */
  teams: TeamImpact[];
  layerStatus: LayerStatus[];
  truncated: boolean;
  truncatedReason?: TruncationReason;
}

export interface DiagnoseRequest {
  /** The service asking "is it me?": a node id or a bare name. */
  id: string;
  /** Hops of dependencies to examine; 0 or absent: `diagnosis.defaultDepth`; more than `maxDepth` is rejected. */
  depth?: number;
  granularity?: Granularity;
  layers?: Layer[];
  range?: TimeRange;
}

export const VERDICTS = [
  /** The service itself is failing and its dependencies do not explain it. */
  'self',
  /** A dependency (the likely culprit) is failing along the service's paths. */
  'dependency',
  /** Nothing is failing, or there is no data to judge. */
  'no-signal',
] as const;
export type Verdict = (typeof VERDICTS)[number];

/** A dependency that may explain a failure, and why. */
export interface Suspect {
  node: TopologyNode;
  /** Fewest hops from the diagnosed service. */
  distance: number;
  /** The route carrying most of the service's dependence on the suspect: the service first, the suspect last. */
  path: NodeId[];
  /** Share (0..1) of the service's traffic that reaches the suspect along `path` (product of per-hop shares). */
  dependence: number;
  /** Own failure × dependence × nearness; higher is likelier. */
  score: number;
  /** Of the calls the suspect serves, as the edges into it in the examined graph report them; 0 without call data. */
  errorRate: number;
  /** Worst p99 on the calls into it, when a layer measured one. */
  latencyP99Ms?: number;
  health: Health;
  /** Layers whose data gave a failure signal. */
  evidenceLayers: Layer[];
  /** Readable lines, strongest first. */
  evidence: string[];
}

export interface DiagnoseResponse {
  node: TopologyNode;
  verdict: Verdict;
  /** The likeliest culprit when the verdict is `dependency`. */
  likelyCulprit?: NodeId;
  explanation: string;
  /** Ordered by score, highest first, at most `diagnosis.maxSuspects`. */
  suspects: Suspect[];
  /** Error rate of the calls the service serves; 0 without call data. */
  ownErrorRate: number;
  layerStatus: LayerStatus[];
  /** `maxVisited` cut the examined dependencies short. */
  truncated: boolean;
}

export interface CoverageRequest {
  /** Default `app`. */
  granularity?: Granularity;
  range?: TimeRange;
  /** Nodes per page over both lists (network-only first); 0 or absent: `defaultPageSize`. */
  pageSize?: number;
  pageToken?: string;
}

export interface CoverageResponse {
  /** Seen on the network, reporting no application metrics of their own (not instrumented), ordered by id. */
  networkOnly: TopologyNode[];
  /** Described by application metrics, never seen on the network, ordered by id. */
  applicationOnly: TopologyNode[];
  networkOnlyCount: number;
  applicationOnlyCount: number;
  /** Seen on the network and reporting application metrics. */
  bothCount: number;
  layerStatus: LayerStatus[];
  /** Empty on the last page. */
  nextPageToken: string;
}
