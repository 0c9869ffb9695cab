import {
  Direction,
  EdgeRecord,
  GraphLayerStore,
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
