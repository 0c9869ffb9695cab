import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fleetTruth, generateTraffic, planFleet, type SimulationBatch } from '@topology/sim';
import type { MetricSample } from './lib/app-process';
import { FleetPublisher } from './lib/fleet-publisher';
import { LocalPipeline } from './lib/local-pipeline';
import { mapDifferences, mapInOneProcess, readEdgesOverGrpc, readStoreMap, type NetworkMap } from './lib/network-map';
import { describeWithKafka, runPrefix, testBrokers } from './lib/with-kafka';

jest.setTimeout(600_000);

describeWithKafka('two intermediary-resolvers in one consumer group', () => {
  const fleet = planFleet({ seed: 7, apps: 40, minutes: 3 });
  const truth = fleetTruth(fleet);
  const range = { fromMs: fleet.startMs, toMs: fleet.endMs + 60_000 };
  const batches: SimulationBatch[] = [...generateTraffic(fleet)];
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-two-resolvers-'));
  let reference: NetworkMap;
  let map: NetworkMap;
  let appEdges: string[];
  let metrics: MetricSample[][];

  beforeAll(async () => {
    reference = await mapInOneProcess(fleet, batches, range);
    // The second instance joins mid-stream: the group rebalances while snapshots are in flight.
    const pipeline = await LocalPipeline.start({ brokers: testBrokers ?? '', runDir, prefix: runPrefix('two-resolvers'), resolvers: 2, deferred: ['intermediary-resolver-2'] });
    const buses = pipeline.buses();
    try {
      const publisher = new FleetPublisher(fleet, { topics: pipeline.topics, home: buses.home });
      await pipeline.waitForMetadata(await publisher.publishMetadata(batches[0] as SimulationBatch));
      const half = Math.floor(batches.length / 2);
      for (const batch of batches.slice(0, half)) await publisher.publishRecords(batch);
      await pipeline.restart(pipeline.resolvers[1] as LocalPipeline['resolvers'][number]);
      await pipeline.waitForMetadata(1);
      for (const batch of batches.slice(half)) await publisher.publishRecords(batch);
      await pipeline.waitQuiet();
      map = await readStoreMap(pipeline.dataDir, range);
      appEdges = (await readEdgesOverGrpc(pipeline.grpcAddress, fleet.apps.map((a) => `app:${a.name}`), 'GRANULARITY_APP', range)).map((e) => `${e.src} -> ${e.dst}`);
      metrics = await Promise.all(pipeline.resolvers.map((r) => r.metrics()));
    } finally {
      await buses.close();
      await pipeline.stop();
      fs.rmSync(runDir, { recursive: true, force: true });
    }
  });

  it('share the partitions of the partial aggregates between them', () => {
    const held = metrics.map((samples) =>
      samples.filter((s) => s.name === 'topology_intermediary_resolver_consumer_position' && s.labels['topic']?.endsWith('flows.partial.v1')).map((s) => Number(s.labels['partition'])),
    );
    for (const partitions of held) expect(partitions.length).toBeGreaterThan(0);
    expect(held.flat().sort()).toEqual([0, 1, 2, 3]);
    for (const samples of metrics) {
      const consumed = samples.filter((s) => s.name === 'topology_intermediary_resolver_consumed_records_total' && s.labels['topic']?.endsWith('flows.partial.v1'));
      expect(consumed.reduce((sum, s) => sum + s.value, 0)).toBeGreaterThan(0);
    }
  });

  it('give the map one instance gives: the same edges, hops and counts as the all-in-one', () => {
    expect(mapDifferences(map, reference)).toEqual([]);
  });

  it('find exactly the true dependencies', () => {
    expect(new Set(appEdges)).toEqual(new Set(truth.appEdges.map((e) => `${e.src} -> ${e.dst}`)));
  });
});
