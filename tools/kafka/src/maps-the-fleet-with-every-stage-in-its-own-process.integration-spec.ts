import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fleetTruth, generateTraffic, planFleet, type FleetTruth, type SimulationBatch } from '@topology/sim';
import type { EdgeMessage } from '@topology/runtime-gateway';
import { FleetPublisher } from './lib/fleet-publisher';
import { LocalPipeline } from './lib/local-pipeline';
import { mapDifferences, mapInOneProcess, readEdgesOverGrpc, readStoreMap, type NetworkMap } from './lib/network-map';
import type { MetricSample } from './lib/app-process';
import { TraceCapture } from './lib/trace-capture';
import { describeWithKafka, runPrefix, testBrokers } from './lib/with-kafka';

jest.setTimeout(600_000);

function score(actual: EdgeMessage[], truth: FleetTruth['appEdges']): { missing: string[]; extra: string[] } {
  const got = new Set(actual.map((e) => `${e.src} -> ${e.dst}`));
  const want = new Set(truth.map((e) => `${e.src} -> ${e.dst}`));
  return { missing: [...want].filter((k) => !got.has(k)).slice(0, 10), extra: [...got].filter((k) => !want.has(k)).slice(0, 10) };
}

function wrongVias(edges: EdgeMessage[], truth: FleetTruth['clusterEdges']): string[] {
  const got = new Map(edges.map((e) => [`${e.src} -> ${e.dst}`, (e.network?.paths ?? []).map((p) => p.via.join(' > ')).sort()]));
  return truth.filter((t) => JSON.stringify(got.get(`${t.src} -> ${t.dst}`)) !== JSON.stringify(t.vias.map((v) => v.join(' > ')).sort())).map((t) => `${t.src} -> ${t.dst}`);
}

describeWithKafka('the network stages, each in its own process over Kafka', () => {
  const brokers = testBrokers ?? '';
  const fleet = planFleet({ seed: 42, apps: 40, minutes: 3 });
  const truth = fleetTruth(fleet);
  const range = { fromMs: fleet.startMs, toMs: fleet.endMs + 60_000 };
  const batches: SimulationBatch[] = [...generateTraffic(fleet)];
  const appRoots = fleet.apps.map((a) => `app:${a.name}`);
  const clusterRoots = fleet.clusters.map((c) => `cluster:${c.name}`);
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-processes-'));
  let reference: NetworkMap;

  beforeAll(async () => {
    reference = await mapInOneProcess(fleet, batches, range);
  });

  afterAll(() => {
    fs.rmSync(runDir, { recursive: true, force: true });
  });

  it('has an all-in-one reference that maps the fleet exactly', () => {
    const edges = [...reference.keys()].filter((k) => k.startsWith('app ') && reference.get(k)?.hop === false);
    expect(new Set(edges.map((k) => k.slice(4)))).toEqual(new Set(truth.appEdges.map((e) => `${e.src} -> ${e.dst}`)));
  });

  describe('fed the simulated fleet through Kafka', () => {
    let pipeline: LocalPipeline;
    let traces: TraceCapture;
    let appEdges: EdgeMessage[];
    let clusterEdges: EdgeMessage[];
    let map: NetworkMap;
    let resolverMetrics: MetricSample[];
    let exitCodes: Record<string, number | null>;

    beforeAll(async () => {
      traces = await TraceCapture.start();
      pipeline = await LocalPipeline.start({
        brokers,
        runDir: path.join(runDir, 'clean'),
        prefix: runPrefix('processes'),
        envOf: { 'intermediary-resolver-1': { TOPOLOGY_TRACING: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: traces.endpoint, OTEL_BSP_SCHEDULE_DELAY: '200' } },
      });
      const buses = pipeline.buses();
      try {
        const publisher = new FleetPublisher(fleet, { topics: pipeline.topics, home: buses.home });
        await pipeline.waitForMetadata(await publisher.publishMetadata(batches[0] as SimulationBatch));
        for (const batch of batches) await publisher.publishRecords(batch);
      } finally {
        await buses.close();
      }
      await pipeline.waitQuiet();
      appEdges = await readEdgesOverGrpc(pipeline.grpcAddress, appRoots, 'GRANULARITY_APP', range);
      clusterEdges = await readEdgesOverGrpc(pipeline.grpcAddress, clusterRoots, 'GRANULARITY_CLUSTER', range);
      map = await readStoreMap(pipeline.dataDir, range);
      resolverMetrics = await (pipeline.resolvers[0] as { metrics(): Promise<MetricSample[]> }).metrics();
      exitCodes = await pipeline.stop();
    });

    afterAll(async () => {
      await pipeline?.stop();
      await traces?.close();
    });

    it('finds exactly the true app-level dependencies, read over gRPC from the query gateway', () => {
      expect(score(appEdges, truth.appEdges)).toEqual({ missing: [], extra: [] });
    });

    it('finds exactly the true cluster-level dependencies, each with its true via paths', () => {
      expect(score(clusterEdges, truth.clusterEdges)).toEqual({ missing: [], extra: [] });
      expect(wrongVias(clusterEdges, truth.clusterEdges).slice(0, 5)).toEqual([]);
    });

    it('writes the same edges, hops and counts as the all-in-one', () => {
      expect(mapDifferences(map, reference)).toEqual([]);
    });

    it('exports consumer lag, position and replay backlog per partition', () => {
      const partial = (name: string) => resolverMetrics.filter((s) => s.name === name && s.labels['topic'] === pipeline.topics.flowsPartial);
      expect(partial('topology_intermediary_resolver_consumer_lag_records').map((s) => s.value)).toEqual([0, 0, 0, 0]);
      expect(partial('topology_intermediary_resolver_consumer_position').every((s) => s.value > 0)).toBe(true);
      expect(partial('topology_intermediary_resolver_replay_backlog_records')).toHaveLength(4);
      expect(resolverMetrics.some((s) => s.name === 'topology_intermediary_resolver_consumed_records_total' && s.value > 0)).toBe(true);
    });

    it('traces the batches and flushes of the app that has tracing turned on', () => {
      const names = new Set(traces.spans.filter((s) => s.service === 'topology-intermediary-resolver').map((s) => s.name));
      expect(names).toEqual(new Set(['intermediary-resolver process', 'intermediary-resolver flush']));
      expect(traces.spans.find((s) => s.name === 'intermediary-resolver process')?.attributes['messaging.destination.name']).toBe(pipeline.topics.flowsPartial);
      expect(traces.spans.some((s) => s.service !== 'topology-intermediary-resolver')).toBe(false);
    });

    it('drains, commits and exits 0 on SIGTERM', () => {
      expect(exitCodes).toEqual({ 'flow-ingestor': 0, 'intermediary-resolver-1': 0, enricher: 0, 'query-gateway': 0 });
    });
  });

  describe('with each stage killed (SIGKILL) in turn mid-stream and restarted', () => {
    let map: NetworkMap;
    let appEdges: EdgeMessage[];
    let replayed: Record<string, number>;

    beforeAll(async () => {
      const pipeline = await LocalPipeline.start({ brokers, runDir: path.join(runDir, 'crashes'), prefix: runPrefix('crashes') });
      const buses = pipeline.buses();
      replayed = {};
      try {
        const publisher = new FleetPublisher(fleet, { topics: pipeline.topics, home: buses.home });
        await pipeline.waitForMetadata(await publisher.publishMetadata(batches[0] as SimulationBatch));
        const victims = [pipeline.ingestor, pipeline.resolvers[0], pipeline.enricher];
        const part = Math.ceil(batches.length / (victims.length + 1));
        for (let i = 0; i < batches.length; i++) {
          await publisher.publishRecords(batches[i] as SimulationBatch);
          const victim = (i + 1) % part === 0 ? victims[(i + 1) / part - 1] : undefined;
          if (victim === undefined) continue;
          // Mid-stream: the stage is still working through what was just published.
          await new Promise((resolve) => setTimeout(resolve, 300));
          const before = await victim.metrics();
          replayed[victim.label] = before.filter((s) => s.name.endsWith('_replay_backlog_records')).reduce((sum, s) => sum + s.value, 0);
          await victim.kill9();
          await pipeline.restart(victim);
        }
        await pipeline.waitQuiet();
        map = await readStoreMap(pipeline.dataDir, range);
        appEdges = await readEdgesOverGrpc(pipeline.grpcAddress, appRoots, 'GRANULARITY_APP', range);
      } finally {
        await buses.close();
        await pipeline.stop();
      }
    });

    it('had state in memory that a restart must read again when each stage was killed', () => {
      expect(Object.keys(replayed).sort()).toEqual(['enricher', 'flow-ingestor', 'intermediary-resolver-1']);
      for (const backlog of Object.values(replayed)) expect(backlog).toBeGreaterThan(0);
    });

    it('ends with the counts of a run without crashes: nothing lost, nothing counted twice', () => {
      expect(mapDifferences(map, reference)).toEqual([]);
    });

    it('still finds exactly the true dependencies', () => {
      expect(score(appEdges, truth.appEdges)).toEqual({ missing: [], extra: [] });
    });
  });
});
