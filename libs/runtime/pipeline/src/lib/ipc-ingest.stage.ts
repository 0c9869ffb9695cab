import type { BusMessage, Subscription } from '@topology/bus';
import { Headers, Topics, type Rejection } from '@topology/contracts';
import { IpcIngestor, type IpcEncoding, type IpcIngestorConfig, type IpcIngestorOutput, type IpcResumeState } from '@topology/ipc-ingest';
import type { ApplicationEdgeProps, GraphLayerStore } from '@topology/model';
import { exportCounterSet } from './metrics';
import { decodeMetadataMessage } from './metadata-feed';
import type { PartitionCheckpoint, PartitionResume, StageInput } from './stage-input';
import { StageRunner, partitionId, type BroadcastSource, type InputSource, type StageRunnerOptions } from './stage-runner';

export interface IpcIngestStageOptions extends StageRunnerOptions {
  ingestor: IpcIngestorConfig;
  store: GraphLayerStore<ApplicationEdgeProps>;
  /** History older than this is deleted from the store (milliseconds). */
  retentionMs: number;
  /** Called after each persisted flush with the arrival times of the messages it made queryable. */
  onPersisted?: (ingestedAtMs: number[], persistedAtMs: number) => void;
}

const OPEN_BRACE = 0x7b;
const INPUT = 'main';
/** Processing time after which buckets close by the latest call time again, though a partition has not caught up. */
const MAX_CATCH_UP_MS = 15 * 60_000;
const NOTHING_NEEDED: ReadonlyMap<string, number> = new Map();

/** A flush's output not yet persisted, with what a checkpoint needed before the flush closed buckets. */
interface UnwrittenFlush {
  output: IpcIngestorOutput;
  replayPoints: ReadonlyMap<string, number>;
  state: IpcResumeState;
}

/**
 * The encoding of a message. On `otlp_metrics` (`otlpTopic`, with the deployment's prefix) it is
 * protobuf unless the content type says JSON (the Collector's Kafka exporter sets no header; a JSON
 * body is told by its first byte, which no ExportMetricsServiceRequest can start with); on
 * `ipc.metrics.v1` the content type is required.
 */
export function ipcEncodingOf(message: Pick<BusMessage, 'topic' | 'value' | 'headers'>, otlpTopic: string = Topics.otlpMetrics): IpcEncoding | undefined {
  const declared = IpcIngestor.encodingOf(message.headers[Headers.contentType]);
  if (message.topic === otlpTopic) {
    if (declared === 'otlp-json' || declared === 'otlp-protobuf') return declared;
    return message.value[0] === OPEN_BRACE ? 'otlp-json' : 'otlp-protobuf';
  }
  return declared === 'spectator' || declared === 'prometheus' ? declared : undefined;
}

/**
 * The ipc-ingestor on the bus: OTLP metrics (`otlp_metrics`) and Spectator / Istio metrics
 * (`ipc.metrics.v1`) in, the application layer store written. Redeliveries are skipped by the
 * runner, per partition.
 *
 * An open bucket is rewritten whole at every change, so with an input that commits checkpoints a
 * partition's checkpoint is the oldest message the ingestor would need to rebuild what it holds:
 * every message of a bucket still open, the baselines of their cumulative increases, and the
 * latest point of every cumulative series (`IpcIngestor.replayFrom`). The commit's metadata
 * carries the latest call time and the start of observation, which a restart takes up from every
 * partition before it reads any: buckets closed before the crash stay closed (their re-read points
 * are skipped), and cumulative series are judged as before. Until every partition has been read up
 * to the end it had at the restart, buckets close only up to the call time the slowest of them has
 * reached: partitions read again from checkpoints far apart, and the new calls of one that caught
 * up must not close a bucket whose old calls another has yet to read again.
 */
export class IpcIngestStage extends StageRunner {
  readonly ingestor: IpcIngestor;
  private readonly input: StageInput;
  /** Per partition, the offset below which an earlier member may have handled messages. */
  private readonly takenOverBelow = new Map<string, number>();
  /** Partitions a restart reads again, with the end they had then: buckets close by the slowest until each is read up to it. */
  private readonly catchingUp = new Map<string, number>();
  private catchUpSinceMs: number | undefined;
  private arrivals: number[] = [];
  private lastRetentionRun = 0;
  private readonly unwritten: UnwrittenFlush[] = [];

  constructor(private readonly o: IpcIngestStageOptions) {
    super('ipc-ingestor', o);
    this.ingestor = new IpcIngestor(o.ingestor, o.clock);
    this.input = this.defaultInput();
    exportCounterSet(o.registry, 'topology_ipc_ingestor', this.ingestor.counters);
  }

  protected override async subscribe(): Promise<Subscription[]> {
    if (this.input.checkpoints) await this.resumeFromLastCheckpoints();
    return this.subscribeSources();
  }

  protected override broadcasts(): BroadcastSource[] {
    return [
      {
        name: 'metadata',
        topics: [this.topics.metadata],
        handle: (m) => {
          const { events, rejections } = decodeMetadataMessage(m);
          for (const e of events) this.ingestor.applyMetadata(e);
          return rejections;
        },
      },
    ];
  }

  protected override inputs(): InputSource[] {
    return [{ name: INPUT, input: this.input, topics: [this.topics.otlpMetrics, this.topics.ipcMetrics], handle: (m) => this.onMetrics(m) }];
  }

  protected override checkpointOf(source: InputSource, topic: string, partition: number, nextOffset: string): PartitionCheckpoint {
    const id = partitionId(source.name, topic, partition);
    let oldest = this.ingestor.replayFrom(id);
    let state = this.ingestor.checkpointState();
    // Buckets a flush closed are needed again until its output is persisted.
    for (const pending of this.unwritten) {
      const needed = pending.replayPoints.get(id);
      if (needed !== undefined && (oldest === undefined || needed < oldest)) oldest = needed;
    }
    if (this.unwritten[0] !== undefined) state = this.unwritten[0].state;
    return { offset: oldest === undefined ? nextOffset : String(oldest), metadata: encodeResumeState(state) };
  }

  protected override resumePartition(source: InputSource, topic: string, partition: number, { checkpoint, endOffset }: PartitionResume): void {
    this.takenOverBelow.set(partitionId(source.name, topic, partition), endOffset);
    if (checkpoint !== undefined) this.resumeFrom(topic, partition, checkpoint);
  }

  protected override forgetPartition(source: InputSource, topic: string, partition: number): void {
    const id = partitionId(source.name, topic, partition);
    this.ingestor.forgetSource(id);
    this.takenOverBelow.delete(id);
    if (this.catchingUp.delete(id)) this.limitClosing();
  }

  /**
   * Takes up the state committed with every partition's checkpoint before any partition is read:
   * a partition read first with an older checkpoint would otherwise reopen buckets that another
   * partition's later checkpoint knows were closed, and rewrite them from part of their messages.
   */
  private async resumeFromLastCheckpoints(): Promise<void> {
    const partitionsOf = this.options.broadcastEnds;
    if (partitionsOf === undefined) return;
    for (const topic of [this.topics.otlpMetrics, this.topics.ipcMetrics]) {
      for (const [partition, end] of await partitionsOf(topic)) {
        const checkpoint = await this.input.lastCheckpoint(this.groupId, topic, partition);
        if (checkpoint === undefined) continue;
        this.resumeFrom(topic, partition, checkpoint);
        if (Number(checkpoint.offset) < end) this.catchingUp.set(partitionId(INPUT, topic, partition), end);
      }
    }
    if (this.catchingUp.size === 0) return;
    this.catchUpSinceMs = this.o.clock.now();
    this.limitClosing();
  }

  /** Buckets close up to the call time the slowest partition still catching up has reached (none read yet: what the checkpoint closed). */
  private limitClosing(): void {
    if (this.catchingUp.size === 0) {
      this.ingestor.limitClosing(undefined);
      this.catchUpSinceMs = undefined;
      return;
    }
    let slowest = Number.POSITIVE_INFINITY;
    for (const source of this.catchingUp.keys()) slowest = Math.min(slowest, this.ingestor.latestCallOf(source) ?? Number.NEGATIVE_INFINITY);
    this.ingestor.limitClosing(slowest);
  }

  private resumeFrom(topic: string, partition: number, checkpoint: PartitionCheckpoint): void {
    if (checkpoint.metadata === '') return;
    const state = decodeResumeState(checkpoint.metadata);
    if (state === undefined) this.log(`checkpoint of ${topic}/${partition} carries unreadable state ${JSON.stringify(checkpoint.metadata)}; resuming without it`);
    else this.ingestor.resume(state);
  }

  private onMetrics(message: BusMessage): Rejection[] {
    const rejections = this.read(message);
    if (this.catchingUp.size > 0) {
      const source = partitionId(INPUT, message.topic, message.partition);
      const end = this.catchingUp.get(source);
      if (end !== undefined) {
        if (Number(message.offset) + 1 >= end) this.catchingUp.delete(source);
        this.limitClosing();
      }
    }
    return rejections;
  }

  private read(message: BusMessage): Rejection[] {
    const encoding = ipcEncodingOf(message, this.topics.otlpMetrics);
    if (encoding === undefined) {
      return [{ reason: 'unsupported-format', message: `content-type ${JSON.stringify(message.headers[Headers.contentType] ?? '')} on ${message.topic}`, raw: message.value }];
    }
    const now = this.o.clock.now();
    this.arrivals.push(now);
    const receivedAtMs = message.timestampMs > 0 ? message.timestampMs : now;
    if (!this.input.checkpoints) return this.ingestor.ingest(message.value, encoding, receivedAtMs);
    const source = partitionId(INPUT, message.topic, message.partition);
    const offset = Number(message.offset);
    return this.ingestor.ingest(message.value, encoding, receivedAtMs, { source, offset, replayed: offset < (this.takenOverBelow.get(source) ?? 0) });
  }

  protected async flush(): Promise<void> {
    // Written first: a flush that failed to persist left its output here, already taken from the ingestor.
    while (this.unwritten.length > 0) {
      await this.write((this.unwritten[0] as UnwrittenFlush).output);
      this.unwritten.shift();
    }
    if (this.catchUpSinceMs !== undefined && this.o.clock.now() - this.catchUpSinceMs > MAX_CATCH_UP_MS) {
      this.log(`${this.catchingUp.size} partitions still not read up to where they ended at the restart after ${MAX_CATCH_UP_MS / 60_000} min (another ipc-ingestor in the group?): buckets close by the latest call time again`);
      this.catchingUp.clear();
      this.limitClosing();
    }
    const replayPoints = this.input.checkpoints ? this.ingestor.replayPoints() : NOTHING_NEEDED;
    const state = this.ingestor.checkpointState();
    const output = this.ingestor.flush();
    const arrivals = this.arrivals;
    this.arrivals = [];
    this.unwritten.push({ output, replayPoints, state });
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

  private async write({ nodes, buckets, withdrawn }: IpcIngestorOutput): Promise<void> {
    // The port writes the valid rest of a batch before it reports the invalid records.
    if (nodes.length > 0) await this.writeOrDeadLetter(this.topics.otlpMetrics, () => this.o.store.upsertNodes(nodes));
    if (buckets.length > 0) await this.writeOrDeadLetter(this.topics.otlpMetrics, () => this.o.store.putEdgeBuckets(buckets));
    if (withdrawn.length > 0) await this.o.store.deleteEdgeBuckets(withdrawn);
  }
}

function encodeResumeState(state: IpcResumeState): string {
  return JSON.stringify(state);
}

function decodeResumeState(metadata: string): IpcResumeState | undefined {
  try {
    const parsed: unknown = JSON.parse(metadata);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { latestCallMs, observingSinceMs } = parsed as Record<string, unknown>;
    const state: IpcResumeState = {};
    if (typeof latestCallMs === 'number' && Number.isFinite(latestCallMs)) state.latestCallMs = latestCallMs;
    if (typeof observingSinceMs === 'number' && Number.isFinite(observingSinceMs)) state.observingSinceMs = observingSinceMs;
    return state;
  } catch {
    return undefined;
  }
}
