import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { InProcessBus } from '@topology/bus-in-process';
import { EmbeddedGraphStore } from '@topology/graph-store-embedded';
import { DEFAULT_IPC_INGESTOR_CONFIG, applicationBucketMerger, encodeMetricsRequestObject } from '@topology/ipc-ingest';
import { ManualClock, emptyNetworkProps, networkBucketMerger, nodeId, type ApplicationEdgeProps, type NetworkEdgeProps } from '@topology/model';
import { TopologyQueryService } from '@topology/query';
import { Registry } from 'prom-client';
import { IpcIngestStage } from './ipc-ingest.stage';
import { pipelineTopics } from './topic-names';

const T0 = Date.UTC(2026, 0, 1);
const topics = pipelineTopics();
const id = (app: string) => nodeId('app', app);
const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

/** A service's delta export of calls on one side, naming the peer by service name, by address, or not at all. */
function export_(service: string, side: 'client' | 'server', peer?: { attribute: string; value: string }): Uint8Array {
  const point = {
    attributes: [str('rpc.system.name', 'grpc'), str('rpc.method', 'x.v1.Api/Get'), str('rpc.status_code', 'OK'), ...(peer === undefined ? [] : [str(peer.attribute, peer.value)])],
    startTimeUnixNano: String(BigInt(T0) * 1_000_000n),
    timeUnixNano: String(BigInt(T0 + 30_000) * 1_000_000n),
    count: 20,
    bucketCounts: [20, 0],
    explicitBounds: [0.1],
  };
  const metric = { name: `rpc.${side}.call.duration`, unit: 's', histogram: { aggregationTemporality: 1, dataPoints: [point] } };
  return encodeMetricsRequestObject({ resourceMetrics: [{ resource: { attributes: [str('service.name', service)] }, scopeMetrics: [{ metrics: [metric] }] }] });
}

describe('coverage of apps whose IPC metrics name no peer, from the ipc-ingestor through the gateway', () => {
  let dir: string;
  let network: EmbeddedGraphStore<NetworkEdgeProps>;
  let application: EmbeddedGraphStore<ApplicationEdgeProps>;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-coverage-'));
    network = await EmbeddedGraphStore.open<NetworkEdgeProps>({ dir, layer: 'network', bucketMs: 60_000 }, networkBucketMerger);
    application = await EmbeddedGraphStore.open<ApplicationEdgeProps>({ dir, layer: 'application', bucketMs: 60_000 }, applicationBucketMerger);
    const edge = (src: string, dst: string) => ({ src: id(src), dst: id(dst), granularity: 'app' as const, bucketStartMs: T0, firstSeenMs: T0, lastSeenMs: T0 + 1, props: { ...emptyNetworkProps(), bytesSent: 100, hop: false } });
    await network.putEdgeBuckets([edge('web', 'api'), edge('batch', 'db'), edge('legacy', 'ledger')]);
  });

  afterEach(async () => {
    await network.close();
    await application.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The exports read by the ipc-ingestor stage into the application store; then the gateway's coverage. */
  async function coverage(exports: Uint8Array[]) {
    const clock = new ManualClock(T0 + 60_000);
    const bus = new InProcessBus({ clock, defaultPartitions: 1 });
    const stage = new IpcIngestStage({
      bus,
      clock,
      registry: new Registry(),
      instanceId: 'ipc',
      flushIntervalMs: 60_000,
      maxPendingRecords: 1,
      log: () => undefined,
      store: application,
      retentionMs: 20 * 365 * 86_400_000,
      ingestor: DEFAULT_IPC_INGESTOR_CONFIG,
    });
    await stage.start();
    await bus.publish(topics.otlpMetrics, exports.map((value) => ({ key: null, value })));
    await bus.settled();
    await stage.stop();
    await bus.close();
    expect(stage.ingestor.counters.get('data_points_accepted')).toBe(exports.length);
    const service = new TopologyQueryService([
      { layer: 'network', reader: network },
      { layer: 'application', reader: application },
    ]);
    const answer = await service.coverage({ range: { fromMs: T0, toMs: T0 + 60_000 } });
    return { networkOnly: answer.networkOnly.map((n) => n.id), bothCount: answer.bothCount };
  }

  it('counts as instrumented an app that calls only by address, and one whose server metrics name no caller and that no instrumented app calls', async () => {
    const answer = await coverage([
      export_('web', 'client', { attribute: 'service.peer.name', value: 'api' }),
      export_('batch', 'client', { attribute: 'server.address', value: '10.0.3.7' }),
      export_('ledger', 'server'),
    ]);
    expect(answer).toEqual({ networkOnly: [id('api'), id('db'), id('legacy')], bothCount: 3 });
  });

  it('lists them as not instrumented when they report nothing', async () => {
    const answer = await coverage([export_('web', 'client', { attribute: 'service.peer.name', value: 'api' })]);
    expect(answer).toEqual({ networkOnly: [id('api'), id('batch'), id('db'), id('ledger'), id('legacy')], bothCount: 1 });
  });
});
