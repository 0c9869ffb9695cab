import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { BusMessage, Subscription } from '@topology/bus';
import { InProcessBus } from '@topology/bus-in-process';
import { EdgeContributionCodec, type EdgeContribution } from '@topology/contracts';
import { DEFAULT_NETWORK_ENRICHER_CONFIG } from '@topology/enrich';
import { EmbeddedGraphStore } from '@topology/graph-store-embedded';
import { ManualClock, StoreError, networkBucketMerger, type GraphLayerStore, type NetworkEdgeProps, type Peer } from '@topology/model';
import { Registry } from 'prom-client';
import { EnrichStage } from './enrich.stage';
import type { PartitionCheckpoint, StageInput, StageInputSubscription } from './stage-input';
import { pipelineTopics } from './topic-names';

const T0 = Date.UTC(2026, 0, 1);
const topics = pipelineTopics();
const TOPIC = topics.edgesResolved;

/**
 * The partitions of the resolved-contributions topic, handed to the stage one step at a time. A
 * checkpoint is asked for when the test says, which may be well after the batch's handler resolved:
 * the input may ask at any time after, and other batches' flushes run meanwhile.
 */
class SteppedInput implements StageInput {
  readonly checkpoints = true;
  private readonly logs: BusMessage[][];
  private readonly committed = new Map<number, PartitionCheckpoint>();
  private readonly positions = new Map<number, number>();
  private subscription: StageInputSubscription | undefined;

  constructor(partitions: EdgeContribution[][]) {
    this.logs = partitions.map((contributions, partition) =>
      contributions.map((c, offset) => ({ topic: TOPIC, partition, offset: String(offset), key: null, value: EdgeContributionCodec.encode(c), headers: {}, timestampMs: 0 })),
    );
  }

  async subscribe(options: StageInputSubscription): Promise<Subscription> {
    this.subscription = options;
    for (let p = 0; p < this.logs.length; p++) this.positions.set(p, Number(this.committed.get(p)?.offset ?? 0));
    return { close: async () => undefined };
  }

  /** Hands the partition its next message; resolves when the stage's handler does (its flush persisted). */
  async handleNext(partition: number): Promise<void> {
    const at = this.positions.get(partition) ?? 0;
    const message = this.logs[partition]?.[at];
    if (message === undefined) throw new Error(`partition ${partition} has nothing after ${at}`);
    await this.member().handler({ topic: TOPIC, partition, messages: [message] });
    this.positions.set(partition, at + 1);
  }

  /** Commits the checkpoint the stage gives now for what the partition has handled. */
  commit(partition: number): void {
    this.committed.set(partition, this.member().checkpoint(TOPIC, partition, String(this.positions.get(partition) ?? 0)));
  }

  /** Hands out and commits everything left, a message of each partition in turn. */
  async drain(): Promise<void> {
    for (let more = true; more; ) {
      more = false;
      for (let p = 0; p < this.logs.length; p++) {
        if ((this.positions.get(p) ?? 0) >= (this.logs[p]?.length ?? 0)) continue;
        await this.handleNext(p);
        this.commit(p);
        more = true;
      }
    }
  }

  async lastCheckpoint(_groupId: string, _topic: string, partition: number): Promise<PartitionCheckpoint | undefined> {
    return this.committed.get(partition);
  }

  async partitionEnd(_topic: string, partition: number): Promise<number> {
    return this.logs[partition]?.length ?? 0;
  }

  async close(): Promise<void> {
    this.subscription = undefined;
  }

  private member(): StageInputSubscription {
    if (this.subscription === undefined) throw new Error('no stage reads the input');
    return this.subscription;
  }
}

/** The store as one process sees it: a write may fail once, and nothing is written once the process has died. */
class ProcessStore {
  private dead = false;
  private failNext = false;
  readonly store: GraphLayerStore<NetworkEdgeProps>;

  constructor(inner: GraphLayerStore<NetworkEdgeProps>) {
    const write = async (run: () => Promise<void>) => {
      if (this.dead) return;
      if (this.failNext) {
        this.failNext = false;
        throw new StoreError('unavailable', 'the store did not answer');
      }
      await run();
    };
    this.store = Object.create(inner, {
      upsertNodes: { value: (nodes: Parameters<typeof inner.upsertNodes>[0]) => write(() => inner.upsertNodes(nodes)) },
      putEdgeBuckets: { value: (buckets: Parameters<typeof inner.putEdgeBuckets>[0]) => write(() => inner.putEdgeBuckets(buckets)) },
      deleteEdgeBuckets: { value: async (refs: Parameters<typeof inner.deleteEdgeBuckets>[0]) => (this.dead ? 0 : inner.deleteEdgeBuckets(refs)) },
    }) as GraphLayerStore<NetworkEdgeProps>;
  }

  failNextWrite(): void {
    this.failNext = true;
  }

  die(): void {
    this.dead = true;
  }
}

const workload = (app: string): Peer => ({ kind: 'workload', app, cluster: `${app}-prod-v001` });

function contribution(src: string, dst: string, bytes: number, removed = false): EdgeContribution {
  return {
    window: { startMs: T0, endMs: T0 + 10_000 },
    scope: 'direct',
    src: workload(src),
    dst: workload(dst),
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
    firstSeenMs: T0 + 1,
    lastSeenMs: T0 + 2,
    removed,
    ingestedAtMs: 0,
  };
}

/**
 * Partition 0 brings web → api and api → db; partition 1 brings api → cache and then withdraws
 * web → api's contribution, as happens once the topic gained partitions and the same key lands
 * elsewhere. The withdrawal empties web → api's bucket, and the flush closes it.
 */
function partitions(): EdgeContribution[][] {
  return [
    [contribution('web', 'api', 100), contribution('api', 'db', 50)],
    [contribution('api', 'cache', 70), contribution('web', 'api', 0, true)],
  ];
}

async function run(crash: boolean): Promise<Record<string, NetworkEdgeProps | undefined>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-enrich-'));
  const clock = new ManualClock(T0 + 60_000);
  const store = await EmbeddedGraphStore.open<NetworkEdgeProps>({ dir, layer: 'network', bucketMs: 60_000 }, networkBucketMerger);
  const bus = new InProcessBus({ clock, defaultPartitions: 1 });
  const input = new SteppedInput(partitions());
  const start = async (instance: string) => {
    const process = new ProcessStore(store);
    const stage = new EnrichStage({
      bus,
      clock,
      registry: new Registry(),
      instanceId: instance,
      flushIntervalMs: 60_000,
      maxPendingRecords: 1,
      log: () => undefined,
      input,
      store: process.store,
      retentionMs: 20 * 365 * 86_400_000,
      enricher: { ...DEFAULT_NETWORK_ENRICHER_CONFIG, windowMs: 10_000, bucketMs: 60_000 },
    });
    await stage.start();
    return { stage, process };
  };
  try {
    let current = await start('first');
    if (crash) {
      await input.handleNext(0);
      input.commit(0);
      await input.handleNext(1);
      input.commit(1);
      await input.handleNext(0);
      // The withdrawal's flush closes web → api; its write fails and waits to be retried.
      current.process.failNextWrite();
      await expect(input.handleNext(1)).rejects.toThrow('the store did not answer');
      // Partition 0's batch was persisted by an earlier flush: its checkpoint may be taken now.
      input.commit(0);
      current.process.die();
      await current.stage.stop();
      current = await start('second');
    }
    await input.drain();
    await current.stage.stop();
    const out: Record<string, NetworkEdgeProps | undefined> = {};
    for (const granularity of ['cluster', 'app'] as const) {
      for (const e of await store.listEdges({ granularity, range: { fromMs: T0, toMs: T0 + 60_000 }, includeHops: true })) out[`${granularity} ${e.src} -> ${e.dst}`] = e.props.network;
    }
    return out;
  } finally {
    await bus.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('stage 3 whose write failed, checkpointed before the retry, then restarted without its memory', () => {
  it('writes what an uninterrupted run writes: the bucket withdrawn through another partition stays withdrawn', async () => {
    const uninterrupted = await run(false);
    expect(Object.keys(uninterrupted).sort()).toEqual([
      'app app:api -> app:cache',
      'app app:api -> app:db',
      'cluster cluster:api-prod-v001 -> cluster:cache-prod-v001',
      'cluster cluster:api-prod-v001 -> cluster:db-prod-v001',
    ]);
    expect(await run(true)).toEqual(uninterrupted);
  });
});
