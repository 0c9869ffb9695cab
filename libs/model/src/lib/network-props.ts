import { NetworkEdgeProps, PortProtocol, ViaPath } from './graph';
import { BucketMerger } from './graph-layer-store';

export function emptyNetworkProps(): NetworkEdgeProps {
  return {
    bytesSent: 0,
    bytesReceived: 0,
    packetsSent: 0,
    packetsReceived: 0,
    connections: 0,
    retransmits: 0,
    ports: [],
    paths: [],
    confidence: 1,
    hop: true,
  };
}

function mergePorts(a: PortProtocol[], b: PortProtocol[]): PortProtocol[] {
  const seen = new Map<string, PortProtocol>();
  for (const p of [...a, ...b]) seen.set(`${p.protocol}/${p.port}`, p);
  return [...seen.values()].sort((x, y) => x.port - y.port || x.protocol.localeCompare(y.protocol));
}

function mergePaths(a: ViaPath[], b: ViaPath[]): ViaPath[] {
  const byVia = new Map<string, ViaPath>();
  for (const p of [...a, ...b]) {
    const key = p.via.join(' ');
    const prev = byVia.get(key);
    if (!prev) {
      byVia.set(key, { via: [...p.via], bytes: p.bytes, confidence: p.confidence });
      continue;
    }
    const bytes = prev.bytes + p.bytes;
    const confidence = bytes > 0 ? (prev.confidence * prev.bytes + p.confidence * p.bytes) / bytes : Math.min(prev.confidence, p.confidence);
    byVia.set(key, { via: prev.via, bytes, confidence });
  }
  return [...byVia.values()].sort((x, y) => y.bytes - x.bytes || x.via.join(' ').localeCompare(y.via.join(' ')));
}

function weightedConfidence(paths: ViaPath[]): number {
  const bytes = paths.reduce((s, p) => s + p.bytes, 0);
  if (bytes === 0) return paths.length === 0 ? 1 : Math.min(...paths.map((p) => p.confidence));
  return paths.reduce((s, p) => s + p.confidence * p.bytes, 0) / bytes;
}

/** Fold two network payloads: counts add, ports and paths union, confidence is byte-weighted. */
export function mergeNetworkProps(a: NetworkEdgeProps, b: NetworkEdgeProps): NetworkEdgeProps {
  const paths = mergePaths(a.paths, b.paths);
  const rttWeight = (p: NetworkEdgeProps) => (p.rttMeanUs === undefined ? 0 : Math.max(p.connections, 1));
  const wa = rttWeight(a);
  const wb = rttWeight(b);
  const rttMeanUs = wa + wb > 0 ? ((a.rttMeanUs ?? 0) * wa + (b.rttMeanUs ?? 0) * wb) / (wa + wb) : undefined;
  return {
    bytesSent: a.bytesSent + b.bytesSent,
    bytesReceived: a.bytesReceived + b.bytesReceived,
    packetsSent: a.packetsSent + b.packetsSent,
    packetsReceived: a.packetsReceived + b.packetsReceived,
    connections: a.connections + b.connections,
    retransmits: a.retransmits + b.retransmits,
    ...(rttMeanUs === undefined ? {} : { rttMeanUs }),
    ports: mergePorts(a.ports, b.ports),
    paths,
    confidence: weightedConfidence(paths),
    // An edge is a dependency as soon as one bucket resolved it as one.
    hop: a.hop && b.hop,
  };
}

export const networkBucketMerger: BucketMerger<NetworkEdgeProps> = {
  layer: 'network',
  merge: mergeNetworkProps,
  isHop: (p) => p.hop,
};
