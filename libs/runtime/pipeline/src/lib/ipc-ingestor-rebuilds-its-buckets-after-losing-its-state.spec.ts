import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { OutgoingMessage } from '@topology/bus';
import { InProcessBus } from '@topology/bus-in-process';
import { ContentTypes, Headers } from '@topology/contracts';
import { EmbeddedGraphStore } from '@topology/graph-store-embedded';
import { DEFAULT_IPC_INGESTOR_CONFIG, applicationBucketMerger, encodeMetricsRequestObject, type IpcIngestorConfig } from '@topology/ipc-ingest';
import { ManualClock, type ApplicationEdgeProps, type GraphLayerStore, type NodeId } from '@topology/model';
import { Registry } from 'prom-client';
import { PartitionLog } from '../testing/partition-log';
import { IpcIngestStage } from './ipc-ingest.stage';
import { pipelineTopics } from './topic-names';

const T0 = Date.UTC(2026, 0, 1);
const INTERVAL_MS = 20_000;
const topics = pipelineTopics('test.');

/** A stream of exports, the partitions it is spread over, and the ingestor that reads it. */
interface Scenario {
  partitions: number;
  intervals: number;
  ingestor: IpcIngestorConfig;
  exports: () => { topic: string; messages: OutgoingMessage[] }[];
  apps: string[];
}

/** A small PRNG so every run publishes the same calls. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

type Attr = { key: string; value: { stringValue: string } };
const str = (key: string, value: string): Attr => ({ key, value: { stringValue: value } });
const nanos = (ms: number) => String(BigInt(ms) * 1_000_000n);

interface Call {
  client: string;
  server: string;
  failed: boolean;
}

/**
 * The exports of four clients calling three servers, interval by interval. Clients c0 and c1
 * export cumulative histograms (keyed by service, so each series stays in one partition, in order);
 * c2 and c3 delta ones, unkeyed (spread round-robin, as the Collector's Kafka exporter does). Server
 * s0 does not name its callers (cumulative), s1 does (delta); s2 reports through its Istio sidecar
 * (Prometheus text on `ipc.metrics.v1`, cumulative, two scrape messages an interval). Each
 * partition gets about as many messages of each interval as the others, so partitions read in
 * step stay close in event time, as they do on Kafka. A nightly job (cumulative, keyed) calls s1
 * only at the start and at the end.
 */
function fleetExports(): { topic: string; messages: OutgoingMessage[] }[] {
  const next = random(11);
  const clients = ['c0', 'c1', 'c2', 'c3'];
  const servers = ['s0', 's1', 's2'];
  const totals = new Map<string, { count: number; buckets: number[] }>();
  const out: { topic: string; messages: OutgoingMessage[] }[] = [];
  for (let i = 0; i < FLEET.intervals; i++) {
    const startMs = T0 + i * INTERVAL_MS;
    const endMs = startMs + INTERVAL_MS;
    const calls = new Map<string, number>();
    for (const client of clients) {
      for (const server of servers) {
        if (next() < 0.2) continue;
        const n = 1 + Math.floor(next() * 30);
        const failed = Math.floor(next() * 3);
        calls.set(JSON.stringify({ client, server, failed: false }), n - failed);
        if (failed > 0) calls.set(JSON.stringify({ client, server, failed: true }), failed);
      }
    }
    const points = new Map<string, { metric: string; cumulative: boolean; points: Record<string, unknown>[] }>();
    const add = (reporter: string, side: 'client' | 'server', call: Call, n: number, cumulative: boolean, namesPeer: boolean) => {
      const attributes = [str('rpc.system.name', 'grpc'), str('rpc.method', `${call.server}.v1.Api/Get`), str('rpc.status_code', call.failed ? 'UNAVAILABLE' : 'OK')];
      if (namesPeer) attributes.push(str('service.peer.name', side === 'client' ? call.server : call.client));
      const buckets = [Math.floor(n / 2), n - Math.floor(n / 2), 0];
      let count = n;
      let startTime = startMs;
      if (cumulative) {
        const key = `${reporter} ${side} ${JSON.stringify(attributes)}`;
        const total = totals.get(key) ?? { count: 0, buckets: [0, 0, 0] };
        total.count += n;
        total.buckets = total.buckets.map((b, k) => b + (buckets[k] as number));
        totals.set(key, total);
        count = total.count;
        buckets.splice(0, 3, ...total.buckets);
        startTime = T0 - 86_400_000;
      }
      const metric = `rpc.${side}.call.duration`;
      const entry = points.get(reporter) ?? { metric, cumulative, points: [] };
      points.set(reporter, entry);
      entry.points.push({ attributes, startTimeUnixNano: nanos(startTime), timeUnixNano: nanos(endMs), count, bucketCounts: buckets, explicitBounds: [0.01, 0.1] });
    };
    // A nightly job calls s1 only at the start and the end: its series' last increase is taken from a point long closed.
    if (i < 3 || i >= 12) {
      calls.set(JSON.stringify({ client: 'nightly', server: 's1', failed: false }), 5 + i);
    }
    const istio: string[][] = [[], []];
    for (const [key, n] of calls) {
      const call = JSON.parse(key) as Call;
      add(call.client, 'client', call, n, call.client === 'c0' || call.client === 'c1' || call.client === 'nightly', true);
      if (call.server === 's0') add('s0', 'server', call, n, true, false);
      if (call.server === 's1') add('s1', 'server', call, n, false, true);
    }
    // The sidecar's counters: every (caller, outcome) of s2 seen so far, at its running total.
    for (const [k, client] of clients.entries()) {
      for (const failed of [false, true]) {
        const n = calls.get(JSON.stringify({ client, server: 's2', failed })) ?? 0;
        const key = `istio ${client} ${failed}`;
        const total = (totals.get(key)?.count ?? 0) + n;
        if (total === 0) continue;
        totals.set(key, { count: total, buckets: [] });
        const labels = `reporter="destination",source_workload="${client}-v1",source_canonical_service="${client}",destination_workload="s2-v1",destination_canonical_service="s2",request_protocol="http",response_code="${failed ? 503 : 200}"`;
        istio[k % 2]?.push(`istio_requests_total{${labels}} ${total} ${endMs}`);
      }
    }
    const otlp: OutgoingMessage[] = [];
    for (const [reporter, entry] of points) {
      const value = encodeMetricsRequestObject({
        resourceMetrics: [
          {
            resource: { attributes: [str('service.name', reporter), str('service.instance.id', `${reporter}-1`)] },
            scopeMetrics: [{ metrics: [{ name: entry.metric, unit: 's', histogram: { aggregationTemporality: entry.cumulative ? 2 : 1, dataPoints: entry.points } }] }],
          },
        ],
      });
      otlp.push({ key: entry.cumulative ? reporter : null, value });
    }
    out.push({ topic: topics.otlpMetrics, messages: otlp });
    out.push({ topic: topics.ipcMetrics, messages: istio.map((lines) => ({ key: 's2', value: Buffer.from(lines.join('\n') + '\n'), headers: { [Headers.contentType]: ContentTypes.prometheusText } })) });
  }
  return out;
}

/** Minute buckets that close two minutes after their end: the first ones close while the stream is read. */
const FLEET: Scenario = {
  partitions: 3,
  intervals: 15,
  ingestor: { ...DEFAULT_IPC_INGESTOR_CONFIG, bucketMs: 60_000, allowedLatenessMs: 120_000 },
  exports: fleetExports,
  apps: ['c0', 'c1', 'c2', 'c3', 'nightly', 's0', 's1', 's2'],
};

/** One delta export of `service` (its instance `instance`) calling `peer`, and optionally a cumulative point of a second series. */
function exportOf(service: string, instance: string, peer: string, calls: number, endMs: number, cumulative?: { service: string; count: number }): OutgoingMessage {
  const point = (count: number, startMs: number) => ({
    attributes: [str('rpc.system.name', 'grpc'), str('rpc.method', `${peer}.v1.Api/Get`), str('rpc.status_code', 'OK'), str('service.peer.name', peer)],
    startTimeUnixNano: nanos(startMs),
    timeUnixNano: nanos(endMs),
    count,
    bucketCounts: [count, 0],
    explicitBounds: [0.1],
  });
  const resource = (name: string, id: string, temporality: number, dataPoint: Record<string, unknown>) => ({
    resource: { attributes: [str('service.name', name), str('service.instance.id', id)] },
    scopeMetrics: [{ metrics: [{ name: 'rpc.client.call.duration', unit: 's', histogram: { aggregationTemporality: temporality, dataPoints: [dataPoint] } }] }],
  });
  const resourceMetrics = [resource(service, instance, 1, point(calls, endMs - INTERVAL_MS))];
  if (cumulative) resourceMetrics.push(resource(cumulative.service, `${cumulative.service}-1`, 2, point(cumulative.count, T0 - 86_400_000)));
  return { key: null, value: encodeMetricsRequestObject({ resourceMetrics }) };
}

/**
 * Two partitions in strict turn: service a's two instances export one to each, so each of a's
 * buckets is built from both partitions; the second also carries a nightly job's cumulative series,
 * which reports at the start and at the end only. A restart reads the second partition again from
 * the nightly's early point, the first only from its oldest open bucket: the first catches up and
 * reads new calls long before the second has read its half of the open buckets again.
 */
const SKEWED: Scenario = {
  partitions: 2,
  intervals: 30,
  ingestor: { ...DEFAULT_IPC_INGESTOR_CONFIG, bucketMs: 60_000, allowedLatenessMs: 60_000 },
  exports: () => {
    const messages: OutgoingMessage[] = [];
    let nightly = 0;
    for (let i = 0; i < 30; i++) {
      const endMs = T0 + (i + 1) * INTERVAL_MS;
      const reports = i < 2 || i >= 28;
      if (reports) nightly += 10 + i;
      messages.push(exportOf('a', 'a-1', 'x', 10 + (i % 7), endMs), exportOf('a', 'a-2', 'x', 20 + (i % 5), endMs, reports ? { service: 'nightly', count: nightly } : undefined));
    }
    return [{ topic: topics.otlpMetrics, messages }];
  },
  apps: ['a', 'nightly', 'x'],
};

/** A store that stops taking writes once the process that holds it has died. */
function mortal(store: GraphLayerStore<ApplicationEdgeProps>): { store: GraphLayerStore<ApplicationEdgeProps>; die: () => void } {
  let dead = false;
  const unlessDead = async (write: () => Promise<void>) => (dead ? undefined : write());
  const wrapped: GraphLayerStore<ApplicationEdgeProps> = Object.create(store, {
    upsertNodes: { value: (nodes: Parameters<typeof store.upsertNodes>[0]) => unlessDead(() => store.upsertNodes(nodes)) },
    putEdgeBuckets: { value: (buckets: Parameters<typeof store.putEdgeBuckets>[0]) => unlessDead(() => store.putEdgeBuckets(buckets)) },
    deleteEdgeBuckets: { value: async (refs: Parameters<typeof store.deleteEdgeBuckets>[0]) => (dead ? 0 : store.deleteEdgeBuckets(refs)) },
  }) as GraphLayerStore<ApplicationEdgeProps>;
  return {
    store: wrapped,
    die: () => {
      dead = true;
    },
  };
}

interface RunResult {
  /** Every edge per bucket and over the whole range, and every node. */
  layer: Record<string, unknown>;
  /** Whether the restarted stage had to read again messages the lost one had handled. */
  replayed: boolean;
  skippedOfClosedBuckets: number;
}

/**
 * Reads the exports batch by batch through the stage; after `crashAfter` rounds the process dies
 * (nothing it holds reaches the store any more) and a new stage takes over from the committed
 * checkpoints.
 */
async function run(crashAfter: number | undefined, { scenario = FLEET, commitAfterBatch = false }: { scenario?: Scenario; commitAfterBatch?: boolean } = {}): Promise<RunResult> {
  const { partitions, ingestor } = scenario;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-ipc-'));
  const clock = new ManualClock(T0 + 3_600_000);
  const store = await EmbeddedGraphStore.open<ApplicationEdgeProps>({ dir, layer: 'application', bucketMs: 60_000 }, applicationBucketMerger);
  const bus = new InProcessBus({ clock, defaultPartitions: partitions });
  const log = new PartitionLog(partitions, commitAfterBatch);
  for (const { topic, messages } of scenario.exports()) log.append(topic, messages);
  const ends = async (topic: string) => {
    const out = new Map<number, number>();
    for (let p = 0; p < partitions; p++) out.set(p, await log.partitionEnd(topic, p));
    return out;
  };
  const start = async (instance: string) => {
    const process = mortal(store);
    const stage = new IpcIngestStage({
      bus,
      clock,
      registry: new Registry(),
      instanceId: instance,
      flushIntervalMs: 10,
      maxPendingRecords: 1,
      log: () => undefined,
      input: log,
      broadcastEnds: ends,
      topics,
      store: process.store,
      retentionMs: 20 * 365 * 86_400_000,
      ingestor,
    });
    await stage.start();
    return { stage, die: process.die };
  };
  try {
    let current = await start('first');
    let replayed = false;
    for (let round = 1; await log.deliver(2); round++) {
      clock.advance(1_000);
      if (round !== crashAfter) continue;
      for (const topic of [topics.otlpMetrics, topics.ipcMetrics]) {
        for (let p = 0; p < partitions; p++) if (log.committedOffset('ipc-ingestor', topic, p) < Math.min(round * 2, await log.partitionEnd(topic, p))) replayed = true;
      }
      current.die();
      await current.stage.stop();
      current = await start('second');
    }
    await current.stage.stop();
    const layer: Record<string, unknown> = {};
    const range = { fromMs: T0, toMs: T0 + 3_600_000 };
    for (const e of await store.listEdges({ granularity: 'app', range })) layer[`all ${e.src} -> ${e.dst}`] = e.props.application;
    for (let bucket = T0; bucket < T0 + scenario.intervals * INTERVAL_MS; bucket += 60_000) {
      for (const e of await store.listEdges({ granularity: 'app', range: { fromMs: bucket, toMs: bucket + 60_000 } })) layer[`${bucket - T0} ${e.src} -> ${e.dst}`] = e.props.application;
    }
    const apps = scenario.apps.map((a) => `app:${a}` as NodeId);
    for (const n of await store.getNodes(apps)) layer[n.id] = { health: n.health, firstSeenMs: n.firstSeenMs, lastSeenMs: n.lastSeenMs };
    return { layer, replayed, skippedOfClosedBuckets: current.stage.ingestor.counters.get('replayed_points_of_closed_buckets') };
  } finally {
    await bus.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('the ipc-ingestor restarted without its memory', () => {
  let uninterrupted: RunResult;

  beforeAll(async () => {
    uninterrupted = await run(undefined);
  });

  it('reads a stream whose buckets close while it runs, with both views of edges, cumulative and delta series', () => {
    const edges = Object.keys(uninterrupted.layer).filter((k) => k.startsWith('all '));
    expect(edges.length).toBe(13);
    expect(new Set(Object.keys(uninterrupted.layer).filter((k) => !k.startsWith('all ') && !k.startsWith('app:')).map((k) => k.split(' ')[0]))).toEqual(
      new Set(['0', '60000', '120000', '180000', '240000']),
    );
    // s0 names no caller, yet it reports the calls its callers describe.
    const toS0 = uninterrupted.layer['all app:c2 -> app:s0'] as ApplicationEdgeProps;
    expect([toS0.calls > 0, toS0.serverReported]).toEqual([true, true]);
  });

  it.each([3, 6, 9, 11, 14])('writes the same buckets and nodes when it dies after %i rounds', async (crashAfter) => {
    const crashed = await run(crashAfter);
    expect(crashed.replayed).toBe(true);
    expect(crashed.layer).toEqual(uninterrupted.layer);
  });

  it('skips re-read points of buckets it had closed and written before it died', async () => {
    expect((await run(14)).skippedOfClosedBuckets).toBeGreaterThan(0);
  });

  it('would lose calls if offsets were committed after each batch', async () => {
    const crashed = await run(9, { commitAfterBatch: true });
    expect(crashed.layer).not.toEqual(uninterrupted.layer);
  });
});

describe('the ipc-ingestor restarted while one partition reads much further back than another', () => {
  let uninterrupted: RunResult;

  beforeAll(async () => {
    uninterrupted = await run(undefined, { scenario: SKEWED });
  });

  it('closes buckets while it runs, and builds each of a\'s buckets from both partitions', () => {
    const buckets = Object.entries(uninterrupted.layer).filter(([k]) => /^\d+ app:a -> app:x$/.test(k));
    expect(buckets.length).toBe(10);
    expect(buckets.every(([, props]) => (props as ApplicationEdgeProps).calls >= 3 * 30)).toBe(true);
  });

  it.each([6, 8, 10])('closes buckets only as far as the slowest partition has read until each has read what it held at the restart, when it dies after %i rounds', async (crashAfter) => {
    const crashed = await run(crashAfter, { scenario: SKEWED });
    expect(crashed.replayed).toBe(true);
    expect(crashed.layer).toEqual(uninterrupted.layer);
  });
});
