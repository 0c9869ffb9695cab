import { broadcastGroup, type BusMessage, type Subscription } from '@topology/bus';
import { Headers, Topics, type Rejection } from '@topology/contracts';
import { IpcIngestor, type IpcEncoding, type IpcIngestorConfig } from '@topology/ipc-ingest';
import { StoreError, type ApplicationEdgeProps, type GraphLayerStore } from '@topology/model';
import { exportCounterSet } from './metrics';
import { decodeMetadataMessage } from './metadata-feed';
import { StageRunner, type StageRunnerOptions } from './stage-runner';

export interface IpcIngestStageOptions extends StageRunnerOptions {
  ingestor: IpcIngestorConfig;
  store: GraphLayerStore<ApplicationEdgeProps>;
  /** History older than this is deleted from the store (milliseconds). */
  retentionMs: number;
  groupId?: string;
  /** Called after each persisted flush with the arrival times of the messages it made queryable. */
  onPersisted?: (ingestedAtMs: number[], persistedAtMs: number) => void;
}

const OPEN_BRACE = 0x7b;

/**
 * The encoding of a message. On `otlp_metrics` it is protobuf unless the content type says JSON (the
 * Collector's Kafka exporter sets no header; a JSON body is told by its first byte, which no
 * ExportMetricsServiceRequest can start with); on `ipc.metrics.v1` the content type is required.
 */
export function ipcEncodingOf(message: Pick<BusMessage, 'topic' | 'value' | 'headers'>): IpcEncoding | undefined {
  const declared = IpcIngestor.encodingOf(message.headers[Headers.contentType]);
  if (message.topic === Topics.otlpMetrics) {
    if (declared === 'otlp-json' || declared === 'otlp-protobuf') return declared;
    return message.value[0] === OPEN_BRACE ? 'otlp-json' : 'otlp-protobuf';
  }
  return declared === 'spectator' || declared === 'prometheus' ? declared : undefined;
}

/**
 * The ipc-ingestor on the bus: OTLP metrics (`otlp_metrics`) and Spectator / Istio metrics
 * (`ipc.metrics.v1`) in, the application layer store written. A batch redelivered after a failed
 * flush is recognised by its offsets and not counted again.
 */
export class IpcIngestStage extends StageRunner {
  readonly ingestor: IpcIngestor;
  private readonly lastOffsets = new Map<string, number>();
  private arrivals: number[] = [];
  private lastRetentionRun = 0;

  constructor(private readonly o: IpcIngestStageOptions) {
    super('ipc-ingestor', o);
    this.ingestor = new IpcIngestor(o.ingestor, o.clock);
    exportCounterSet(o.registry, 'topology_ipc_ingestor', this.ingestor.counters);
  }

  protected override async subscribe(): Promise<Subscription[]> {
    const { bus, instanceId } = this.o;
    return [
      await bus.subscribe({
        topics: [Topics.metadata],
        groupId: broadcastGroup('ipc-ingestor.metadata', instanceId),
        fromBeginning: true,
        handler: this.batchHandler((m) => {
          const { events, rejections } = decodeMetadataMessage(m);
          for (const e of events) this.ingestor.applyMetadata(e);
          return rejections;
        }),
      }),
      await bus.subscribe({
        topics: [Topics.otlpMetrics, Topics.ipcMetrics],
        groupId: this.o.groupId ?? 'ipc-ingestor',
        fromBeginning: true,
        handler: this.batchHandler((m) => this.onMetrics(m)),
      }),
    ];
  }

  private onMetrics(message: BusMessage): Rejection[] {
    const partition = `${message.topic}/${message.partition}`;
    const offset = Number(message.offset);
    const last = this.lastOffsets.get(partition);
    if (last !== undefined && offset <= last) return [];
    this.lastOffsets.set(partition, offset);
    const encoding = ipcEncodingOf(message);
    if (encoding === undefined) {
      return [{ reason: 'unsupported-format', message: `content-type ${JSON.stringify(message.headers[Headers.contentType] ?? '')} on ${message.topic}`, raw: message.value }];
    }
    const now = this.o.clock.now();
    this.arrivals.push(now);
    return this.ingestor.ingest(message.value, encoding, message.timestampMs > 0 ? message.timestampMs : now);
  }

  private async storeWrite(write: () => Promise<void>, count: number): Promise<void> {
    if (count === 0) return;
    try {
      await write();
    } catch (e) {
      if (!(e instanceof StoreError) || e.code !== 'invalid-record') throw e;
      await this.deadLetters.publish(
        { topic: Topics.otlpMetrics, partition: -1, offset: '' },
        e.rejected.map((r) => ({ reason: 'rejected' as const, message: e.message, raw: JSON.stringify(r) })),
      );
    }
  }

  protected async flush(): Promise<void> {
    const { nodes, buckets, withdrawn } = this.ingestor.flush();
    const arrivals = this.arrivals;
    this.arrivals = [];
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
