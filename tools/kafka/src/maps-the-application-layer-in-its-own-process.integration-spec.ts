import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { OutgoingMessage } from '@topology/bus';
import type { EdgeMessage } from '@topology/runtime-gateway';
import { IpcMetricsGenerator, planFleet } from '@topology/sim';
import {
  CollectorIpcExports,
  applicationDifferences,
  applicationInOneProcess,
  publishFleetMetadata,
  readApplicationEdgesOverGrpc,
  readApplicationStore,
  type ApplicationMap,
} from './lib/application-layer';
import { LocalPipeline } from './lib/local-pipeline';
import { describeWithKafka, runPrefix, testBrokers } from './lib/with-kafka';

jest.setTimeout(240_000);

/** A stable split of the apps: about half export cumulative temporality. */
function exportsCumulative(app: string): boolean {
  let h = 0;
  for (let i = 0; i < app.length; i++) h = (h * 31 + app.charCodeAt(i)) >>> 0;
  return h % 2 === 0;
}

/** Per edge over the whole range, as read over gRPC: calls, errors and endpoint calls. */
function callsOf(edges: EdgeMessage[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of edges) {
    const a = e.application;
    if (a === undefined || a === null) continue;
    out.set(`${e.src} -> ${e.dst}`, `${a.calls} ${a.errors} ${a.endpoints.map((p) => `${p.endpoint}=${p.calls}`).sort().join(' ')}`);
  }
  return out;
}

/** The same, from a map of the store's layer. */
function callsOfMap(map: ApplicationMap): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, e] of map) {
    if (!key.startsWith('all ')) continue;
    out.set(key.slice(4), `${e.calls} ${e.errors} ${e.endpoints.map((p) => `${p.endpoint}=${p.calls}`).sort().join(' ')}`);
  }
  return out;
}

describeWithKafka('the ipc-ingestor in its own process over Kafka, served by the query gateway', () => {
  const brokers = testBrokers ?? '';
  const fleet = planFleet({ seed: 42, apps: 40, minutes: 3 });
  const generator = new IpcMetricsGenerator(fleet);
  const truth = generator.truth();
  const intervalMs = (fleet.endMs - fleet.startMs) / fleet.intervals;
  const batches = Array.from({ length: fleet.intervals }, (_, index) => generator.interval(index, { startMs: fleet.startMs + index * intervalMs, endMs: fleet.startMs + (index + 1) * intervalMs }));
  const range = { fromMs: fleet.startMs, toMs: fleet.endMs + 60_000 };
  const roots = [...new Set([...fleet.apps.map((a) => `app:${a.name}`), ...truth.nodes])];
  const exportsOf = (cumulative: (app: string) => boolean): OutgoingMessage[][] => {
    const collector = new CollectorIpcExports(cumulative, fleet.startMs - 3_600_000);
    return batches.map((b) => collector.messages(b));
  };
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-application-'));

  afterAll(() => {
    fs.rmSync(runDir, { recursive: true, force: true });
  });

  /** Starts the ipc-ingestor, the gateway and the enricher (which creates the network store the gateway waits for). */
  async function startPipeline(name: string): Promise<LocalPipeline> {
    const pipeline = await LocalPipeline.start({
      brokers,
      runDir: path.join(runDir, name),
      prefix: runPrefix(name),
      application: true,
      deferred: ['flow-ingestor', 'intermediary-resolver-1'],
    });
    const buses = pipeline.buses();
    try {
      await pipeline.waitForMetadata(await publishFleetMetadata(fleet, pipeline.topics, buses.home));
    } finally {
      await buses.close();
    }
    return pipeline;
  }

  describe('fed the simulated fleet’s exports (delta temporality) through Kafka', () => {
    const exports = exportsOf(() => false);
    let reference: ApplicationMap;
    let map: ApplicationMap;
    let edges: EdgeMessage[];
    let exitCodes: Record<string, number | null>;

    beforeAll(async () => {
      reference = await applicationInOneProcess(fleet, exports, range);
      const pipeline = await startPipeline('application');
      const buses = pipeline.buses();
      try {
        for (const messages of exports) await buses.home.publish(pipeline.topics.otlpMetrics, messages);
        await pipeline.waitQuiet(120_000, 1_500, ['ipc-ingestor']);
        edges = await readApplicationEdgesOverGrpc(pipeline.grpcAddress, roots, range);
        map = await readApplicationStore(pipeline.dataDir, range);
      } finally {
        await buses.close();
        exitCodes = await pipeline.stop();
      }
    });

    it('serves over gRPC exactly the true application-layer edges, each with its endpoints, from the client view where there is one', () => {
      const got = edges.map((e) => ({
        edge: `${e.src} -> ${e.dst}`,
        serverReportedOnly: (e.application?.endpoints ?? []).every((p) => p.serverReportedOnly),
        endpoints: (e.application?.endpoints ?? []).map((p) => p.endpoint).sort(),
      }));
      const want = truth.appEdges.map((t) => ({ edge: `${t.src} -> ${t.dst}`, serverReportedOnly: t.serverReportedOnly, endpoints: t.endpoints }));
      const byEdge = (a: { edge: string }, b: { edge: string }) => (a.edge < b.edge ? -1 : 1);
      expect(got.sort(byEdge)).toEqual(want.sort(byEdge));
    });

    it('writes the same edges, buckets, counts and latencies as the stage in one process over the in-process bus', () => {
      expect(reference.size).toBeGreaterThan(truth.appEdges.length);
      expect(applicationDifferences(map, reference)).toEqual([]);
      expect(callsOf(edges)).toEqual(callsOfMap(reference));
    });

    it('drains, commits and exits 0 on SIGTERM', () => {
      expect(exitCodes).toEqual({ 'flow-ingestor': null, 'intermediary-resolver-1': null, enricher: 0, 'ipc-ingestor': 0, 'query-gateway': 0 });
    });
  });

  describe('killed (SIGKILL) mid-stream and restarted, with half the apps exporting cumulative series', () => {
    const exports = exportsOf(exportsCumulative);
    let reference: ApplicationMap;
    let map: ApplicationMap;
    let edges: EdgeMessage[];
    let backlog = 0;

    beforeAll(async () => {
      reference = await applicationInOneProcess(fleet, exports, range);
      const pipeline = await startPipeline('application-crash');
      const ipc = pipeline.ipcIngestor;
      if (ipc === undefined) throw new Error('the pipeline runs no ipc-ingestor');
      const buses = pipeline.buses();
      try {
        const half = Math.floor(exports.length / 2);
        for (const messages of exports.slice(0, half)) await buses.home.publish(pipeline.topics.otlpMetrics, messages);
        // Mid-stream: the ingestor holds every bucket open, some of it only in memory.
        await new Promise((resolve) => setTimeout(resolve, 500));
        backlog = (await ipc.metrics()).filter((s) => s.name === 'topology_ipc_ingestor_replay_backlog_records').reduce((sum, s) => sum + s.value, 0);
        await ipc.kill9();
        for (const messages of exports.slice(half, half + 3)) await buses.home.publish(pipeline.topics.otlpMetrics, messages);
        await pipeline.restart(ipc);
        for (const messages of exports.slice(half + 3)) await buses.home.publish(pipeline.topics.otlpMetrics, messages);
        await pipeline.waitQuiet(120_000, 1_500, ['ipc-ingestor']);
        edges = await readApplicationEdgesOverGrpc(pipeline.grpcAddress, roots, range);
        map = await readApplicationStore(pipeline.dataDir, range);
      } finally {
        await buses.close();
        await pipeline.stop();
      }
    });

    it('had calls in memory that a restart must read again when it was killed', () => {
      expect(backlog).toBeGreaterThan(0);
    });

    it('ends with the per-edge call counts of a run without the crash, read over gRPC: nothing lost, nothing counted twice', () => {
      expect(callsOf(edges)).toEqual(callsOfMap(reference));
    });

    it('ends with the same buckets, counts and latencies as the run without the crash', () => {
      expect(applicationDifferences(map, reference)).toEqual([]);
    });
  });
});
