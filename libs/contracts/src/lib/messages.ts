import type { IntermediaryType, Peer, WorkloadIdentity } from '@topology/model';

/**
 * TypeScript shapes of the pipeline messages in proto/topology/pipeline/v1. The codec in
 * `codec.ts` converts between these and protobuf bytes; the round-trip test keeps them in step.
 */

export type Role = 'client' | 'server';
export type Observer = 'client' | 'server' | 'network';

export interface FlowEndpoint {
  ip: string;
  port: number;
}

/** The canonical flow record (see flow.proto). Times are epoch milliseconds. */
export interface FlowRecord {
  local: FlowEndpoint;
  remote: FlowEndpoint;
  localIdentity: WorkloadIdentity;
  role: Role;
  protocol: string;
  startMs: number;
  endMs: number;
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  retransmits: number;
  rttUs: number;
  connections: number;
}

export interface WindowRef {
  startMs: number;
  endMs: number;
}

/** Traffic between two peers in one window, seen from one side; `src` is always the client. */
export interface FlowAggregate {
  src: Peer;
  dst: Peer;
  dstPort: number;
  protocol: string;
  observer: Observer;
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  connections: number;
  retransmits: number;
  rttSumUs: number;
  rttSamples: number;
  firstSeenMs: number;
  lastSeenMs: number;
  /** Intermediaries already passed through (non-empty only for forwarded chains). */
  via: string[];
  /** 1 for observed traffic; below 1 once apportioned through an intermediary. */
  confidence: number;
}

/** Replaces any earlier snapshot with the same (window, scope, key). */
export interface FlowPartialSnapshot {
  window: WindowRef;
  scope: string;
  key: string;
  entries: FlowAggregate[];
  ingestedAtMs: number;
}

export interface PortProtocolMsg {
  port: number;
  protocol: string;
}

/** Replaces any earlier contribution with the same (src, dst, window, scope); `removed` withdraws it. */
export interface EdgeContribution {
  window: WindowRef;
  scope: string;
  src: Peer;
  dst: Peer;
  hop: boolean;
  via: string[];
  confidence: number;
  ports: PortProtocolMsg[];
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  connections: number;
  retransmits: number;
  rttSumUs: number;
  rttSamples: number;
  firstSeenMs: number;
  lastSeenMs: number;
  removed: boolean;
  ingestedAtMs: number;
}

export interface IpOwnership {
  ip: string;
  app: string;
  cluster: string;
  region?: string;
  account?: string;
  fromMs: number;
  toMs: number;
}

export interface IpAssignment {
  ip: string;
  intermediaryId: string;
  type: IntermediaryType;
  name?: string;
  region?: string;
  fromMs: number;
  /** 0 or absent: still assigned. */
  toMs?: number;
}

export interface IntermediaryListener {
  intermediaryId: string;
  port: number;
  targetClusters: string[];
}

export interface AppMetadata {
  app: string;
  owner?: string;
  domain?: string;
  tier?: string;
  intermediaryType?: IntermediaryType;
}

export interface HealthEvent {
  nodeId: string;
  health: 'healthy' | 'degraded' | 'unhealthy' | 'unknown';
  atMs: number;
}

export interface ExternalRange {
  cidr: string;
  name: string;
}

/** One event of the metadata source; exactly one field is set. */
export type MetadataEvent =
  | { ipAssignment: IpAssignment }
  | { listener: IntermediaryListener }
  | { app: AppMetadata }
  | { health: HealthEvent }
  | { externalRange: ExternalRange };

export interface DeadLetterMsg {
  reason: string;
  message: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  payload: Uint8Array;
  atMs: number;
}
