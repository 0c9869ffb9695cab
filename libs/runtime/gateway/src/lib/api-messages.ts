/**
 * The `topology.v1` messages as this gateway's proto-loader options present them: camelCase fields,
 * enums as their names, int64 as numbers (epoch milliseconds fit), every scalar present with its
 * default on decode, and absent sub-messages as null. Requests are written with optional fields
 * because proto3 sends none of the defaults.
 */

export const DIRECTION_NAMES = ['DIRECTION_UNSPECIFIED', 'DIRECTION_DOWN', 'DIRECTION_UP', 'DIRECTION_BOTH'] as const;
export type DirectionName = (typeof DIRECTION_NAMES)[number];

export const GRANULARITY_NAMES = ['GRANULARITY_UNSPECIFIED', 'GRANULARITY_APP', 'GRANULARITY_CLUSTER'] as const;
export type GranularityName = (typeof GRANULARITY_NAMES)[number];

export const LAYER_NAMES = ['LAYER_UNSPECIFIED', 'LAYER_NETWORK', 'LAYER_APPLICATION', 'LAYER_REQUEST'] as const;
export type LayerName = (typeof LAYER_NAMES)[number];

export const LAYER_STATE_NAMES = ['STATE_UNSPECIFIED', 'STATE_OK', 'STATE_TIMED_OUT', 'STATE_FAILED'] as const;
export type LayerStateName = (typeof LAYER_STATE_NAMES)[number];

export interface TimeRangeMessage {
  fromMs?: number;
  toMs?: number;
}

export interface NodeFiltersMessage {
  tiers?: string[];
  domains?: string[];
  owners?: string[];
  regions?: string[];
  health?: string[];
}

export interface TraverseRequestMessage {
  roots?: string[];
  direction?: DirectionName;
  depth?: number;
  granularity?: GranularityName;
  layers?: LayerName[];
  range?: TimeRangeMessage | null;
  filters?: NodeFiltersMessage | null;
  includeHops?: boolean;
  pageSize?: number;
  pageToken?: string;
}

export interface GetNodeRequestMessage {
  id?: string;
  granularity?: GranularityName;
  layers?: LayerName[];
  range?: TimeRangeMessage | null;
}

export interface BlastRadiusRequestMessage {
  root?: string;
  depth?: number;
  granularity?: GranularityName;
  layers?: LayerName[];
  range?: TimeRangeMessage | null;
}

export interface NodeMessage {
  id: string;
  kind: string;
  granularity: string;
  displayName: string;
  app: string;
  cluster: string;
  region: string;
  tier: string;
  domain: string;
  owner: string;
  account: string;
  health: string;
  firstSeenMs: number;
  lastSeenMs: number;
  intermediaryType: string;
  unknownReason: string;
  address: string;
  distance: number;
  layers: LayerName[];
  /** Set by the gateway (proto3: false when unknown); optional for messages built before the field existed. */
  reportsIpcMetrics?: boolean;
}

export interface PortProtocolMessage {
  port: number;
  protocol: string;
}

export interface ViaPathMessage {
  via: string[];
  bytes: number;
  confidence: number;
}

export interface NetworkEdgeMessage {
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  connections: number;
  retransmits: number;
  /** 0 when exporters did not measure it. */
  rttMeanUs: number;
  ports: PortProtocolMessage[];
  paths: ViaPathMessage[];
  confidence: number;
  hop: boolean;
}

export interface EndpointStatsMessage {
  endpoint: string;
  protocol: string;
  calls: number;
  errors: number;
  errorsByStatus: Record<string, number>;
  latencyP50Ms: number;
  latencyP90Ms: number;
  latencyP99Ms: number;
  serverReportedOnly: boolean;
}

export interface ApplicationEdgeMessage {
  calls: number;
  errors: number;
  endpoints: EndpointStatsMessage[];
}

export interface RequestEdgeMessage {
  calls: number;
  errors: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  operations: string[];
}

export interface EdgeMessage {
  src: string;
  dst: string;
  granularity: string;
  layers: LayerName[];
  network?: NetworkEdgeMessage | null;
  application?: ApplicationEdgeMessage | null;
  request?: RequestEdgeMessage | null;
  firstSeenMs: number;
  lastSeenMs: number;
}

export interface LayerStatusMessage {
  layer: LayerName;
  state: LayerStateName;
  message: string;
  latencyMs: number;
}

export interface TraverseResponseMessage {
  nodes: NodeMessage[];
  edges: EdgeMessage[];
  layerStatus: LayerStatusMessage[];
  nextPageToken: string;
  truncated: boolean;
  truncatedReason: string;
}

export interface NeighbourSummaryMessage {
  id: string;
  displayName: string;
  layers: LayerName[];
}

export interface GetNodeResponseMessage {
  node: NodeMessage | null;
  downstream: NeighbourSummaryMessage[];
  upstream: NeighbourSummaryMessage[];
  layerStatus: LayerStatusMessage[];
  truncated: boolean;
}

export interface ImpactedNodeMessage {
  node: NodeMessage | null;
  distance: number;
  tier: string;
  owner: string;
}

export interface TeamImpactMessage {
  owner: string;
  nodeCount: number;
  minDistance: number;
  nodeIds: string[];
}

export interface BlastRadiusResponseMessage {
  root: NodeMessage | null;
  impacted: ImpactedNodeMessage[];
  teams: TeamImpactMessage[];
  layerStatus: LayerStatusMessage[];
  truncated: boolean;
  truncatedReason: string;
}

export const VERDICT_NAMES = ['VERDICT_UNSPECIFIED', 'VERDICT_SELF', 'VERDICT_DEPENDENCY', 'VERDICT_NO_SIGNAL'] as const;
export type VerdictName = (typeof VERDICT_NAMES)[number];

export interface DiagnoseRequestMessage {
  id?: string;
  depth?: number;
  granularity?: GranularityName;
  layers?: LayerName[];
  range?: TimeRangeMessage | null;
}

export interface SuspectMessage {
  node: NodeMessage | null;
  distance: number;
  path: string[];
  dependence: number;
  score: number;
  errorRate: number;
  /** 0 when no layer measured it. */
  latencyP99Ms: number;
  health: string;
  evidenceLayers: LayerName[];
  evidence: string[];
}

export interface DiagnoseResponseMessage {
  node: NodeMessage | null;
  verdict: VerdictName;
  /** Empty unless the verdict is VERDICT_DEPENDENCY. */
  likelyCulprit: string;
  explanation: string;
  suspects: SuspectMessage[];
  ownErrorRate: number;
  layerStatus: LayerStatusMessage[];
  truncated: boolean;
}

export interface CoverageRequestMessage {
  granularity?: GranularityName;
  range?: TimeRangeMessage | null;
  pageSize?: number;
  pageToken?: string;
}

export interface CoverageResponseMessage {
  networkOnly: NodeMessage[];
  applicationOnly: NodeMessage[];
  networkOnlyCount: number;
  applicationOnlyCount: number;
  bothCount: number;
  layerStatus: LayerStatusMessage[];
  nextPageToken: string;
}

export interface TraceOverlayRequestMessage {
  traceId?: string;
  granularity?: GranularityName;
}

export interface TraceHopMessage {
  src: string;
  dst: string;
  operation: string;
  kind: string;
  startUnixNano: number;
  durationMs: number;
  error: boolean;
  spanId: string;
  parentSpanId: string;
}

export interface TraceOverlayResponseMessage {
  traceId: string;
  found: boolean;
  nodes: NodeMessage[];
  edges: EdgeMessage[];
  hops: TraceHopMessage[];
  startMs: number;
  durationMs: number;
  layerStatus: LayerStatusMessage[];
}
