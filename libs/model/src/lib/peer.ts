import { Granularity, NodeId, nodeId } from './ids';

/** Why an address could not be attributed to a workload, an intermediary or a known external range. */
export const UNKNOWN_REASONS = [
  /** The address belonged to workloads at other times, but to none at the flow's start time. */
  'no-owner-at-time',
  /** A private (RFC 1918, RFC 6598, ULA) address that no workload, intermediary or CIDR entry claims. */
  'private-unmapped',
  /** A public address outside every known external range. */
  'public-unmapped',
  /** The record had no usable address for this end (for example `-` in a VPC flow log). */
  'missing-address',
  /** Several workloads claimed the address at that time (a host address shared by pods), so none can be chosen. */
  'shared-address',
] as const;
export type UnknownReason = (typeof UNKNOWN_REASONS)[number];

export const INTERMEDIARY_TYPES = ['load-balancer', 'nat-gateway', 'api-gateway', 'proxy'] as const;
export type IntermediaryType = (typeof INTERMEDIARY_TYPES)[number];

/** Who a workload is: what the exporter on the host knows about itself. */
export interface WorkloadIdentity {
  app: string;
  cluster: string;
  instance?: string;
  account?: string;
  region?: string;
  zone?: string;
}

/**
 * One end of a flow after attribution. Instances are dropped here on purpose: the map is kept at
 * cluster and app granularity, and per-instance keys would multiply state downstream.
 */
export type Peer =
  | { kind: 'workload'; app: string; cluster: string; region?: string; account?: string }
  | { kind: 'intermediary'; id: string; type: IntermediaryType; name?: string; region?: string }
  | { kind: 'external'; name: string; cidr?: string }
  | { kind: 'unknown'; reason: UnknownReason; ip: string; region?: string };

/** The graph node that represents a peer at a granularity. Only workloads differ by granularity. */
export function peerNodeId(peer: Peer, granularity: Granularity): NodeId {
  switch (peer.kind) {
    case 'workload':
      return granularity === 'app' ? nodeId('app', peer.app) : nodeId('cluster', peer.cluster);
    case 'intermediary':
      return nodeId('intermediary', peer.id);
    case 'external':
      return nodeId('external', peer.name);
    case 'unknown':
      return nodeId('unknown', `${peer.reason}/${peer.ip}`);
  }
}

/** A key that identifies a peer exactly (used for grouping in the pipeline). */
export function peerKey(peer: Peer): string {
  switch (peer.kind) {
    case 'workload':
      return `w/${peer.cluster}/${peer.region ?? ''}`;
    case 'intermediary':
      return `i/${peer.id}`;
    case 'external':
      return `e/${peer.name}`;
    case 'unknown':
      return `u/${peer.reason}/${peer.ip}`;
  }
}
