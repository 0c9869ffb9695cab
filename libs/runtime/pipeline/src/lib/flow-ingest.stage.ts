import { broadcastGroup, type BusMessage, type Subscription } from '@topology/bus';
import { ContentTypes, FlowPartialSnapshotCodec, Headers, IpOwnershipCodec, Topics, type Rejection } from '@topology/contracts';
import { FlowIngestor, newFlowParserCounters, parserFor, type FlowIngestorConfig, type FlowParser } from '@topology/flow-ingest';
import { exportCounterSet } from './metrics';
import { decodeMetadataMessage } from './metadata-feed';
import { StageRunner, type StageRunnerOptions } from './stage-runner';

export interface FlowIngestStageOptions extends StageRunnerOptions {
  /** Region of the Kafka cluster this runner reads (tags every record and names its scopes). */
  region: string;
  ingestor: FlowIngestorConfig;
  groupId?: string;
}

const DEFAULT_CONTENT_TYPE: Record<string, string> = {
  [Topics.flowsCanonical]: ContentTypes.flowJsonLines,
  [Topics.flowsVpc]: ContentTypes.vpcText,
  [Topics.flowsHubble]: ContentTypes.hubbleJsonLines,
};

/** Stage 1 on the bus: raw flow topics in, partial aggregates and learned IP ownership out. */
export class FlowIngestStage extends StageRunner {
  readonly ingestor: FlowIngestor;
  /** Parsers keep per-partition state (Hubble de-duplication), so there is one per source and format. */
  private readonly parsers = new Map<string, FlowParser>();
  private readonly parserCounters = newFlowParserCounters();

  constructor(private readonly o: FlowIngestStageOptions) {
    super('flow-ingestor', o);
    this.ingestor = new FlowIngestor(o.ingestor, o.clock);
    exportCounterSet(o.registry, 'topology_flow_ingestor', this.ingestor.counters);
    exportCounterSet(o.registry, 'topology_flow_parser', this.parserCounters);
  }

  protected async subscribe(): Promise<Subscription[]> {
    const { bus, instanceId } = this.o;
    return [
      await bus.subscribe({
        topics: [Topics.metadata],
        groupId: broadcastGroup('flow-ingestor.metadata', instanceId),
        fromBeginning: true,
        handler: this.batchHandler((m) => this.onMetadata(m)),
      }),
      await bus.subscribe({
        topics: [Topics.ownership],
        groupId: broadcastGroup('flow-ingestor.ownership', instanceId),
        fromBeginning: true,
        handler: this.batchHandler((m) => this.onOwnership(m)),
      }),
      await bus.subscribe({
        topics: [Topics.flowsCanonical, Topics.flowsVpc, Topics.flowsHubble],
        groupId: this.o.groupId ?? 'flow-ingestor',
        fromBeginning: true,
        handler: this.batchHandler((m) => this.onFlows(m)),
      }),
    ];
  }

  private onMetadata(message: BusMessage): Rejection[] {
    const { events, rejections } = decodeMetadataMessage(message);
    for (const e of events) this.ingestor.applyMetadata(e);
    return rejections;
  }

  private onOwnership(message: BusMessage): Rejection[] {
    try {
      this.ingestor.applyOwnership(IpOwnershipCodec.decode(message.value));
      return [];
    } catch (e) {
      return [{ reason: 'malformed', message: `ownership range: ${e instanceof Error ? e.message : String(e)}`, raw: message.value }];
    }
  }

  private onFlows(message: BusMessage): Rejection[] {
    const parser = this.parserFor(message);
    if ('reason' in parser) return [{ ...parser, raw: message.value }];
    const { flows, rejections } = parser.parse(message.value);
    const scope = `${this.o.region}/${message.topic}/${message.partition}`;
    // Arrival in this process is when the record entered the pipeline: freshness is measured from here.
    const late = this.ingestor.ingest(flows, scope, this.o.clock.now());
    return late.length === 0 ? rejections : [...rejections, ...late];
  }

  private parserFor(message: BusMessage): FlowParser | Rejection {
    const contentType = message.headers[Headers.contentType] ?? DEFAULT_CONTENT_TYPE[message.topic] ?? '';
    const format = message.headers[Headers.vpcFormat] ?? '';
    const key = `${message.topic}/${message.partition}/${contentType}/${format}`;
    const cached = this.parsers.get(key);
    if (cached) return cached;
    const created = parserFor(contentType, message.headers, { region: this.o.region, clock: this.o.clock, counters: this.parserCounters });
    if (!('reason' in created)) this.parsers.set(key, created);
    return created;
  }

  protected async flush(): Promise<void> {
    const { snapshots, ownership, rejections } = this.ingestor.flush();
    await Promise.all([
      this.publish(Topics.flowsPartial, snapshots.map((s) => ({ key: s.key, value: FlowPartialSnapshotCodec.encode(s) }))),
      this.publish(Topics.ownership, ownership.map((o) => ({ key: o.ip, value: IpOwnershipCodec.encode(o) }))),
      this.deadLetters.publish({ topic: Topics.flowsCanonical, partition: -1, offset: '' }, rejections),
    ]);
  }
}
