import { broadcastGroup, type BusMessage, type Subscription } from '@topology/bus';
import { EdgeContributionCodec, FlowPartialSnapshotCodec, Topics, type Rejection } from '@topology/contracts';
import { IntermediaryResolver, type IntermediaryResolverConfig } from '@topology/intermediary';
import { edgeKey, peerNodeId } from '@topology/model';
import { exportCounterSet } from './metrics';
import { decodeMetadataMessage } from './metadata-feed';
import { StageRunner, type StageRunnerOptions } from './stage-runner';

export interface ResolveStageOptions extends StageRunnerOptions {
  resolver: IntermediaryResolverConfig;
  groupId?: string;
}

/** Stage 2 on the bus: partial aggregates in, resolved edge contributions out (and chains back in). */
export class ResolveStage extends StageRunner {
  readonly resolver: IntermediaryResolver;

  constructor(private readonly o: ResolveStageOptions) {
    super('intermediary-resolver', o);
    this.resolver = new IntermediaryResolver(o.resolver, o.clock);
    exportCounterSet(o.registry, 'topology_intermediary_resolver', this.resolver.counters);
  }

  protected async subscribe(): Promise<Subscription[]> {
    const { bus, instanceId } = this.o;
    return [
      await bus.subscribe({
        topics: [Topics.metadata],
        groupId: broadcastGroup('intermediary-resolver.metadata', instanceId),
        fromBeginning: true,
        handler: this.batchHandler((m) => {
          const { events, rejections } = decodeMetadataMessage(m);
          const refused = events.flatMap((e) => this.resolver.applyMetadata(e));
          return [...rejections, ...refused.map((r) => ({ ...r, raw: m.value }))];
        }),
      }),
      await bus.subscribe({
        topics: [Topics.flowsPartial],
        groupId: this.o.groupId ?? 'intermediary-resolver',
        fromBeginning: true,
        handler: this.batchHandler((m) => this.onSnapshot(m)),
      }),
    ];
  }

  private onSnapshot(message: BusMessage): Rejection[] {
    try {
      return this.resolver.accept(FlowPartialSnapshotCodec.decode(message.value)).map((r) => ({ ...r, raw: message.value }));
    } catch (e) {
      return [{ reason: 'malformed', message: `partial snapshot: ${e instanceof Error ? e.message : String(e)}`, raw: message.value }];
    }
  }

  protected async flush(): Promise<void> {
    const { contributions, forwards } = this.resolver.flush();
    await Promise.all([
      this.publish(
        Topics.edgesResolved,
        contributions.map((c) => ({ key: edgeKey(peerNodeId(c.src, 'cluster'), peerNodeId(c.dst, 'cluster')), value: EdgeContributionCodec.encode(c) })),
      ),
      this.publish(Topics.flowsPartial, forwards.map((f) => ({ key: f.key, value: FlowPartialSnapshotCodec.encode(f) }))),
    ]);
  }
}
