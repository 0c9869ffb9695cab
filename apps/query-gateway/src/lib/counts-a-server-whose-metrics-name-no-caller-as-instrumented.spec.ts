import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EmbeddedGraphStore } from '@topology/graph-store-embedded';
import { DEFAULT_IPC_INGESTOR_CONFIG, IpcIngestor, applicationBucketMerger, encodeMetricsRequestObject } from '@topology/ipc-ingest';
import { ManualClock, emptyNetworkProps, networkBucketMerger, nodeId, type ApplicationEdgeProps, type NetworkEdgeProps } from '@topology/model';
import { TopologyQueryService } from '@topology/query';

const T0 = Date.UTC(2026, 0, 1);
const id = (app: string) => nodeId('app', app);
const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

/** One service's delta export: its client calls to `calls` and, if it serves, its server metrics (naming the caller or not). */
function export_(service: string, o: { calls?: string[]; serves?: { from: string; namesCaller: boolean }[] }): Uint8Array {
  const point = (peer: string | undefined) => ({
    attributes: [str('rpc.system.name', 'grpc'), str('rpc.method', 'x.v1.Api/Get'), str('rpc.status_code', 'OK'), ...(peer === undefined ? [] : [str('service.peer.name', peer)])],
    startTimeUnixNano: String(BigInt(T0) * 1_000_000n),
    timeUnixNano: String(BigInt(T0 + 30_000) * 1_000_000n),
    count: 20,
    bucketCounts: [20, 0],
    explicitBounds: [0.1],
  });
  const metrics = [];
  if (o.calls) metrics.push({ name: 'rpc.client.call.duration', unit: 's', histogram: { aggregationTemporality: 1, dataPoints: o.calls.map(point) } });
  if (o.serves) metrics.push({ name: 'rpc.server.call.duration', unit: 's', histogram: { aggregationTemporality: 1, dataPoints: o.serves.map((s) => point(s.namesCaller ? s.from : undefined)) } });
  return encodeMetricsRequestObject({ resourceMetrics: [{ resource: { attributes: [str('service.name', service)] }, scopeMetrics: [{ metrics }] }] });
}

describe('coverage of a service whose server metrics name no caller', () => {
  let dir: string;
  let network: EmbeddedGraphStore<NetworkEdgeProps>;
  let application: EmbeddedGraphStore<ApplicationEdgeProps>;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-coverage-'));
    network = await EmbeddedGraphStore.open<NetworkEdgeProps>({ dir, layer: 'network', bucketMs: 60_000 }, networkBucketMerger);
    application = await EmbeddedGraphStore.open<ApplicationEdgeProps>({ dir, layer: 'application', bucketMs: 60_000 }, applicationBucketMerger);
    const edge = (src: string, dst: string) => ({ src: id(src), dst: id(dst), granularity: 'app' as const, bucketStartMs: T0, firstSeenMs: T0, lastSeenMs: T0 + 1, props: { ...emptyNetworkProps(), bytesSent: 100, hop: false } });
    await network.putEdgeBuckets([edge('web', 'api'), edge('api', 'db'), edge('web', 'legacy')]);
  });

  afterEach(async () => {
    await network.close();
    await application.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The ingestor's output for the exports, written to the application store; then the gateway's coverage. */
  async function coverage(exports: Uint8Array[]) {
    const ipc = new IpcIngestor(DEFAULT_IPC_INGESTOR_CONFIG, new ManualClock(T0 + 60_000));
    for (const e of exports) expect(ipc.ingest(e, 'otlp-protobuf')).toEqual([]);
    const { nodes, buckets } = ipc.flush();
    await application.upsertNodes(nodes);
    await application.putEdgeBuckets(buckets);
    const service = new TopologyQueryService([
      { layer: 'network', reader: network },
      { layer: 'application', reader: application },
    ]);
    const answer = await service.coverage({ range: { fromMs: T0, toMs: T0 + 60_000 } });
    return { networkOnly: answer.networkOnly.map((n) => n.id), bothCount: answer.bothCount };
  }

  it('counts it as instrumented when it serves only instrumented callers and calls nothing', async () => {
    const answer = await coverage([
      export_('web', { calls: ['api'] }),
      export_('api', { calls: ['db'], serves: [{ from: 'web', namesCaller: true }] }),
      export_('db', { serves: [{ from: 'api', namesCaller: false }] }),
    ]);
    expect(answer).toEqual({ networkOnly: [id('legacy')], bothCount: 3 });
  });

  it('lists it as not instrumented when it reports nothing', async () => {
    const answer = await coverage([export_('web', { calls: ['api'] }), export_('api', { calls: ['db'], serves: [{ from: 'web', namesCaller: true }] })]);
    expect(answer).toEqual({ networkOnly: [id('db'), id('legacy')], bothCount: 2 });
  });
});
