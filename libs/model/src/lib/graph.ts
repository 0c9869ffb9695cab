import { EdgeKey, Granularity, Layer, NodeId, NodeKind } from './ids';
import { IntermediaryType, UnknownReason } from './peer';

export const HEALTH_STATES = ['healthy', 'degraded', 'unhealthy', 'unknown'] as const;
export type Health = (typeof HEALTH_STATES)[number];

/** Business context of a node, from the metadata source. Every field is optional: metadata is often incomplete. */
export interface NodeContext {
  /** Availability tier, e.g. `tier-0` (most critical) to `tier-3`. */
  tier?: string;
  /** Business domain, e.g. `payments`. */
  domain?: string;
  /** Owning team, the people to notify. */
  owner?: string;
  region?: string;
}

export interface NodeRecord extends NodeContext {
  id: NodeId;
  kind: NodeKind;
  /** `app` and `cluster` nodes belong to one granularity; intermediaries, externals and unknowns to both. */
  granularity?: Granularity;
  displayName: string;
  app?: string;
  cluster?: string;
  account?: string;
  health: Health;
  /** Epoch milliseconds. */
  firstSeenMs: number;
  /** Epoch milliseconds. */
  lastSeenMs: number;
  /** For `intermediary` nodes. */
  intermediaryType?: IntermediaryType;
  /** For `unknown` nodes: the machine-readable reason, and the address that could not be attributed. */
  unknownReason?: UnknownReason;
  address?: string;
  /**
   * The node is an app that reports IPC metrics of its own (client or server call metrics, with or
   * without a named peer), as the application layer saw at some point within its retention: it is
   * instrumented even when none of its metrics made an edge. Absent when no layer knows it to be.
   */
  reportsIpcMetrics?: boolean;
}

export interface PortProtocol {
  port: number;
  protocol: string;
}

/** One way traffic reached the destination: directly (`via` empty) or through intermediaries, in order. */
export interface ViaPath {
  via: NodeId[];
  /** Bytes (both directions) attributed to this path in the time range. */
  bytes: number;
  /** 1.0 when the path is certain; lower when traffic through an intermediary had to be apportioned. */
  confidence: number;
}

/** What the network layer knows about an edge over a time range. */
export interface NetworkEdgeProps {
  /** Client to server. */
  bytesSent: number;
  /** Server to client. */
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  /** Connections opened; fractional where an intermediary's connections were apportioned. */
  connections: number;
  retransmits: number;
  /** Mean round-trip time in microseconds, when exporters measured it. */
  rttMeanUs?: number;
  ports: PortProtocol[];
  paths: ViaPath[];
  /** Byte-weighted confidence over the paths. */
  confidence: number;
  /**
   * A raw hop to or from an intermediary (A → LB, LB → B) rather than a resolved dependency
   * (A → B). Hops are hidden unless a query asks for them.
   */
  hop: boolean;
}

export interface EndpointStats {
  endpoint: string;
  protocol: string;
  calls: number;
  errors: number;
  errorsByStatus: Record<string, number>;
  latencyP50Ms?: number;
  latencyP90Ms?: number;
  latencyP99Ms?: number;
  /** True when only the server reported these calls (the client is not instrumented). */
  serverReportedOnly?: boolean;
  /** The durations behind the percentiles, kept so that folds over any time range stay exact to the bucket. */
  latency?: LatencyHistogram;
}

/**
 * Call durations as histogram buckets that add up across time and reporters. `counts[i]` calls fell
 * in the reporter's bucket whose upper bound is `boundsMs[i]` (bounds ascend; empty buckets are left
 * out); `overflow` calls took longer than `overflowAboveMs`, the reporter's last bound.
 */
export interface LatencyHistogram {
  boundsMs: number[];
  counts: number[];
  overflow: number;
  overflowAboveMs: number;
}

export interface ApplicationEdgeProps {
  calls: number;
  errors: number;
  endpoints: EndpointStats[];
  /**
   * The server also reported these calls (whether or not its view was the one counted): the
   * target is instrumented even when every caller is, and only the client views are kept.
   */
  serverReported?: boolean;
}

export interface RequestEdgeProps {
  calls: number;
  errors: number;
  latencyP50Ms?: number;
  latencyP99Ms?: number;
  operations: string[];
}

export interface LayerEdgeProps {
  network?: NetworkEdgeProps;
  application?: ApplicationEdgeProps;
  request?: RequestEdgeProps;
}

export interface EdgeRecord {
  key: EdgeKey;
  src: NodeId;
  dst: NodeId;
  granularity: Granularity;
  /** The layers that saw this edge, in `LAYERS` order; each has its property set below. */
  layers: Layer[];
  props: LayerEdgeProps;
  firstSeenMs: number;
  lastSeenMs: number;
}

/** A half-open interval of epoch milliseconds, `[fromMs, toMs)`. */
export interface TimeRange {
  fromMs: number;
  toMs: number;
}

export type Direction = 'down' | 'up' | 'both';

/**
 * Nodes are kept when they match every given filter (a filter with several values matches any of
 * them). Roots are always kept. Traversal does not continue through nodes that do not match.
 */
export interface NodeFilters {
  tiers?: string[];
  domains?: string[];
  owners?: string[];
  regions?: string[];
  health?: Health[];
}

export interface TraversalQuery {
  roots: NodeId[];
  /** `down`: what the roots call (dependencies); `up`: what calls the roots (dependents). */
  direction: Direction;
  /** Hops from the roots, at least 1. */
  depth: number;
  granularity: Granularity;
  range: TimeRange;
  filters?: NodeFilters;
  /** Include raw hops through intermediaries (network layer only). */
  includeHops?: boolean;
  /** Stop once this many nodes have been visited; the result then says `truncated`. */
  maxVisited: number;
}

export interface VisitedNode {
  node: NodeRecord;
  /** Hops from the nearest root; 0 for a root. */
  distance: number;
}

export interface TraversalResult {
  nodes: VisitedNode[];
  edges: EdgeRecord[];
  /** True when `maxVisited` stopped the traversal before `depth` was reached. */
  truncated: boolean;
}
