import { broadcastGroup, type BusMessage, type Subscription } from '@topology/bus';
import { EdgeContributionCodec, Topics, type Rejection } from '@topology/contracts';
import { NetworkEnricher, type NetworkEnricherConfig } from '@topology/enrich';
import { StoreError, type GraphLayerStore, type NetworkEdgeProps } from '@topology/model';
import { exportCounterSet } from './metrics';
import { decodeMetadataMessage } from './metadata-feed';
import { StageRunner, type StageRunnerOptions } from './stage-runner';

export interface EnrichStageOptions extends StageRunnerOptions {
  enricher: NetworkEnricherConfig;
  store: GraphLayerStore<NetworkEdgeProps>;
  /** History older than this is deleted from the store (milliseconds). */
  retentionMs: number;
  groupId?: string;
  /** Called after each persisted flush with the arrival times of the records it made queryable. */
  onPersisted?: (ingestedAtMs: number[], persistedAtMs: number) => void;
}

/** Stage 3 on the bus: resolved contributions in, the network layer store written. */
export class EnrichStage extends StageRunner {
  readonly enricher: NetworkEnricher;
  private arrivals: number[] = [];
  private lastRetentionRun = 0;

  constructor(private readonly o: EnrichStageOptions) {
    super('enricher', o);
    this.enricher = new NetworkEnricher(o.enricher, o.clock);
    exportCounterSet(o.registry, 'topology_enricher', this.enricher.counters);
  }

  protected async subscribe(): Promise<Subscription[]> {
    const { bus, instanceId } = this.o;
    return [
      await bus.subscribe({
        topics: [Topics.metadata],
        groupId: broadcastGroup('enricher.metadata', instanceId),
        fromBeginning: true,
        handler: this.batchHandler((m) => {
          const { events, rejections } = decodeMetadataMessage(m);
          for (const e of events) this.enricher.applyMetadata(e);
          return rejections;
        }),
      }),
      await bus.subscribe({
        topics: [Topics.edgesResolved],
        groupId: this.o.groupId ?? 'enricher',
        fromBeginning: true,
        handler: this.batchHandler((m) => this.onContribution(m)),
      }),
    ];
  }

  private onContribution(message: BusMessage): Rejection[] {
    try {
      const c = EdgeContributionCodec.decode(message.value);
      const rejection = this.enricher.accept(c);
      if (rejection) return [{ ...rejection, raw: message.value }];
      if (c.ingestedAtMs > 0) this.arrivals.push(c.ingestedAtMs);
      return [];
    } catch (e) {
      return [{ reason: 'malformed', message: `edge contribution: ${e instanceof Error ? e.message : String(e)}`, raw: message.value }];
    }
  }

  private async storeWrite(write: () => Promise<void>, count: number): Promise<void> {
    if (count === 0) return;
    try {
      await write();
    } catch (e) {
      if (!(e instanceof StoreError) || e.code !== 'invalid-record') throw e;
      await this.deadLetters.publish(
        { topic: Topics.edgesResolved, partition: -1, offset: '' },
        e.rejected.map((r) => ({ reason: 'rejected' as const, message: e.message, raw: JSON.stringify(r) })),
      );
    }
  }

  protected async flush(): Promise<void> {
    const { nodes, buckets, withdrawn } = this.enricher.flush();
    const arrivals = this.arrivals;
    this.arrivals = [];
    // The port writes the valid rest of a batch before it reports the invalid records.
    await this.storeWrite(() => this.o.store.upsertNodes(nodes), nodes.length);
    await this.storeWrite(() => this.o.store.putEdgeBuckets(buckets), buckets.length);
    if (withdrawn.length > 0) await this.o.store.deleteEdgeBuckets(withdrawn);
    const now = this.o.clock.now();
    for (const at of arrivals) this.metrics.freshnessSeconds.observe((now - at) / 1000);
    this.o.onPersisted?.(arrivals, now);
    if (now - this.lastRetentionRun > 60_000) {
      this.lastRetentionRun = now;
      await this.o.store.deleteBefore(now - this.o.retentionMs);
    }
  }
}
