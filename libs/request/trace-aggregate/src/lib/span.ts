import { Granularity, NodeId, nodeId } from '@topology/model';

/** OpenTelemetry span kinds; Zipkin's CLIENT/SERVER/PRODUCER/CONSUMER map to the same, a span without kind is `internal`. */
export const SPAN_KINDS = ['internal', 'server', 'client', 'producer', 'consumer'] as const;
export type SpanKind = (typeof SPAN_KINDS)[number];

/** Kinds that call out of their process: the caller's half of a remote call. */
export function isCallerKind(kind: SpanKind): boolean {
  return kind === 'client' || kind === 'producer';
}

/**
 * One deployment of one service, as the spans it reports name it: `service.name` is the app, the
 * cluster comes from resource attributes (see `CLUSTER_ATTRIBUTES`; the service name when none is
 * set). Processes are interned by a `ProcessDirectory`: equal processes are one object, so pairing
 * compares them by identity and node ids are built once.
 */
export interface ServiceProcess {
  readonly service: string;
  readonly cluster: string;
  readonly region: string | undefined;
  readonly appNode: NodeId;
  readonly clusterNode: NodeId;
  /** Earliest and latest span start seen from this process, epoch milliseconds (event time). */
  firstSeenMs: number;
  lastSeenMs: number;
  /** Seen since the aggregator last reported it. */
  changed: boolean;
}

/** What named an uninstrumented peer, in the order the attributes are tried. */
export const PEER_SOURCES = ['service', 'address', 'database', 'messaging'] as const;
export type PeerSource = (typeof PEER_SOURCES)[number];

/**
 * The peer of a client or producer span whose other half never reported: a virtual node. A peer
 * named as a service (`service.peer.name`, `peer.service`, Zipkin's `remoteEndpoint.serviceName`)
 * is that service's app node at both granularities, since by convention the name equals the peer's
 * own `service.name` and a client cannot know which of its deployments answered. Any other peer
 * (an address, a database, a messaging destination) is `external:<name>`.
 */
export interface VirtualPeer {
  readonly name: string;
  readonly source: PeerSource;
  readonly node: NodeId;
  firstSeenMs: number;
  lastSeenMs: number;
  changed: boolean;
}

/** The one span model every input format decodes into. */
export interface TraceSpan {
  /** Lowercase hex: 32 digits (OTLP, W3C) or 16 or 32 (Zipkin). */
  readonly traceId: string;
  /** Lowercase hex, 16 digits. */
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  readonly process: ServiceProcess;
  readonly kind: SpanKind;
  readonly name: string;
  /** Epoch microseconds; 0 when the span did not say (some Zipkin spans). */
  readonly startUs: number;
  readonly durationUs: number;
  readonly error: boolean;
  /** For client and producer spans: the peer named by the span's attributes, if any. */
  readonly peer: VirtualPeer | undefined;
  /** A Zipkin server half that shares its span id with the client half (`shared: true`). */
  readonly sharedServer: boolean;
}

const WHITESPACE = /\s/;
const WHITESPACE_ALL = /\s+/g;

/** Node names cannot hold whitespace; attribute values can. */
export function nodeName(value: string): string {
  return WHITESPACE.test(value) ? value.trim().replace(WHITESPACE_ALL, '_') : value;
}

/** Interns service processes and virtual peers, and remembers when each was seen. */
export class ProcessDirectory {
  private readonly processes = new Map<string, Map<string, ServiceProcess>>();
  private readonly peers = new Map<string, VirtualPeer>();

  /** `cluster` empty: the service is its own cluster. `region` empty: unknown. */
  process(service: string, cluster: string, region: string): ServiceProcess {
    const clusterName = cluster === '' ? service : cluster;
    // Two levels of maps instead of a joined key: no string is built per span.
    let byCluster = this.processes.get(service);
    if (byCluster === undefined) {
      byCluster = new Map();
      this.processes.set(service, byCluster);
    }
    const regionKey = `${clusterName}\u0000${region}`;
    let process = byCluster.get(regionKey);
    if (process === undefined) {
      process = {
        service,
        cluster: clusterName,
        region: region === '' ? undefined : region,
        appNode: nodeId('app', nodeName(service)),
        clusterNode: nodeId('cluster', nodeName(clusterName)),
        firstSeenMs: Number.POSITIVE_INFINITY,
        lastSeenMs: Number.NEGATIVE_INFINITY,
        changed: false,
      };
      byCluster.set(regionKey, process);
    }
    return process;
  }

  peer(name: string, source: PeerSource): VirtualPeer {
    const key = source === 'service' ? `s\u0000${name}` : `e\u0000${name}`;
    let peer = this.peers.get(key);
    if (peer === undefined) {
      peer = {
        name,
        source,
        node: source === 'service' ? nodeId('app', nodeName(name)) : nodeId('external', nodeName(name)),
        firstSeenMs: Number.POSITIVE_INFINITY,
        lastSeenMs: Number.NEGATIVE_INFINITY,
        changed: false,
      };
      this.peers.set(key, peer);
    }
    return peer;
  }

  allProcesses(): ServiceProcess[] {
    const out: ServiceProcess[] = [];
    for (const byCluster of this.processes.values()) for (const p of byCluster.values()) out.push(p);
    return out;
  }

  allPeers(): VirtualPeer[] {
    return [...this.peers.values()];
  }
}

export function processNode(process: ServiceProcess, granularity: Granularity): NodeId {
  return granularity === 'app' ? process.appNode : process.clusterNode;
}

/** Whether a virtual peer names the very service that called it (a self call seen from one side). */
export function peerIsOwnService(peer: VirtualPeer, process: ServiceProcess): boolean {
  return peer.source === 'service' && peer.name === process.service;
}
