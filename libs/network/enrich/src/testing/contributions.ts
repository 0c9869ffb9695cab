import type { EdgeContribution } from '@topology/contracts';
import type { EdgeBucket, NetworkEdgeProps, Peer } from '@topology/model';

export const workload = (cluster: string, extra: { region?: string; account?: string } = {}): Peer => ({
  kind: 'workload',
  app: cluster.split('-')[0] ?? cluster,
  cluster,
  ...extra,
});

export const lb = (id: string, name?: string): Peer => ({ kind: 'intermediary', id, type: 'load-balancer', ...(name ? { name } : {}) });

/** A contribution of `bytes` client→server bytes (and half as many back) in the window starting at `startMs`. */
export function contribution(src: Peer, dst: Peer, startMs: number, over: Partial<EdgeContribution> & { bytes?: number } = {}): EdgeContribution {
  const { bytes = 1000, ...rest } = over;
  return {
    window: { startMs, endMs: startMs + 10_000 },
    scope: 'direct',
    src,
    dst,
    hop: false,
    via: [],
    confidence: 1,
    ports: [{ port: 443, protocol: 'tcp' }],
    bytesSent: bytes,
    bytesReceived: bytes / 2,
    packetsSent: 10,
    packetsReceived: 5,
    connections: 1,
    retransmits: 0,
    rttSumUs: 0,
    rttSamples: 0,
    firstSeenMs: startMs + 1,
    lastSeenMs: startMs + 2,
    removed: false,
    ingestedAtMs: startMs + 3,
    ...rest,
  };
}

/** Buckets in a stable order, for comparisons that do not care about emission order. */
export function sorted(buckets: EdgeBucket<NetworkEdgeProps>[]): EdgeBucket<NetworkEdgeProps>[] {
  const key = (b: EdgeBucket<NetworkEdgeProps>) => `${b.granularity} ${b.src} ${b.dst} ${b.bucketStartMs}`;
  return [...buckets].sort((a, b) => key(a).localeCompare(key(b)));
}

export function find(buckets: EdgeBucket<NetworkEdgeProps>[], granularity: 'app' | 'cluster', src: string, dst: string, bucketStartMs?: number): EdgeBucket<NetworkEdgeProps> | undefined {
  return buckets.find((b) => b.granularity === granularity && b.src === src && b.dst === dst && (bucketStartMs === undefined || b.bucketStartMs === bucketStartMs));
}
