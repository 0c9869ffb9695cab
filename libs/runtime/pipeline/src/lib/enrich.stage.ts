import type { BusMessage, Subscription } from '@topology/bus';
import { EdgeContributionCodec, type Rejection } from '@topology/contracts';
import { NetworkEnricher, type NetworkEnricherConfig, type NetworkEnricherOutput } from '@topology/enrich';
import { peerNodeId, type GraphLayerStore, type NetworkEdgeProps, type NodeId } from '@topology/model';
import { exportCounterSet } from './metrics';
import { decodeMetadataMessage } from './metadata-feed';
import { ReplayLedger } from './replay-ledger';
import type { PartitionCheckpoint } from './stage-input';
import { StageRunner, partitionId, type BroadcastSource, type InputSource, type StageRunnerOptions } from './stage-runner';

export interface EnrichStageOptions extends StageRunnerOptions {
  enricher: NetworkEnricherConfig;
  store: GraphLayerStore<NetworkEdgeProps>;
  /** History older than this is deleted from the store (milliseconds). */
  retentionMs: number;
  /** Called after each persisted flush with the arrival times of the records it made queryable. */
  onPersisted?: (ingestedAtMs: number[], persistedAtMs: number) => void;
}

/** A cluster-level history bucket the enricher holds, as the ledger groups contributions. */
interface HeldBucket {
  src: NodeId;
  dst: NodeId;
  bucketStartMs: number;
}

/** A flush's output not yet persisted; the cluster-level buckets it writes are listed when a checkpoint asks. */
interface UnwrittenFlush {
  output: NetworkEnricherOutput;
  clusterBuckets?: Set<string>;
}

const INPUT = 'main';

/**
 * Stage 3 on the bus: resolved contributions in, the network layer store written.
 *
 * A bucket is recomputed from every contribution held for it, so with an input that commits
 * checkpoints a partition's checkpoint is the oldest contribution of a bucket still held in memory:
 * a restart reads every held bucket's contributions again before it rewrites that bucket. A bucket
 * a flush closed (its last contribution withdrawn) counts as held until that flush's output is
 * persisted: a checkpoint taken while the write is pending or failed must not pass contributions a
 * restart needs to withdraw it again, such as one another partition brought.
 */
export class EnrichStage extends StageRunner {
  readonly enricher: NetworkEnricher;
  private readonly input;
  private readonly ledger: ReplayLedger<HeldBucket> | undefined;
  private arrivals: number[] = [];
  private lastRetentionRun = 0;
  private readonly unwritten: UnwrittenFlush[] = [];

  constructor(private readonly o: EnrichStageOptions) {
    super('enricher', o);
    this.enricher = new NetworkEnricher(o.enricher, o.clock);
    this.input = this.defaultInput();
    this.ledger = this.input.checkpoints ? new ReplayLedger<HeldBucket>() : undefined;
    exportCounterSet(o.registry, 'topology_enricher', this.enricher.counters);
  }

  protected subscribe(): Promise<Subscription[]> {
    return this.subscribeSources();
  }

  protected override broadcasts(): BroadcastSource[] {
    return [
      {
        name: 'metadata',
        topics: [this.topics.metadata],
        handle: (m) => {
          const { events, rejections } = decodeMetadataMessage(m);
          for (const e of events) this.enricher.applyMetadata(e);
          return rejections;
        },
      },
    ];
  }

  protected override inputs(): InputSource[] {
    return [{ name: INPUT, input: this.input, topics: [this.topics.edgesResolved], handle: (m) => this.onContribution(m) }];
  }

  protected override checkpointOf(source: InputSource, topic: string, partition: number, nextOffset: string): PartitionCheckpoint {
    const oldest = this.ledger?.oldest(partitionId(source.name, topic, partition), (b) => this.holds(b));
    return { offset: oldest === undefined ? nextOffset : String(oldest.offset), metadata: '' };
  }

  /** Held in memory, or written by a flush whose output is not persisted yet. */
  private holds(b: HeldBucket): boolean {
    if (this.enricher.holdsBucket(b.src, b.dst, b.bucketStartMs)) return true;
    if (this.unwritten.length === 0) return false;
    const key = clusterBucketKey(b.src, b.dst, b.bucketStartMs);
    for (const pending of this.unwritten) {
      if (pending.clusterBuckets === undefined) {
        pending.clusterBuckets = new Set();
        for (const w of pending.output.buckets) if (w.granularity === 'cluster') pending.clusterBuckets.add(clusterBucketKey(w.src, w.dst, w.bucketStartMs));
      }
      if (pending.clusterBuckets.has(key)) return true;
    }
    return false;
  }

  protected override forgetPartition(source: InputSource, topic: string, partition: number): void {
    this.ledger?.forget(partitionId(source.name, topic, partition));
  }

  private onContribution(message: BusMessage): Rejection[] {
    try {
      const c = EdgeContributionCodec.decode(message.value);
      const rejection = this.enricher.accept(c);
      if (rejection) return [{ ...rejection, raw: message.value }];
      if (c.ingestedAtMs > 0) this.arrivals.push(c.ingestedAtMs);
      if (this.ledger !== undefined) {
        const src = peerNodeId(c.src, 'cluster');
        const dst = peerNodeId(c.dst, 'cluster');
        const bucketStartMs = Math.floor(c.window.startMs / this.o.enricher.bucketMs) * this.o.enricher.bucketMs;
        const id = partitionId(INPUT, message.topic, message.partition);
        const bucket = clusterBucketKey(src, dst, bucketStartMs);
        const part = `${c.window.startMs}/${c.scope}`;
        if (c.removed) this.ledger.release(id, bucket, part);
        else this.ledger.keepLatest(id, bucket, part, Number(message.offset), { src, dst, bucketStartMs });
      }
      return [];
    } catch (e) {
      return [{ reason: 'malformed', message: `edge contribution: ${e instanceof Error ? e.message : String(e)}`, raw: message.value }];
    }
  }

  protected async flush(): Promise<void> {
    // Written first: a flush that failed to persist left its output here, already taken from the enricher.
    while (this.unwritten.length > 0) {
      await this.write((this.unwritten[0] as UnwrittenFlush).output);
      this.unwritten.shift();
    }
    const output = this.enricher.flush();
    const arrivals = this.arrivals;
    this.arrivals = [];
    this.unwritten.push({ output });
    await this.write(output);
    this.unwritten.shift();
    const now = this.o.clock.now();
    for (const at of arrivals) this.observeFreshness(at, now);
    this.o.onPersisted?.(arrivals, now);
    if (now - this.lastRetentionRun > 60_000) {
      this.lastRetentionRun = now;
      await this.o.store.deleteBefore(now - this.o.retentionMs);
    }
  }

  private async write({ nodes, buckets, withdrawn }: NetworkEnricherOutput): Promise<void> {
    // The port writes the valid rest of a batch before it reports the invalid records.
    if (nodes.length > 0) await this.writeOrDeadLetter(this.topics.edgesResolved, () => this.o.store.upsertNodes(nodes));
    if (buckets.length > 0) await this.writeOrDeadLetter(this.topics.edgesResolved, () => this.o.store.putEdgeBuckets(buckets));
    if (withdrawn.length > 0) await this.o.store.deleteEdgeBuckets(withdrawn);
  }
}

function clusterBucketKey(src: NodeId, dst: NodeId, bucketStartMs: number): string {
  return `${src} ${dst} ${bucketStartMs}`;
}
