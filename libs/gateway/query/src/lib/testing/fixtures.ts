import { ApplicationEdgeProps, edgeKey, EdgeRecord, EndpointStats, Layer, LayerEdgeProps, NetworkEdgeProps, NodeId, nodeId, NodeRecord } from '@topology/model';

export const T0 = Date.UTC(2025, 0, 1);

export function app(name: string, context: Partial<NodeRecord> = {}): NodeRecord {
  return { id: nodeId('app', name), kind: 'app', granularity: 'app', displayName: name, app: name, health: 'unknown', firstSeenMs: T0, lastSeenMs: T0 + 60_000, ...context };
}

export function networkProps(bytes: number, hop = false): NetworkEdgeProps {
  return {
    bytesSent: bytes,
    bytesReceived: 0,
    packetsSent: 1,
    packetsReceived: 0,
    connections: 1,
    retransmits: 0,
    ports: [{ port: 443, protocol: 'tcp' }],
    paths: [{ via: [], bytes, confidence: 1 }],
    confidence: 1,
    hop,
  };
}

/** An edge as one layer's store returns it: that layer alone, with its own property set. */
export function edge(layer: Layer, src: NodeId, dst: NodeId, props: LayerEdgeProps, seen: { firstSeenMs?: number; lastSeenMs?: number } = {}): EdgeRecord {
  return {
    key: edgeKey(src, dst),
    src,
    dst,
    granularity: 'app',
    layers: [layer],
    props,
    firstSeenMs: seen.firstSeenMs ?? T0,
    lastSeenMs: seen.lastSeenMs ?? T0 + 60_000,
  };
}

export function netEdge(src: NodeId, dst: NodeId, bytes = 1000, seen: { firstSeenMs?: number; lastSeenMs?: number } = {}): EdgeRecord {
  return edge('network', src, dst, { network: networkProps(bytes) }, seen);
}

export function id(name: string): NodeId {
  return nodeId('app', name);
}

/** An endpoint's stats; errors are counted as 5xx unless a status breakdown is given. */
export function endpoint(name: string, calls: number, errors = 0, more: Partial<EndpointStats> = {}): EndpointStats {
  return { endpoint: name, protocol: 'http', calls, errors, errorsByStatus: errors > 0 ? { '5xx': errors } : {}, ...more };
}

/** Application-layer props whose totals are the sum of their endpoints (one `GET /` endpoint when none are given). */
export function applicationProps(calls: number, errors = 0, endpoints: EndpointStats[] = [endpoint('GET /', calls, errors)]): ApplicationEdgeProps {
  return { calls, errors, endpoints };
}

export function appEdge(src: NodeId, dst: NodeId, calls = 100, errors = 0, endpoints?: EndpointStats[]): EdgeRecord {
  return edge('application', src, dst, { application: applicationProps(calls, errors, endpoints) });
}
