import { SpanStatusCode, trace, type Attributes, type Tracer } from '@opentelemetry/api';
import { broadcastGroup, type Bus, type BusBatch, type BusMessage, type Subscription } from '@topology/bus';
import type { Rejection } from '@topology/contracts';
import { StoreError, type Clock } from '@topology/model';
import type { Registry } from 'prom-client';
import { DeadLetterPublisher } from './dead-letters';
import { FlushGate } from './flush-gate';
import { ProgressClock } from './progress-clock';
import { StageMetrics } from './metrics';
import { BusStageInput, type PartitionCheckpoint, type PartitionProgress, type PartitionResume, type StageInput } from './stage-input';
import { DEFAULT_TOPICS, type PipelineTopics } from './topic-names';

export interface StageRunnerOptions {
  bus: Bus;
  clock: Clock;
  registry: Registry;
  /** Unique per process start: names this instance's broadcast subscriptions. */
  instanceId: string;
  /** Milliseconds between flushes of the stage's state downstream. */
  flushIntervalMs: number;
  /** Records waiting for a flush that trigger one early. */
  maxPendingRecords: number;
  log?: (message: string) => void;
  /** Topic names; the contract's by default. */
  topics?: PipelineTopics;
  /** Consumer group of the stage's main input, shared by its instances; the stage's name by default. */
  groupId?: string;
  /** Where the main input is read; the bus by default (offsets committed after each batch). */
  input?: StageInput;
  /**
   * End offsets of a topic on the bus, by partition. When given, `start` reads the broadcast topics
   * (metadata, learned ownership) up to them before subscribing to the main input, so that a
   * restarted stage handles its first records knowing what it knew before it stopped.
   */
  broadcastEnds?: (topic: string) => Promise<Map<number, number>>;
  /** Milliseconds an input may go without a fetch or a batch before `progressClock` stands still (5 000). */
  inputStallMs?: number;
}

/** Topics every instance reads whole (metadata, learned ownership), through the bus. */
export interface BroadcastSource {
  name: string;
  topics: string[];
  handle: (message: BusMessage) => Rejection[] | void;
}

/** The main input of a stage: partitions its instances share in one consumer group. */
export interface InputSource {
  /** Names the input among several (the region of a Kafka cluster); scopes partition state. */
  name: string;
  input: StageInput;
  topics: string[];
  handle: (message: BusMessage) => Rejection[] | void;
}

interface PartitionState {
  /** Offset of the last message whose effects this process holds; redeliveries up to it are skipped. */
  appliedThrough: number;
  /** Rejections not yet dead-lettered (a failed publish is retried with the batch). */
  deadLetters: { message: BusMessage; rejections: Rejection[] }[];
}

/** Identifies one partition of one input, across inputs on several clusters. */
export function partitionId(source: string, topic: string, partition: number): string {
  return `${source}\u0000${topic}\u0000${partition}`;
}

/**
 * What every stage runner shares: subscriptions whose handlers return only once the stage's next
 * flush has published what the batch produced (so offsets are committed after that, not before),
 * a periodic flush, dead letters, metrics and tracing.
 *
 * A stage declares its broadcast topics and its main inputs. Each input partition keeps the offset
 * up to which its effects are held in this process: a redelivery of those messages (a retried
 * batch, or the re-read that follows a rebalance while the offsets committed trail the position)
 * is skipped, so additive state never counts a message twice. A stage whose input commits
 * checkpoints (Kafka) says in `checkpointOf` from where a restart must read a partition again to
 * rebuild what it holds in memory, and is told in `resumePartition` where a restart resumed.
 */
export abstract class StageRunner {
  protected readonly metrics: StageMetrics;
  protected readonly deadLetters: DeadLetterPublisher;
  protected readonly topics: PipelineTopics;
  protected readonly tracer: Tracer;
  /**
   * Processing time that stands still while an input reporting activity makes none (a broker
   * down, a consumer rejoining): the clock for state that waits for input in processing time.
   */
  protected readonly progressClock: ProgressClock;
  private readonly gate: FlushGate;
  private readonly subscriptions: Subscription[] = [];
  private readonly partitions = new Map<string, PartitionState>();
  private readonly broadcastHandled = new Map<string, number>();
  private broadcastWaiters: (() => boolean)[] = [];
  /** Output of flushes whose publish failed; sent again before the next flush computes anything. */
  private readonly outbox = new Set<{ topic: string; messages: { key: string | null; value: Uint8Array }[] }>();
  private started = false;

  protected constructor(
    readonly stage: string,
    protected readonly options: StageRunnerOptions,
  ) {
    this.topics = options.topics ?? DEFAULT_TOPICS;
    this.metrics = new StageMetrics(options.registry, stage);
    this.deadLetters = new DeadLetterPublisher(options.bus, this.metrics, options.clock);
    this.tracer = trace.getTracer('topology-pipeline');
    this.progressClock = new ProgressClock(options.clock, options.inputStallMs ?? 5_000);
    this.gate = new FlushGate(
      () => this.timedFlush(),
      options.flushIntervalMs,
      options.maxPendingRecords,
      (e) => this.log(`flush failed: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  /** Consumer group of the main input. */
  get groupId(): string {
    return this.options.groupId ?? this.stage;
  }

  /** True once every subscription is in place (broadcast topics read up to their ends first, when asked). */
  isStarted(): boolean {
    return this.started;
  }

  async start(): Promise<void> {
    this.gate.start();
    for (const sub of await this.subscribe()) this.subscriptions.push(sub);
    this.started = true;
  }

  /** Stops consuming (in-flight batches finish, flush and commit), flushes what is held, and leaves the groups. */
  async stop(): Promise<void> {
    this.started = false;
    await Promise.all(this.subscriptions.splice(0).map((s) => s.close()));
    for (const source of this.inputs()) this.progressClock.forget(source.name);
    await this.gate.stop();
  }

  /** Milliseconds since the last completed flush; grows without bound when flushes fail or hang. */
  msSinceFlush(): number {
    return this.metrics.msSinceFlush();
  }

  /** Forces a flush now; resolves when it has completed. */
  flushNow(): Promise<void> {
    return this.gate.flushNow();
  }

  /** Topics every instance reads whole; none by default. */
  protected broadcasts(): BroadcastSource[] {
    return [];
  }

  /** The main inputs; none by default. */
  protected inputs(): InputSource[] {
    return [];
  }

  /** The main input given in the options, or the bus. */
  protected defaultInput(): StageInput {
    return this.options.input ?? new BusStageInput(this.options.bus);
  }

  /**
   * Where a restart must read a partition again so that the stage can rebuild what it holds of it
   * in memory; called after each handled batch of an input that commits checkpoints. The default,
   * right for a stage that holds nothing unpublished, resumes after the batch.
   */
  protected checkpointOf(_source: InputSource, _topic: string, _partition: number, nextOffset: string): PartitionCheckpoint {
    return { offset: nextOffset, metadata: '' };
  }

  /**
   * Called before the first batch of a partition this process holds nothing of (input with
   * checkpoints only), with the checkpoint it resumes from and the partition's end at that time.
   */
  protected resumePartition(_source: InputSource, _topic: string, _partition: number, _resume: PartitionResume): void {
    // Nothing to restore by default.
  }

  /** Called when another member now reads the partition: the stage drops what it holds of it. */
  protected forgetPartition(_source: InputSource, _topic: string, _partition: number): void {
    // Nothing held per partition by default.
  }

  /** Subscribes the stage; `subscribeSources` does it from `broadcasts` and `inputs`. */
  protected abstract subscribe(): Promise<Subscription[]>;

  /**
   * Subscribes the broadcast topics, waits until they are read up to their ends when
   * `broadcastEnds` is given, then subscribes the main inputs.
   */
  protected async subscribeSources(): Promise<Subscription[]> {
    const subscriptions: Subscription[] = [];
    const broadcasts = this.broadcasts();
    for (const source of broadcasts) {
      subscriptions.push(
        await this.options.bus.subscribe({
          topics: source.topics,
          groupId: broadcastGroup(`${this.stage}.${source.name}`, this.options.instanceId),
          fromBeginning: true,
          handler: this.broadcastHandler(source),
        }),
      );
    }
    if (this.options.broadcastEnds !== undefined && broadcasts.length > 0) await this.catchUp(broadcasts, this.options.broadcastEnds);
    for (const source of this.inputs()) {
      subscriptions.push(
        await source.input.subscribe({
          topics: source.topics,
          groupId: this.groupId,
          handler: (batch) => this.traced(`${this.stage} process`, batchAttributes(batch), () => this.handleInput(source, batch)),
          checkpoint: (topic, partition, nextOffset) => this.checkpointOf(source, topic, partition, nextOffset),
          onPartitionsRevoked: async (partitions) => this.revoked(source, partitions),
          onProgress: (topic, partition, progress) => this.progressed(source.name, topic, partition, progress),
          onActivity: () => this.progressClock.activity(source.name),
        }),
      );
    }
    return subscriptions;
  }

  /** Wraps a per-message handler: counts, dead-letters what it rejects, then waits for the flush. */
  protected batchHandler(handle: (message: BusMessage) => Rejection[] | void, source = 'bus'): (batch: BusBatch) => Promise<void> {
    return (batch) => this.apply(this.partitionState(partitionId(source, batch.topic, batch.partition)), batch, handle);
  }

  /**
   * Publishes part of a flush's output. The stage's state no longer marks it as changed, so if the
   * publish fails it is kept and sent again at the start of the next flush, before newer output.
   */
  protected async publish(topic: string, messages: { key: string | null; value: Uint8Array }[]): Promise<void> {
    if (messages.length === 0) return;
    const entry = { topic, messages };
    this.outbox.add(entry);
    await this.options.bus.publish(topic, messages);
    this.outbox.delete(entry);
    this.metrics.produced.inc({ topic }, messages.length);
  }

  /**
   * Runs a store write. Records the store refused as invalid (it wrote the valid rest) are
   * dead-lettered as `rejected`, under the input topic they came from, rather than retried; any
   * other failure throws, and the flush is tried again.
   */
  protected async writeOrDeadLetter(sourceTopic: string, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (e) {
      if (!(e instanceof StoreError) || e.code !== 'invalid-record') throw e;
      await this.deadLetters.publish(
        { topic: sourceTopic, partition: -1, offset: '' },
        e.rejected.map((r) => ({ reason: 'rejected' as const, message: e.message, raw: JSON.stringify(r) })),
      );
    }
  }

  /** Records how long after its arrival a record's effect left this stage. */
  protected observeFreshness(ingestedAtMs: number, nowMs: number): void {
    if (ingestedAtMs > 0 && nowMs >= ingestedAtMs) this.metrics.freshnessSeconds.observe((nowMs - ingestedAtMs) / 1000);
  }

  protected log(message: string): void {
    (this.options.log ?? ((m: string) => console.error(m)))(`[${this.stage}] ${message}`);
  }

  private async handleInput(source: InputSource, batch: BusBatch): Promise<void> {
    const id = partitionId(source.name, batch.topic, batch.partition);
    let state = this.partitions.get(id);
    if (state === undefined) {
      if (source.input.checkpoints) {
        const [checkpoint, endOffset] = await Promise.all([
          source.input.lastCheckpoint(this.groupId, batch.topic, batch.partition),
          source.input.partitionEnd(batch.topic, batch.partition),
        ]);
        this.resumePartition(source, batch.topic, batch.partition, { checkpoint, endOffset });
      }
      state = this.partitionState(id);
    }
    await this.apply(state, batch, source.handle);
  }

  private broadcastHandler(source: BroadcastSource): (batch: BusBatch) => Promise<void> {
    return async (batch) => {
      await this.apply(this.partitionState(partitionId(`broadcast:${source.name}`, batch.topic, batch.partition)), batch, source.handle);
      const last = batch.messages[batch.messages.length - 1];
      if (last === undefined) return;
      this.broadcastHandled.set(`${batch.topic}\u0000${batch.partition}`, Number(last.offset));
      if (this.broadcastWaiters.length > 0) this.broadcastWaiters = this.broadcastWaiters.filter((caughtUp) => !caughtUp());
    };
  }

  private partitionState(id: string): PartitionState {
    let state = this.partitions.get(id);
    if (state === undefined) {
      state = { appliedThrough: -1, deadLetters: [] };
      this.partitions.set(id, state);
    }
    return state;
  }

  private async apply(state: PartitionState, batch: BusBatch, handle: (message: BusMessage) => Rejection[] | void): Promise<void> {
    let applied = 0;
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      if (offset <= state.appliedThrough) continue;
      // Marked before handling: a handler that throws must not get the same message again and again.
      state.appliedThrough = offset;
      applied++;
      let rejections: Rejection[] | void;
      try {
        rejections = handle(message);
      } catch (e) {
        rejections = [{ reason: 'malformed', message: `the stage failed on this message: ${e instanceof Error ? e.message : String(e)}`, raw: message.value }];
      }
      if (rejections && rejections.length > 0) state.deadLetters.push({ message, rejections });
    }
    const skipped = batch.messages.length - applied;
    if (skipped > 0) this.metrics.dropped.inc({ topic: batch.topic, reason: 'already-applied' }, skipped);
    if (applied > 0) this.metrics.consumed.inc({ topic: batch.topic }, applied);
    while (state.deadLetters.length > 0) {
      const next = state.deadLetters[0];
      if (next === undefined) break;
      await this.deadLetters.publish(next.message, next.rejections);
      state.deadLetters.shift();
    }
    await this.gate.waitForFlush(applied);
  }

  private async revoked(source: InputSource, partitions: { topic: string; partition: number }[]): Promise<void> {
    for (const { topic, partition } of partitions) {
      this.partitions.delete(partitionId(source.name, topic, partition));
      this.forgetPartition(source, topic, partition);
      this.metrics.partitionGone(source.name, topic, partition);
    }
    this.log(`partitions moved to another member: ${partitions.map((p) => `${p.topic}/${p.partition}`).join(', ')}`);
  }

  private progressed(input: string, topic: string, partition: number, progress: PartitionProgress): void {
    const labels = { input, topic, partition: String(partition) };
    this.metrics.lag.set(labels, progress.lag);
    this.metrics.position.set(labels, progress.position);
    this.metrics.replayBacklog.set(labels, progress.replay);
  }

  /** Waits until every broadcast partition is read up to the end it had when this was called. */
  private async catchUp(broadcasts: BroadcastSource[], endsOf: (topic: string) => Promise<Map<number, number>>): Promise<void> {
    const targets: { key: string; last: number }[] = [];
    for (const source of broadcasts) {
      for (const topic of source.topics) {
        for (const [partition, end] of await endsOf(topic)) if (end > 0) targets.push({ key: `${topic}\u0000${partition}`, last: end - 1 });
      }
    }
    const behind = () => targets.filter((t) => (this.broadcastHandled.get(t.key) ?? -1) < t.last);
    if (behind().length === 0) return;
    const started = Date.now();
    const report = setInterval(() => this.log(`reading broadcast topics before the main input: ${behind().length} partitions behind after ${Math.round((Date.now() - started) / 1000)} s`), 10_000);
    report.unref();
    try {
      await new Promise<void>((resolve) => {
        this.broadcastWaiters.push(() => {
          if (behind().length > 0) return false;
          resolve();
          return true;
        });
      });
    } finally {
      clearInterval(report);
    }
  }

  private async traced<T>(name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
    return this.tracer.startActiveSpan(name, { attributes }, async (span) => {
      try {
        return await work();
      } catch (e) {
        span.recordException(e instanceof Error ? e : String(e));
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw e;
      } finally {
        span.end();
      }
    });
  }

  private async timedFlush(): Promise<void> {
    const end = this.metrics.flushSeconds.startTimer();
    try {
      for (const entry of [...this.outbox]) {
        await this.options.bus.publish(entry.topic, entry.messages);
        this.outbox.delete(entry);
        this.metrics.produced.inc({ topic: entry.topic }, entry.messages.length);
      }
      await this.traced(`${this.stage} flush`, { 'topology.stage': this.stage }, () => this.flush());
      this.metrics.flushed();
    } finally {
      end();
    }
  }

  protected abstract flush(): Promise<void>;
}

function batchAttributes(batch: BusBatch): Attributes {
  return {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'process',
    'messaging.destination.name': batch.topic,
    'messaging.destination.partition.id': String(batch.partition),
    'messaging.batch.message_count': batch.messages.length,
  };
}
