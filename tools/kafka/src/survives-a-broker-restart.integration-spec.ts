import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fleetTruth, generateTraffic, planFleet, type SimulationBatch } from '@topology/sim';
import { FleetPublisher } from './lib/fleet-publisher';
import { LocalBroker } from './lib/local-broker';
import { LocalPipeline } from './lib/local-pipeline';
import { mapDifferences, mapInOneProcess, readEdgesOverGrpc, readStoreMap, type NetworkMap } from './lib/network-map';
import { describeWithKafka } from './lib/with-kafka';

jest.setTimeout(600_000);

/** A broker of this test's own, so that restarting it disturbs no other test. */
const PORT = Number(process.env['KAFKA_RESTART_PORT'] ?? 19098);

describeWithKafka('the stages across a restart of their broker', () => {
  const fleet = planFleet({ seed: 11, apps: 40, minutes: 3 });
  const truth = fleetTruth(fleet);
  const range = { fromMs: fleet.startMs, toMs: fleet.endMs + 60_000 };
  const batches: SimulationBatch[] = [...generateTraffic(fleet)];
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-broker-restart-'));
  const broker = new LocalBroker(PORT);
  let reference: NetworkMap;
  let map: NetworkMap;
  let appEdges: string[];
  let running: boolean[];

  beforeAll(async () => {
    reference = await mapInOneProcess(fleet, batches, range);
    await broker.start();
    const pipeline = await LocalPipeline.start({ brokers: broker.brokers, runDir, prefix: `restart-${Date.now().toString(36)}.` });
    try {
      const half = Math.floor(batches.length / 2);
      const before = pipeline.buses();
      try {
        const publisher = new FleetPublisher(fleet, { topics: pipeline.topics, home: before.home });
        await pipeline.waitForMetadata(await publisher.publishMetadata(batches[0] as SimulationBatch));
        for (const batch of batches.slice(0, half)) await publisher.publishRecords(batch);
      } finally {
        await before.close();
      }
      // Mid-stream: the stages are still working through the first half.
      await broker.stop();
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await broker.start();
      // The stages reconnect and finish the first half; only then does a new exporter connection
      // publish the rest. kafkajs's idempotent producer, retrying into a broker still loading, can
      // be refused with OUT_OF_ORDER_SEQUENCE_NUMBER; a stage renews its producer and sends the
      // same output again, but an exporter that did so could write records twice.
      await pipeline.waitQuiet(300_000);
      const after = pipeline.buses();
      try {
        const publisher = new FleetPublisher(fleet, { topics: pipeline.topics, home: after.home });
        for (const batch of batches.slice(half)) await publisher.publishRecords(batch);
      } finally {
        await after.close();
      }
      await pipeline.waitQuiet(300_000);
      running = pipeline.all.map((p) => p.running);
      map = await readStoreMap(pipeline.dataDir, range);
      appEdges = (await readEdgesOverGrpc(pipeline.grpcAddress, fleet.apps.map((a) => `app:${a.name}`), 'GRANULARITY_APP', range)).map((e) => `${e.src} -> ${e.dst}`);
    } finally {
      await pipeline.stop();
      await broker.stop();
      if (process.env['KEEP_RUN'] === undefined) fs.rmSync(runDir, { recursive: true, force: true });
      else console.log(runDir);
    }
  });

  it('keeps every process running: clients reconnect, groups rejoin', () => {
    expect(running).toEqual([true, true, true, true]);
  });

  it('finishes with the counts of a run without the restart', () => {
    expect(mapDifferences(map, reference)).toEqual([]);
  });

  it('finds exactly the true dependencies', () => {
    expect(new Set(appEdges)).toEqual(new Set(truth.appEdges.map((e) => `${e.src} -> ${e.dst}`)));
  });
});
