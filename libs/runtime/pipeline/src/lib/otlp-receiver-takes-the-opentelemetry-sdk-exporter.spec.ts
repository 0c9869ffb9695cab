import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { InProcessBus } from '@topology/bus-in-process';
import { EmbeddedGraphStore } from '@topology/graph-store-embedded';
import { applicationBucketMerger, DEFAULT_IPC_INGESTOR_CONFIG } from '@topology/ipc-ingest';
import { systemClock, type ApplicationEdgeProps, type EdgeRecord } from '@topology/model';
import { IpcIngestStage } from './ipc-ingest.stage';
import { createMetricsRegistry } from './metrics';
import { OtlpIntake } from './otlp-receiver';
import { OtlpHttpReceiver } from './otlp-receiver.http';

jest.setTimeout(60_000);

type Names = 'current' | 'older';

interface Calls {
  client: string;
  server: string;
  protocol: 'grpc' | 'http';
  /** gRPC `package.Service/Method`, or the HTTP method. */
  endpoint: string;
  ok: number;
  failed: number;
  /** gRPC code name or HTTP status of the failures. */
  failure: string;
  /** Seconds each call took. */
  seconds: number;
  /** Whether the server's metrics name the caller (gRPC servers here learn it from call metadata). */
  serverNamesCaller: boolean;
}

/** Three instrumented services: a frontend calling checkout (HTTP) and catalog (gRPC), checkout calling catalog. */
const TRAFFIC: Calls[] = [
  { client: 'frontend', server: 'checkout', protocol: 'http', endpoint: 'POST', ok: 40, failed: 4, failure: '503', seconds: 0.03, serverNamesCaller: false },
  { client: 'frontend', server: 'catalog', protocol: 'grpc', endpoint: 'shop.catalog.v1.CatalogService/GetProduct', ok: 120, failed: 0, failure: 'UNAVAILABLE', seconds: 0.004, serverNamesCaller: true },
  { client: 'checkout', server: 'catalog', protocol: 'grpc', endpoint: 'shop.catalog.v1.CatalogService/Reserve', ok: 30, failed: 3, failure: 'DEADLINE_EXCEEDED', seconds: 0.9, serverNamesCaller: true },
];

/**
 * Runs the services in a process of their own (testdata/otlp-sdk-services.js): the SDK's exporter
 * loads its HTTP transport with a dynamic import, which a Jest sandbox cannot run.
 */
async function exportThroughTheSdk(url: string, names: Names): Promise<void> {
  const script = path.join(__dirname, 'testdata', 'otlp-sdk-services.js');
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, [script, JSON.stringify({ url, names, traffic: TRAFFIC })], { timeout: 30_000 }, (error, _stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(),
    );
  });
}

interface Harness {
  bus: InProcessBus;
  store: EmbeddedGraphStore<ApplicationEdgeProps>;
  stage: IpcIngestStage;
  receiver: OtlpHttpReceiver;
}

async function start(): Promise<Harness> {
  const registry = createMetricsRegistry();
  const bus = new InProcessBus({ defaultPartitions: 2 });
  const store = await EmbeddedGraphStore.open<ApplicationEdgeProps>({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'otlp-sdk-')), layer: 'application', bucketMs: 60_000 }, applicationBucketMerger);
  const stage = new IpcIngestStage({
    bus,
    clock: systemClock,
    registry,
    instanceId: 'test',
    flushIntervalMs: 60_000,
    // Every message flushes at once, so a handler never waits for the timer.
    maxPendingRecords: 1,
    store,
    retentionMs: 3_600_000,
    ingestor: DEFAULT_IPC_INGESTOR_CONFIG,
    log: () => undefined,
  });
  await stage.start();
  const receiver = await OtlpHttpReceiver.start({ intake: new OtlpIntake(bus, registry), address: '127.0.0.1:0' });
  return { bus, store, stage, receiver };
}

async function stop(h: Harness): Promise<void> {
  await h.receiver.close();
  await h.stage.stop();
  await h.bus.close();
  await h.store.close();
}

async function mapped(names: Names): Promise<{ edges: EdgeRecord[]; health: Map<string, string> }> {
  const h = await start();
  try {
    await exportThroughTheSdk(`http://${h.receiver.address}/v1/metrics`, names);
    await h.bus.settled();
    await h.stage.flushNow();
    const now = Date.now();
    const edges = await h.store.listEdges({ granularity: 'app', range: { fromMs: now - 600_000, toMs: now + 600_000 } });
    const nodes = await h.store.getNodes(['app:frontend', 'app:checkout', 'app:catalog'] as never);
    return { edges: edges.sort((a, b) => (a.key < b.key ? -1 : 1)), health: new Map(nodes.map((n) => [n.id, n.health])) };
  } finally {
    await stop(h);
  }
}

function summary(edges: EdgeRecord[]) {
  return edges.map((e) => ({
    edge: e.key,
    layers: e.layers,
    calls: e.props.application?.calls,
    errors: e.props.application?.errors,
    endpoints: e.props.application?.endpoints.map((p) => ({ endpoint: p.endpoint, protocol: p.protocol, calls: p.calls, errors: p.errors, errorsByStatus: p.errorsByStatus })),
  }));
}

/** What the traffic says the application layer must hold: one edge per caller and callee, from the client's view. */
function expected() {
  return TRAFFIC.map((c) => ({
    edge: `app:${c.client} -> app:${c.server}`,
    layers: ['application'],
    calls: c.ok + c.failed,
    errors: c.failed,
    endpoints: [
      {
        endpoint: c.endpoint,
        protocol: c.protocol,
        calls: c.ok + c.failed,
        errors: c.failed,
        errorsByStatus: c.failed === 0 ? {} : { [c.protocol === 'http' ? `${c.failure[0]}xx` : c.failure]: c.failed },
      },
    ],
  })).sort((a, b) => (a.edge < b.edge ? -1 : 1));
}

describe('metrics from the OpenTelemetry JS SDK and its OTLP protobuf exporter', () => {
  let current: Awaited<ReturnType<typeof mapped>>;
  let older: Awaited<ReturnType<typeof mapped>>;

  beforeAll(async () => {
    current = await mapped('current');
    older = await mapped('older');
  });

  it('give each call edge with its endpoints, calls and errors by status', () => {
    expect(summary(current.edges)).toEqual(expected());
  });

  it('give latency percentiles from the exported buckets', () => {
    const reserve = current.edges.find((e) => e.key === 'app:checkout -> app:catalog')?.props.application?.endpoints[0];
    // Every Reserve call took 0.9 s: all percentiles fall in the (750, 1000] ms bucket.
    expect(reserve?.latencyP50Ms).toBeGreaterThan(750);
    expect(reserve?.latencyP99Ms).toBeLessThanOrEqual(1000);
  });

  it('give the same result when the same traffic is described with the older attribute names and units', () => {
    expect(summary(older.edges)).toEqual(summary(current.edges));
    const p50 = (r: typeof current) => r.edges.map((e) => e.props.application?.endpoints.map((p) => p.latencyP50Ms));
    expect(p50(older)).toEqual(p50(current));
  });

  it('judge each service by the calls it served', () => {
    // checkout served 44 calls, 4 of them 503s (9 %): degraded; catalog served 153 calls, 3 of them timeouts (2 %).
    expect(current.health.get('app:checkout')).toBe('degraded');
    expect(current.health.get('app:catalog')).toBe('healthy');
    expect(older.health).toEqual(current.health);
  });
});
