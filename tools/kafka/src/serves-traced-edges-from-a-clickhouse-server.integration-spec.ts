import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { ServerExecutor } from '@topology/clickhouse-store';
import { findServerUnderTest } from '@topology/graph-store-contract';
import { EmbeddedGraphStore } from '@topology/graph-store-embedded';
import { networkBucketMerger, type NetworkEdgeProps, type TimeRange } from '@topology/model';
import { createTopologyClient, type TopologyClient, type TraceOverlayResponseMessage } from '@topology/runtime-gateway';
import { generateTraces, planFleet, type TraceBatch } from '@topology/sim';
import { AppProcess, freePort } from './lib/app-process';
import { builtApps } from './lib/built-apps';
import { requestLayerInProcess, TRACE_TEST_BUCKET_MS, TraceAggregatorRun, type RequestLayerMap } from './lib/trace-layer';
import { describeWithKafka, runPrefix, testBrokers } from './lib/with-kafka';

jest.setTimeout(300_000);

const CLICKHOUSE_IMAGE = 'clickhouse/clickhouse-server:25.8';

const found = findServerUnderTest('CLICKHOUSE_URL');
const target = found.kind === 'none' ? { ...found, reason: `no ClickHouse server: ${found.reason}` } : found;

/**
 * App-level request edges leaving the roots and their calls, page by page, once the gateway has
 * opened the request store (until then the layer answers as failed).
 */
async function requestEdgesOverGrpc(client: TopologyClient, roots: string[], range: TimeRange): Promise<Map<string, number>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const edges = new Map<string, number>();
    let pageToken = '';
    let failed = '';
    do {
      const page = await client.traverse({ roots, direction: 'DIRECTION_DOWN', depth: 1, granularity: 'GRANULARITY_APP', layers: ['LAYER_REQUEST'], range, pageSize: 500, pageToken });
      failed = page.layerStatus.filter((st) => st.state !== 'STATE_OK').map((st) => st.message).join('; ');
      for (const e of page.edges) edges.set(`${e.src} -> ${e.dst}`, e.request?.calls ?? 0);
      pageToken = page.nextPageToken;
    } while (pageToken !== '' && failed === '');
    if (failed === '') return edges;
    if (Date.now() > deadline) throw new Error(`the request layer did not open: ${failed}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

if (target.kind === 'none') {
  console.warn(`trace-aggregator on a ClickHouse server skipped: ${target.reason}`);
  // Nothing to run against on this machine: declared skipped, the reason in its name, so every run says why.
  describe.skip(`the trace-aggregator writing a ClickHouse server, read by the query service — skipped: ${target.reason}`, () => {
    it('serves the request layer the trace-aggregator process wrote', () => undefined);
  });
} else {
  describeWithKafka('the trace-aggregator writing a ClickHouse server, read by the query service', () => {
    const fleet = planFleet({ seed: 7, apps: 30, minutes: 2 });
    const batches: TraceBatch[] = [...generateTraces(fleet)];
    const range = { fromMs: fleet.startMs, toMs: fleet.endMs + 60_000 };
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-trace-server-'));
    // A database of its own per run, dropped at the end.
    const database = `topology_trace_it_${randomBytes(6).toString('hex')}`;
    let url = target.kind === 'url' ? target.url : '';
    let container: StartedTestContainer | undefined;
    let reference: RequestLayerMap;
    let served: Map<string, number>;
    let overlay: TraceOverlayResponseMessage;
    const traced = batches.flatMap((b) => b.traces).find((t) => new Set(t.spans.map((sp) => sp.service)).size >= 3) ?? batches[0]?.traces[0];

    beforeAll(async () => {
      if (target.kind === 'container') {
        container = await new GenericContainer(CLICKHOUSE_IMAGE)
          .withEnvironment({ CLICKHOUSE_SKIP_USER_SETUP: '1' })
          .withExposedPorts(8123)
          .withWaitStrategy(Wait.forHttp('/ping', 8123).forStatusCode(200))
          .withStartupTimeout(120_000)
          .start();
        url = `http://${container.getHost()}:${container.getMappedPort(8123)}`;
      }
      const admin = new ServerExecutor({ url });
      await admin.command('CREATE DATABASE IF NOT EXISTS {database:Identifier}', { database });
      await admin.close();
      reference = await requestLayerInProcess(batches, range);

      const run = await TraceAggregatorRun.start({
        brokers: testBrokers ?? '',
        runDir,
        prefix: runPrefix('trace-server'),
        env: { TOPOLOGY_CLICKHOUSE_URL: url, TOPOLOGY_CLICKHOUSE_DATABASE: database },
      });
      const bus = run.bus();
      try {
        await run.publish(bus, batches);
        await run.waitQuiet();
      } finally {
        await bus.close();
      }
      // Read over gRPC from a query-gateway process while the writer still runs: a server has no
      // one-process limit. The gateway needs a network store to start; an empty one is made here.
      const networkDir = path.join(runDir, 'network');
      fs.mkdirSync(networkDir, { recursive: true });
      const empty = await EmbeddedGraphStore.open<NetworkEdgeProps>({ dir: networkDir, layer: 'network', bucketMs: TRACE_TEST_BUCKET_MS }, networkBucketMerger);
      await empty.close();
      const grpcPort = await freePort();
      const gateway = new AppProcess(
        'query-gateway',
        'query-gateway',
        builtApps(),
        {
          TOPOLOGY_DATA_DIR: networkDir,
          TOPOLOGY_APPLICATION_LAYER: 'false',
          TOPOLOGY_BUCKET_MS: String(TRACE_TEST_BUCKET_MS),
          TOPOLOGY_GRPC_ADDRESS: `127.0.0.1:${grpcPort}`,
          TOPOLOGY_CLICKHOUSE_URL: url,
          TOPOLOGY_CLICKHOUSE_DATABASE: database,
          TOPOLOGY_REQUEST_REFRESH_MS: '500',
        },
        await freePort(),
        path.join(runDir, 'logs'),
      );
      gateway.start();
      const client = createTopologyClient(`127.0.0.1:${grpcPort}`);
      try {
        await gateway.waitReady();
        served = await requestEdgesOverGrpc(client, fleet.apps.map((a) => `app:${a.name}`), range);
        overlay = await client.traceOverlay({ traceId: traced.traceId, granularity: 'GRANULARITY_APP' });
      } finally {
        client.close();
        expect(await gateway.stop()).toBe(0);
      }
      expect(await run.stop()).toBe(0);
    });

    afterAll(async () => {
      const admin = new ServerExecutor({ url });
      await admin.command('DROP DATABASE IF EXISTS {database:Identifier}', { database }).catch(() => undefined);
      await admin.close();
      await container?.stop();
      fs.rmSync(runDir, { recursive: true, force: true });
    });

    it('lays a trace the trace-aggregator wrote over the topology, from the gateway process', () => {
      expect(traced).toBeDefined();
      const services = new Set(traced?.spans.map((sp) => `app:${sp.service}`));
      expect(overlay.hops.length).toBeGreaterThan(0);
      for (const hop of overlay.hops) expect(services.has(hop.src)).toBe(true);
    });

    it('serves over gRPC, from a query-gateway process, the edges and calls the trace-aggregator process wrote: those of the stage in one process', () => {
      const want = new Map<string, number>();
      for (const [key, value] of reference) if (key.startsWith('app ') && !key.includes(' @')) want.set(key.slice(4), Number(value.split(' ')[0]));
      expect(want.size).toBeGreaterThan(10);
      expect(served).toEqual(want);
    });
  });
}
