import type { BusMessage, Subscription } from '@topology/bus';
import { EdgeContributionCodec, FlowPartialSnapshotCodec, type Rejection, type WindowRef } from '@topology/contracts';
import { IntermediaryResolver, type IntermediaryResolverConfig } from '@topology/intermediary';
import { enricherPartitionKey } from '@topology/enrich';
import { exportCounterSet } from './metrics';
import { decodeMetadataMessage } from './metadata-feed';
import { ReplayLedger } from './replay-ledger';
import type { PartitionCheckpoint, PartitionResume } from './stage-input';
import { StageRunner, partitionId, type BroadcastSource, type InputSource, type StageRunnerOptions } from './stage-runner';

export interface ResolveStageOptions extends StageRunnerOptions {
  resolver: IntermediaryResolverConfig;
}

const INPUT = 'main';

/**
 * Stage 2 on the bus: partial aggregates in, resolved edge contributions out (and chains back in).
 *
 * The resolver keeps the latest snapshot per (window, scope, key) until it evicts the window. With
 * an input that commits checkpoints, a partition's checkpoint is the oldest of the latest snapshots
 * it still holds, so a restart reads each of them again and recomputes the same contributions.
 * Unlike a closed enricher bucket, an evicted window needs no keeping while a flush's output waits
 * in the outbox: eviction emits nothing, it comes `retentionMs` after the window's last change, and
 * no flush computes (or evicts) anything before the outbox of an earlier one is sent.
 */
export class ResolveStage extends StageRunner {
  readonly resolver: IntermediaryResolver;
  private readonly input;
  private readonly ledger: ReplayLedger<WindowRef> | undefined;
  /** Per partition, the offset below which an earlier member may have handled messages and published what they gave. */
  private readonly takenOverBelow = new Map<string, number>();

  constructor(private readonly o: ResolveStageOptions) {
    super('intermediary-resolver', o);
    this.resolver = new IntermediaryResolver(o.resolver, o.clock);
    this.input = this.defaultInput();
    this.ledger = this.input.checkpoints ? new ReplayLedger<WindowRef>() : undefined;
    exportCounterSet(o.registry, 'topology_intermediary_resolver', this.resolver.counters);
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
          const refused = events.flatMap((e) => this.resolver.applyMetadata(e));
          return [...rejections, ...refused.map((r) => ({ ...r, raw: m.value }))];
        },
      },
    ];
  }

  protected override inputs(): InputSource[] {
    return [{ name: INPUT, input: this.input, topics: [this.topics.flowsPartial], handle: (m) => this.onSnapshot(m) }];
  }

  protected override checkpointOf(source: InputSource, topic: string, partition: number, nextOffset: string): PartitionCheckpoint {
    const oldest = this.ledger?.oldest(partitionId(source.name, topic, partition), (w) => this.resolver.retainsWindow(w));
    return { offset: oldest === undefined ? nextOffset : String(oldest.offset), metadata: '' };
  }

  protected override resumePartition(source: InputSource, topic: string, partition: number, resume: PartitionResume): void {
    this.takenOverBelow.set(partitionId(source.name, topic, partition), resume.endOffset);
  }

  protected override forgetPartition(source: InputSource, topic: string, partition: number): void {
    const id = partitionId(source.name, topic, partition);
    this.ledger?.forget(id);
    this.takenOverBelow.delete(id);
  }

  private onSnapshot(message: BusMessage): Rejection[] {
    try {
      const snapshot = FlowPartialSnapshotCodec.decode(message.value);
      const id = partitionId(INPUT, message.topic, message.partition);
      // What an earlier member emitted for windows read again here is unknown to this resolver.
      const inherited = Number(message.offset) < (this.takenOverBelow.get(id) ?? 0);
      const rejections = this.resolver.accept(snapshot, { inherited }).map((r) => ({ ...r, raw: message.value }));
      if (this.ledger !== undefined && snapshot.window !== undefined) {
        const window = `${snapshot.window.startMs}/${snapshot.window.endMs}`;
        const slot = `${snapshot.scope}\u0000${snapshot.key}`;
        // An empty snapshot withdraws its slot: nothing of it remains to rebuild.
        if (snapshot.entries.length === 0) this.ledger.release(id, window, slot);
        else this.ledger.keepLatest(id, window, slot, Number(message.offset), { startMs: snapshot.window.startMs, endMs: snapshot.window.endMs });
      }
      return rejections;
    } catch (e) {
      return [{ reason: 'malformed', message: `partial snapshot: ${e instanceof Error ? e.message : String(e)}`, raw: message.value }];
    }
  }

  protected async flush(): Promise<void> {
    const { contributions, forwards } = this.resolver.flush();
    const now = this.o.clock.now();
    for (const c of contributions) this.observeFreshness(c.ingestedAtMs, now);
    await Promise.all([
      this.publish(
        this.topics.edgesResolved,
        contributions.map((c) => ({ key: enricherPartitionKey(c.src, c.dst), value: EdgeContributionCodec.encode(c) })),
      ),
      this.publish(this.topics.flowsPartial, forwards.map((f) => ({ key: f.key, value: FlowPartialSnapshotCodec.encode(f) }))),
    ]);
  }
}
