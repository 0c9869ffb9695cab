import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { InProcessBus } from '@topology/bus-in-process';
import { EmbeddedGraphStore } from '@topology/graph-store-embedded';
import { networkBucketMerger, systemClock, type EdgeRecord, type NetworkEdgeProps, type TimeRange } from '@topology/model';
import { createTopologyClient, type EdgeMessage, type GranularityName } from '@topology/runtime-gateway';
import { DEFAULT_TOPICS, EnrichStage, FlowIngestStage, ResolveStage, networkStageConfigs, networkTopicSpecs, type NetworkWindowSettings } from '@topology/runtime-pipeline';
import type { Fleet, SimulationBatch } from '@topology/sim';
import { Registry } from 'prom-client';
import { FleetPublisher } from './fleet-publisher';

/** What the network layer says about one edge over a range, in a form two runs can be compared in. */
export interface EdgeSummary {
  hop: boolean;
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  connections: number;
  retransmits: number;
  confidence: number;
  ports: string[];
  paths: { via: string; bytes: number }[];
}

/** Every edge of the network layer at both granularities, by `<granularity> <src> -> <dst>`. */
export type NetworkMap = Map<string, EdgeSummary>;

/**
 * Window settings of runs that publish a simulated fleet much faster than real time. A flow held
 * back for an owner waits up to holdBackMs of processing time, while event time races ahead; with
 * the default lateness, which held flows find their window closed would depend on the speed of the
 * machine. Windows that stay open for the whole run make every run count the same.
 */
export const FAST_REPLAY_WINDOWS: NetworkWindowSettings = { windowMs: 10_000, bucketMs: 60_000, maxOutOfOrderMs: 5_000, allowedLatenessMs: 600_000, holdBackMs: 15_000 };

function summary(props: NetworkEdgeProps): EdgeSummary {
  return {
    hop: props.hop,
    bytesSent: props.bytesSent,
    bytesReceived: props.bytesReceived,
    packetsSent: props.packetsSent,
    packetsReceived: props.packetsReceived,
    connections: props.connections,
    retransmits: props.retransmits,
    confidence: props.confidence,
    ports: props.ports.map((p) => `${p.port}/${p.protocol}`).sort(),
    paths: props.paths.map((p) => ({ via: p.via.join(' > '), bytes: p.bytes })).sort((a, b) => (a.via < b.via ? -1 : a.via > b.via ? 1 : 0)),
  };
}

function toMap(edges: EdgeRecord[], into: NetworkMap = new Map()): NetworkMap {
  for (const e of edges) if (e.props.network !== undefined) into.set(`${e.granularity} ${e.src} -> ${e.dst}`, summary(e.props.network));
  return into;
}

/** Reads the network layer of an embedded store (read-only, as the query gateway does). */
export async function readStoreMap(dataDir: string, range: TimeRange, bucketMs = FAST_REPLAY_WINDOWS.bucketMs): Promise<NetworkMap> {
  const store = await EmbeddedGraphStore.open<NetworkEdgeProps>({ dir: dataDir, layer: 'network', bucketMs, readonly: true }, networkBucketMerger);
  try {
    const map = toMap(await store.listEdges({ granularity: 'cluster', range }));
    return toMap(await store.listEdges({ granularity: 'app', range }), map);
  } finally {
    await store.close();
  }
}

/**
 * The map the all-in-one makes of the batches: the same three stages over the in-process bus into
 * an embedded store, drained after the last batch. With `enrichers` above one, that many enricher
 * instances share stage 3's consumer group (and its partitions) and write the one store.
 */
export async function mapInOneProcess(fleet: Fleet, batches: Iterable<SimulationBatch>, range: TimeRange, windows: NetworkWindowSettings = FAST_REPLAY_WINDOWS, enrichers = 1): Promise<NetworkMap> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-reference-'));
  const bus = new InProcessBus({ defaultPartitions: 4 });
  await bus.ensureTopics(networkTopicSpecs(DEFAULT_TOPICS, 4));
  const store = await EmbeddedGraphStore.open<NetworkEdgeProps>({ dir, layer: 'network', bucketMs: windows.bucketMs }, networkBucketMerger);
  const common = { bus, clock: systemClock, registry: new Registry(), instanceId: 'reference', flushIntervalMs: 250, maxPendingRecords: 20_000, log: () => undefined };
  const configs = networkStageConfigs(windows);
  const enrich = Array.from({ length: enrichers }, (_, i) => new EnrichStage({ ...common, registry: new Registry(), instanceId: `reference-${i}`, store, retentionMs: 20 * 365 * 86_400_000, enricher: configs.enricher }));
  const resolve = new ResolveStage({ ...common, resolver: configs.resolver });
  const ingest = new FlowIngestStage({ ...common, region: 'local', ingestor: configs.ingestor });
  const stages = [ingest, resolve, ...enrich];
  try {
    for (const stage of [...enrich, resolve, ingest]) await stage.start();
    const publisher = new FleetPublisher(fleet, { topics: DEFAULT_TOPICS, home: bus });
    for (const batch of batches) await publisher.publish(batch);
    for (let round = 0; round < 12; round++) {
      const before = bus.counters.get('messages_published');
      for (const stage of stages) {
        await bus.settled();
        await stage.flushNow();
      }
      await bus.settled();
      if (bus.counters.get('messages_published') === before) break;
    }
    const map = toMap(await store.listEdges({ granularity: 'cluster', range }));
    return toMap(await store.listEdges({ granularity: 'app', range }), map);
  } finally {
    for (const stage of stages) await stage.stop();
    await bus.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Differences between two maps (at most `limit`), numbers compared to a relative 1e-9 (float sums in another order). */
export function mapDifferences(actual: NetworkMap, expected: NetworkMap, limit = 10): string[] {
  const out: string[] = [];
  for (const [key, want] of expected) {
    if (out.length >= limit) break;
    const got = actual.get(key);
    if (got === undefined) out.push(`missing ${key}`);
    else if (!same(got, want)) out.push(`differs ${key}: ${JSON.stringify(got)} instead of ${JSON.stringify(want)}`);
  }
  for (const key of actual.keys()) {
    if (out.length >= limit) break;
    if (!expected.has(key)) out.push(`extra ${key}`);
  }
  return out;
}

function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

/** Every dependency edge (hops excluded) leaving the roots, read over gRPC page by page. */
export async function readEdgesOverGrpc(address: string, roots: string[], granularity: GranularityName, range: TimeRange): Promise<EdgeMessage[]> {
  const client = createTopologyClient(address);
  const edges = new Map<string, EdgeMessage>();
  try {
    for (let i = 0; i < roots.length; i += 100) {
      let pageToken = '';
      do {
        const page = await client.traverse({ roots: roots.slice(i, i + 100), direction: 'DIRECTION_DOWN', depth: 1, granularity, range, pageSize: 1000, pageToken });
        const failed = page.layerStatus.filter((s) => s.state !== 'STATE_OK');
        if (failed.length > 0) throw new Error(`layer failed: ${JSON.stringify(failed)}`);
        for (const e of page.edges) edges.set(`${e.src} ${e.dst}`, e);
        pageToken = page.nextPageToken;
      } while (pageToken !== '');
    }
  } finally {
    client.close();
  }
  return [...edges.values()];
}
