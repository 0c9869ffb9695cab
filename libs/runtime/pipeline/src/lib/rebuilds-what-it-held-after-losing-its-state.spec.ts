import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { InProcessBus } from '@topology/bus-in-process';
import { ContentTypes, EdgeContributionCodec, FlowPartialSnapshotCodec, Headers, type EdgeContribution, type FlowRecord } from '@topology/contracts';
import { EmbeddedGraphStore } from '@topology/graph-store-embedded';
import { ManualClock, edgeKey, networkBucketMerger, nodeId, peerNodeId, type NetworkEdgeProps, type Peer } from '@topology/model';
import { Registry } from 'prom-client';
import { LoopbackBus, PartitionLog } from '../testing/partition-log';
import { networkStageConfigs } from './all-in-one.config';
import { EnrichStage } from './enrich.stage';
import { FlowIngestStage } from './flow-ingest.stage';
import { pipelineTopics } from './topic-names';

const T0 = Date.UTC(2026, 0, 1);
const topics = pipelineTopics();
const windows = { windowMs: 10_000, bucketMs: 60_000, maxOutOfOrderMs: 2_000, allowedLatenessMs: 5_000, holdBackMs: 6_000 };
const stages = networkStageConfigs(windows);

/** A small PRNG so the arrival order is shuffled the same way on every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Both sides of connections between four clients and three servers over eight windows, in arrival
 * order: shuffled within a window, a fifth of each window's records arriving during the next one,
 * and from window 3 on one record of three windows earlier (too late).
 */
function flowLines(): string[] {
  const next = random(7);
  const identity = (cluster: string) => ({ app: cluster.split('-')[0] as string, cluster });
  const lines: string[] = [];
  let carried: string[] = [];
  for (let w = 0; w < 8; w++) {
    const current: string[] = [];
    const connection = (windowIndex: number, i: number): string[] => {
      const start = T0 + windowIndex * 10_000 + Math.floor(next() * 9_000);
      const client = `10.0.0.${1 + (i % 4)}`;
      const server = `10.0.1.${1 + (i % 3)}`;
      const bytes = 100 + Math.floor(next() * 900);
      const base = { protocol: 'tcp', startMs: start, endMs: start + 500, packetsSent: 2, packetsReceived: 2, retransmits: 0, rttUs: 300, connections: 1 };
      const clientSide: FlowRecord = { ...base, local: { ip: client, port: 40_000 + i }, remote: { ip: server, port: 8080 }, localIdentity: identity(`c${i % 4}-prod-v001`), role: 'client', bytesSent: bytes, bytesReceived: bytes * 2 };
      const serverSide: FlowRecord = { ...base, local: { ip: server, port: 8080 }, remote: { ip: client, port: 40_000 + i }, localIdentity: identity(`s${i % 3}-prod-v001`), role: 'server', bytesSent: bytes * 2, bytesReceived: bytes };
      return [JSON.stringify(clientSide), JSON.stringify(serverSide)];
    };
    for (let i = 0; i < 20; i++) current.push(...connection(w, i));
    if (w >= 3) current.push(...connection(w - 3, 99));
    current.sort(() => next() - 0.5);
    const keep = Math.floor(current.length * 0.8);
    lines.push(...carried, ...current.slice(0, keep));
    carried = current.slice(keep);
  }
  lines.push(...carried);
  return lines;
}

/** Three lines per message, spread round-robin over the partitions. */
function flowMessages() {
  const lines = flowLines();
  const messages = [];
  for (let i = 0; i < lines.length; i += 3) {
    messages.push({ key: null, value: Buffer.from(lines.slice(i, i + 3).join('\n') + '\n'), headers: { [Headers.contentType]: ContentTypes.flowJsonLines } });
  }
  return messages;
}

function common(bus: InProcessBus | LoopbackBus, log: PartitionLog, instance: string, clock: ManualClock) {
  return { bus, clock, registry: new Registry(), instanceId: instance, flushIntervalMs: 10, maxPendingRecords: 1, log: () => undefined, input: log };
}

/**
 * Runs stage 1 over the flows, batch by batch; after `crashAfter` rounds of batches the stage is
 * dropped and a new one takes over from the committed checkpoints. Returns the latest snapshot per
 * (window, scope, key) that stage 2 would hold, and how many re-read flows the new stage skipped.
 */
async function runFlowIngest(crashAfter: number | undefined, commitAfterBatch = false): Promise<{ latest: Map<string, string>; skipped: number; replayed: boolean }> {
  const clock = new ManualClock(T0 + 3_600_000);
  const bus = new InProcessBus({ clock, defaultPartitions: 3 });
  const latest = new Map<string, string>();
  await bus.subscribe({
    topics: [topics.flowsPartial],
    groupId: 'stage-2',
    handler: async (batch) => {
      for (const m of batch.messages) {
        const s = FlowPartialSnapshotCodec.decode(m.value);
        latest.set(`${s.window.startMs - T0} ${s.scope} ${s.key}`, JSON.stringify(s.entries));
      }
    },
  });
  const log = new PartitionLog(3, commitAfterBatch);
  log.append(topics.flowsCanonical, flowMessages());
  const start = async (instance: string) => {
    const stage = new FlowIngestStage({ ...common(bus, log, instance, clock), region: 'local', ingestor: stages.ingestor });
    await stage.start();
    return stage;
  };
  let stage = await start('first');
  let replayed = false;
  for (let round = 1; await log.deliver(2); round++) {
    // Processing time runs on: ownership learned is published, and checkpoints can pass its records.
    clock.advance(1_000);
    if (round !== crashAfter) continue;
    for (let p = 0; p < 3; p++) {
      const position = Number((await log.lastCheckpoint('flow-ingestor', topics.flowsCanonical, p))?.offset ?? 0);
      if (position < round * 2) replayed = true;
    }
    await stage.stop();
    stage = await start('second');
  }
  await stage.stop();
  await bus.settled();
  return { latest, skipped: stage.ingestor.counters.get('flows_replayed_skipped'), replayed };
}

describe('stage 1 restarted without its memory', () => {
  let uninterrupted: Map<string, string>;

  beforeAll(async () => {
    uninterrupted = (await runFlowIngest(undefined)).latest;
  });

  it('is a stream where windows close mid-run and late records are rejected', () => {
    expect(uninterrupted.size).toBeGreaterThan(20);
    expect(new Set([...uninterrupted.keys()].map((k) => k.split(' ')[0]))).toEqual(new Set(['0', '10000', '20000', '30000', '40000', '50000', '60000', '70000']));
  });

  it.each([3, 7, 12, 18])('publishes the same final snapshots when it loses its state after %i rounds', async (crashAfter) => {
    const crashed = await runFlowIngest(crashAfter);
    expect(crashed.replayed).toBe(true);
    expect(crashed.latest).toEqual(uninterrupted);
  });

  it('skips re-read records of windows it had already closed', async () => {
    const crashed = await runFlowIngest(12);
    expect(crashed.skipped).toBeGreaterThan(0);
  });

  it('would publish partial windows over complete ones if offsets were committed after each batch', async () => {
    const crashed = await runFlowIngest(7, true);
    expect(crashed.latest).not.toEqual(uninterrupted);
  });
});

const api: Peer = { kind: 'workload', app: 'api', cluster: 'api-prod-v001' };
const db: Peer = { kind: 'workload', app: 'db', cluster: 'db-prod-v001' };
const cache: Peer = { kind: 'workload', app: 'cache', cluster: 'cache-prod-v001' };
const web: Peer = { kind: 'workload', app: 'web', cluster: 'web-prod-v001' };

function contribution(src: Peer, dst: Peer, window: number, bytes: number, removed = false): EdgeContribution {
  const startMs = T0 + window * 10_000;
  return {
    window: { startMs, endMs: startMs + 10_000 },
    scope: 'direct',
    src,
    dst,
    hop: false,
    via: [],
    confidence: 1,
    ports: [{ port: 443, protocol: 'tcp' }],
    bytesSent: bytes,
    bytesReceived: bytes / 2,
    packetsSent: 10,
    packetsReceived: 5,
    connections: 1,
    retransmits: 0,
    rttSumUs: 0,
    rttSamples: 0,
    firstSeenMs: startMs + 1,
    lastSeenMs: startMs + 2,
    removed,
    ingestedAtMs: 0,
  };
}

/** Contributions for two buckets, each (edge, window) stated three times with growing bytes; one withdrawn. */
function contributionMessages() {
  const out = [];
  for (let window = 0; window < 12; window++) {
    for (const [version, bytes] of [100, 250, 400].entries()) {
      for (const [src, dst] of [[web, api], [api, db], [api, cache]] as const) {
        const c = contribution(src, dst, window, bytes + window + version);
        out.push({ key: edgeKey(peerNodeId(src, 'cluster'), peerNodeId(dst, 'cluster')), value: EdgeContributionCodec.encode(c) });
      }
    }
    if (window === 8) out.push({ key: edgeKey(nodeId('cluster', 'api-prod-v001'), nodeId('cluster', 'cache-prod-v001')), value: EdgeContributionCodec.encode(contribution(api, cache, 7, 0, true)) });
  }
  return out;
}

async function runEnrich(crashAfter: number | undefined, commitAfterBatch = false): Promise<{ edges: Record<string, NetworkEdgeProps | undefined>; checkpointMoved: boolean }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-enrich-'));
  const clock = new ManualClock(T0 + 3_600_000);
  const store = await EmbeddedGraphStore.open<NetworkEdgeProps>({ dir, layer: 'network', bucketMs: 60_000 }, networkBucketMerger);
  const bus = new InProcessBus({ clock, defaultPartitions: 3 });
  const log = new PartitionLog(3, commitAfterBatch);
  log.append(topics.edgesResolved, contributionMessages());
  const enricher = { ...stages.enricher, retentionMs: 60_000 };
  const start = async (instance: string) => {
    const stage = new EnrichStage({ ...common(bus, log, instance, clock), store, retentionMs: 20 * 365 * 86_400_000, enricher });
    await stage.start();
    return stage;
  };
  try {
    let stage = await start('first');
    let checkpointMoved = false;
    for (let round = 1; await log.deliver(3); round++) {
      // Processing time runs on, so the first bucket expires from memory once its contributions stop.
      clock.advance(10_000);
      if (round !== crashAfter) continue;
      for (let p = 0; p < 3; p++) if (log.committedOffset('enricher', topics.edgesResolved, p) > 0) checkpointMoved = true;
      await stage.stop();
      stage = await start('second');
    }
    await stage.stop();
    const range = { fromMs: T0, toMs: T0 + 3_600_000 };
    const out: Record<string, NetworkEdgeProps | undefined> = {};
    for (const granularity of ['cluster', 'app'] as const) {
      for (const e of await store.listEdges({ granularity, range })) out[`${granularity} ${e.src} -> ${e.dst}`] = e.props.network;
      for (const bucket of [T0, T0 + 60_000]) {
        for (const e of await store.listEdges({ granularity, range: { fromMs: bucket, toMs: bucket + 60_000 } })) out[`${granularity} ${bucket - T0} ${e.src} -> ${e.dst}`] = e.props.network;
      }
    }
    return { edges: out, checkpointMoved };
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('stage 3 restarted without its memory', () => {
  let uninterrupted: Record<string, NetworkEdgeProps | undefined>;

  beforeAll(async () => {
    uninterrupted = (await runEnrich(undefined)).edges;
  });

  it.each([2, 5, 9])('writes the same buckets when it loses its state after %i rounds', async (crashAfter) => {
    expect((await runEnrich(crashAfter)).edges).toEqual(uninterrupted);
  });

  it('commits past the contributions of buckets it no longer holds', async () => {
    expect((await runEnrich(9)).checkpointMoved).toBe(true);
  });

  it('would rewrite buckets from a fraction of their contributions if offsets were committed after each batch', async () => {
    expect((await runEnrich(9, true)).edges).not.toEqual(uninterrupted);
  });
});
