import type { WorkloadIdentity } from '@topology/model';

/**
 * Which side reported a flow: the client host, the server host, or a network vantage point that is
 * neither (a VPC flow log of an interface, a Hubble observation point on a node). Stage 2 keeps
 * one view per connection group, so one connection seen from several sides counts once.
 */
export type FlowObserver = 'client' | 'server' | 'network';

export interface ObservedEnd {
  /** IPv4 dotted quad or IPv6 text; empty when the record had none (`-` in a VPC log). */
  ip: string;
  /** 0 when unknown (ICMP, or a format without ports). */
  port: number;
  /** Known when the record itself says who this end is (the exporter's own side, Hubble labels). */
  identity?: WorkloadIdentity;
}

/**
 * One flow as every parser produces it, whatever the input format: oriented client → server, with
 * counters per direction, and times in epoch milliseconds. This is the only input of the stage-1
 * attribution and pre-aggregation.
 */
export interface ObservedFlow {
  client: ObservedEnd;
  server: ObservedEnd;
  observer: FlowObserver;
  /** Lower-case IANA name: tcp, udp, icmp, ... */
  protocol: string;
  startMs: number;
  endMs: number;
  /** Client → server. */
  bytesSent: number;
  /** Server → client. */
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  /** Connections opened in the interval (fractions never appear here). */
  connections: number;
  retransmits: number;
  /** Round-trip time in microseconds, when measured. */
  rttUs?: number;
  /**
   * Address of an intermediary that the record shows the traffic passing through (a NAT gateway
   * interface whose VPC log carries the original packet addresses in pkt-srcaddr/pkt-dstaddr).
   * Attribution turns it into the aggregate's `via`.
   */
  viaIp?: string;
  /** Region of the source (the Kafka cluster or exporter that produced the record), when known. */
  region?: string;
}
