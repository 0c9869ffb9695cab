import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { ServerExecutor } from '@topology/clickhouse-store';
import { TopologyQueryService } from '@topology/query';
import { generateTraces, planFleet, type TraceBatch } from '@topology/sim';
import { requestLayerInProcess, TraceAggregatorRun, withStore, type RequestLayerMap } from './lib/trace-layer';
import { describeWithKafka, runPrefix, testBrokers } from './lib/with-kafka';

jest.setTimeout(300_000);

const CLICKHOUSE_IMAGE = 'clickhouse/clickhouse-server:25.8';

type Target = { kind: 'url'; url: string } | { kind: 'container' } | { kind: 'none'; reason: string };

/**
 * Decided before any test is declared, so the suite can say it is skipped and why. The container
 * runtime is probed in a child process because the probe is asynchronous and Jest declares tests
 * synchronously.
 */
function findTarget(): Target {
  const url = process.env['CLICKHOUSE_URL'];
  if (url) return { kind: 'url', url };
  const probe = `require(${JSON.stringify(require.resolve('testcontainers'))}).getContainerRuntimeClient().then(() => process.exit(0), (e) => { process.stderr.write(String(e && e.message)); process.exit(1); })`;
  try {
    execFileSync(process.execPath, ['-e', probe], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    return { kind: 'container' };
  } catch (error: unknown) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { kind: 'none', reason: `no ClickHouse server: CLICKHOUSE_URL is not set and Testcontainers found no container runtime (${stderr || 'probe failed'})` };
  }
}

const target = findTarget();

if (target.kind === 'none') {
  console.warn(`trace-aggregator on a ClickHouse server skipped: ${target.reason}`);
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
      // Read while the writer still runs: a server has no one-process limit.
      served = await withStore(new ServerExecutor({ url, database }), async (store) => {
        const service = new TopologyQueryService([{ layer: 'request', reader: store }]);
        const edges = new Map<string, number>();
        let pageToken = '';
        do {
          const page = await service.traverse({ roots: fleet.apps.map((a) => `app:${a.name}`), direction: 'down', depth: 1, granularity: 'app', layers: ['request'], range, pageSize: 500, pageToken });
          for (const e of page.edges) edges.set(`${e.src} -> ${e.dst}`, e.props.request?.calls ?? 0);
          pageToken = page.nextPageToken;
        } while (pageToken !== '');
        return edges;
      });
      expect(await run.stop()).toBe(0);
    });

    afterAll(async () => {
      const admin = new ServerExecutor({ url });
      await admin.command('DROP DATABASE IF EXISTS {database:Identifier}', { database }).catch(() => undefined);
      await admin.close();
      await container?.stop();
      fs.rmSync(runDir, { recursive: true, force: true });
    });

    it('serves the edges and calls the trace-aggregator process wrote, those of the stage in one process', () => {
      const want = new Map<string, number>();
      for (const [key, value] of reference) if (key.startsWith('app ') && !key.includes(' @')) want.set(key.slice(4), Number(value.split(' ')[0]));
      expect(want.size).toBeGreaterThan(10);
      expect(served).toEqual(want);
    });
  });
}
