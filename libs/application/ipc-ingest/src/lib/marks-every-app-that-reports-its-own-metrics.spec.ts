import { ManualClock, type NodeUpsert } from '@topology/model';
import { DEFAULT_IPC_INGESTOR_CONFIG } from './ipc-ingestor-config';
import { IpcIngestor } from './ipc-ingestor';
import { encodeMetricsRequestObject } from './otlp-codec';

const T0 = Date.UTC(2026, 0, 1);
const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

/** One delta export of `service`: calls on one side, each naming its peer by an attribute or not at all. */
function export_(service: string, side: 'client' | 'server', peers: { attribute?: string; value?: string }[], endMs = T0 + 30_000): Uint8Array {
  const dataPoints = peers.map((p) => ({
    attributes: [str('rpc.system.name', 'grpc'), str('rpc.method', 'x.v1.Api/Get'), str('rpc.status_code', 'OK'), ...(p.attribute && p.value ? [str(p.attribute, p.value)] : [])],
    startTimeUnixNano: String(BigInt(endMs - 30_000) * 1_000_000n),
    timeUnixNano: String(BigInt(endMs) * 1_000_000n),
    count: 20,
    bucketCounts: [20, 0],
    explicitBounds: [0.1],
  }));
  const metric = { name: `rpc.${side}.call.duration`, unit: 's', histogram: { aggregationTemporality: 1, dataPoints } };
  return encodeMetricsRequestObject({ resourceMetrics: [{ resource: { attributes: [str('service.name', service)] }, scopeMetrics: [{ metrics: [metric] }] }] });
}

function byId(nodes: NodeUpsert[]): Map<string, NodeUpsert> {
  return new Map(nodes.map((n) => [n.id, n]));
}

describe('apps that report IPC metrics of their own', () => {
  it('are upserted as reporting, also when no point of theirs names a peer, while apps only named by peers are not', () => {
    const ipc = new IpcIngestor(DEFAULT_IPC_INGESTOR_CONFIG, new ManualClock(T0 + 60_000));
    const exports = [
      export_('web', 'client', [{ attribute: 'service.peer.name', value: 'api' }]),
      // Calls only addresses: no edge comes of it.
      export_('batch', 'client', [{ attribute: 'server.address', value: '10.0.3.7' }, {}]),
      // Serves without naming its callers, and nobody instrumented calls it: no edge either.
      export_('ledger', 'server', [{}]),
    ];
    for (const e of exports) expect(ipc.ingest(e, 'otlp-protobuf')).toEqual([]);
    const out = ipc.flush();

    expect(out.buckets.map((b) => `${b.src} -> ${b.dst}`)).toEqual(['app:web -> app:api']);
    const nodes = byId(out.nodes);
    expect([...nodes.keys()].sort()).toEqual(['app:api', 'app:batch', 'app:ledger', 'app:web']);
    expect(nodes.get('app:web')?.reportsIpcMetrics).toBe(true);
    expect(nodes.get('app:batch')).toMatchObject({ kind: 'app', granularity: 'app', reportsIpcMetrics: true, firstSeenMs: T0, lastSeenMs: T0 + 30_000 });
    expect(nodes.get('app:ledger')?.reportsIpcMetrics).toBe(true);
    expect(nodes.get('app:api')?.reportsIpcMetrics).toBeUndefined();
    expect(ipc.counters.get('calls_without_named_peer')).toBe(3);
  });

  it('are upserted again as their metrics go on, and an app named first and reporting later becomes reporting', () => {
    const clock = new ManualClock(T0 + 60_000);
    const ipc = new IpcIngestor(DEFAULT_IPC_INGESTOR_CONFIG, clock);
    ipc.ingest(export_('web', 'client', [{ attribute: 'service.peer.name', value: 'api' }]), 'otlp-protobuf');
    ipc.ingest(export_('batch', 'client', [{}]), 'otlp-protobuf');
    expect(byId(ipc.flush().nodes).get('app:api')?.reportsIpcMetrics).toBeUndefined();

    clock.advance(60_000);
    ipc.ingest(export_('batch', 'client', [{}], T0 + 90_000), 'otlp-protobuf');
    ipc.ingest(export_('api', 'server', [{}], T0 + 90_000), 'otlp-protobuf');
    const later = byId(ipc.flush().nodes);
    expect(later.get('app:batch')).toMatchObject({ reportsIpcMetrics: true, lastSeenMs: T0 + 90_000 });
    expect(later.get('app:api')?.reportsIpcMetrics).toBe(true);

    // Nothing new: nothing to upsert again.
    expect(ipc.flush().nodes).toEqual([]);
  });
});
