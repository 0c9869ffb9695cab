import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fleetTruth, generateTraffic, planFleet, type SimulationBatch } from '@topology/sim';
import type { MetricSample } from './lib/app-process';
import { FleetPublisher } from './lib/fleet-publisher';
import { LocalBroker } from './lib/local-broker';
import { LocalPipeline } from './lib/local-pipeline';
import { mapDifferences, mapInOneProcess, readEdgesOverGrpc, readStoreMap, type NetworkMap } from './lib/network-map';
import { describeWithKafka, runPrefix, testBrokers } from './lib/with-kafka';

jest.setTimeout(600_000);

/** The second region's cluster: a broker of its own, ports clear of the default one's (19092, 19093). */
const EU_PORT = Number(process.env['KAFKA_SECOND_PORT'] ?? 19096);

describeWithKafka('a flow-ingestor reading one Kafka cluster per region', () => {
  const fleet = planFleet({ seed: 42, apps: 40, minutes: 3 });
  const truth = fleetTruth(fleet);
  const range = { fromMs: fleet.startMs, toMs: fleet.endMs + 60_000 };
  const batches: SimulationBatch[] = [...generateTraffic(fleet)];
  const regionOf = new Map(fleet.clusters.map((c) => [`cluster:${c.name}`, c.region]));
  const crossRegion = truth.clusterEdges.filter((e) => regionOf.has(e.src) && regionOf.has(e.dst) && regionOf.get(e.src) !== regionOf.get(e.dst));
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-regions-'));
  const eu = new LocalBroker(EU_PORT);
  let reference: NetworkMap;
  let map: NetworkMap;
  let clusterEdges: { edge: string; vias: string[] }[];
  let ingestorMetrics: MetricSample[];
  let published: Map<string, number>;

  beforeAll(async () => {
    reference = await mapInOneProcess(fleet, batches, range);
    await eu.start();
    const home = testBrokers ?? '';
    const pipeline = await LocalPipeline.start({
      brokers: home,
      runDir,
      prefix: runPrefix('regions'),
      regions: [
        { region: 'us-east-1', brokers: home },
        { region: 'eu-west-1', brokers: eu.brokers },
      ],
    });
    const buses = pipeline.buses();
    published = new Map();
    try {
      const publisher = new FleetPublisher(fleet, {
        topics: pipeline.topics,
        home: buses.home,
        regionBus: (region) => {
          published.set(region, (published.get(region) ?? 0) + 1);
          return buses.regions.get(region) ?? buses.home;
        },
      });
      await pipeline.waitForMetadata(await publisher.publishMetadata(batches[0] as SimulationBatch));
      for (const batch of batches) await publisher.publishRecords(batch);
      await pipeline.waitQuiet();
      map = await readStoreMap(pipeline.dataDir, range);
      clusterEdges = (await readEdgesOverGrpc(pipeline.grpcAddress, fleet.clusters.map((c) => `cluster:${c.name}`), 'GRANULARITY_CLUSTER', range)).map((e) => ({
        edge: `${e.src} -> ${e.dst}`,
        vias: (e.network?.paths ?? []).map((p) => p.via.join(' > ')).sort(),
      }));
      ingestorMetrics = await pipeline.ingestor.metrics();
    } finally {
      await buses.close();
      await pipeline.stop();
      await eu.stop();
      fs.rmSync(runDir, { recursive: true, force: true });
    }
  });

  it('is a fleet whose records come from both regions, with dependencies across them', () => {
    expect([...published.keys()].sort()).toEqual(['eu-west-1', 'us-east-1']);
    expect(crossRegion.length).toBeGreaterThan(5);
  });

  it('reads each region from its own cluster, the scopes named by region', () => {
    const inputs = new Set(ingestorMetrics.filter((s) => s.name === 'topology_flow_ingestor_consumer_position' && s.value > 0).map((s) => s.labels['input']));
    expect(inputs).toEqual(new Set(['us-east-1', 'eu-west-1']));
  });

  it('finds every cross-region dependency with its true via paths', () => {
    const got = new Map(clusterEdges.map((e) => [e.edge, e.vias]));
    const wrong = crossRegion.filter((t) => JSON.stringify(got.get(`${t.src} -> ${t.dst}`)) !== JSON.stringify(t.vias.map((v) => v.join(' > ')).sort()));
    expect(wrong.map((t) => `${t.src} -> ${t.dst}`)).toEqual([]);
  });

  it('finds exactly the true dependencies and nothing else', () => {
    expect(new Set(clusterEdges.map((e) => e.edge))).toEqual(new Set(truth.clusterEdges.map((e) => `${e.src} -> ${e.dst}`)));
  });

  it('counts what one cluster for all regions counts', () => {
    expect(mapDifferences(map, reference)).toEqual([]);
  });
});
