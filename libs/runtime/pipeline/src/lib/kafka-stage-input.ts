import { Kafka, type Admin, type Consumer, type EachBatchPayload, type PartitionOffset } from 'kafkajs';
import type { BusBatch, Subscription } from '@topology/bus';
import {
  consoleBusLogger,
  explainKafkaError,
  kafkajsLogCreator,
  kafkajsLogLevel,
  resolveKafkaBusConfig,
  toBusMessages,
  withTimeout,
  type BusLogger,
  type BusLogLevel,
  type KafkaBusConfig,
  type KafkaBusConfigInput,
} from '@topology/bus-kafka';
import type { PartitionCheckpoint, StageInput, StageInputSubscription } from './stage-input';

export interface KafkaStageInputOptions {
  /** Client settings of the cluster (brokers, client id, consumer timeouts, logging); see `KafkaBusConfig`. */
  kafka: KafkaBusConfigInput;
  /** Names the cluster in logs (its region). */
  name?: string;
  /** Called when consumers keep failing to rejoin after errors kafkajs does not retry; the process should then be restarted. */
  onFatal?: (error: Error) => void;
}


/**
 * A stage's main input on one Kafka cluster, committing the stage's checkpoints instead of the end
 * of each batch. After a batch's handler resolved (its effects published or persisted), the offset
 * committed for the partition is where the stage says a restart must read again, with the stage's
 * resume state as the commit's metadata. The consumer group then hands a restarted or new member
 * exactly what it needs to rebuild the partition's state; the stage runner skips what it already
 * holds when a rebalance makes its own member read from there again.
 *
 * Consumption mirrors the bus adapter (`@topology/bus-kafka`): one kafkajs consumer per
 * subscription, batches per partition, a failing handler retried with the same batch while
 * heartbeating, revocations derived from successive assignments.
 */
export class KafkaStageInput implements StageInput {
  readonly checkpoints = true;
  readonly config: KafkaBusConfig;
  readonly name: string;
  private readonly kafka: Kafka;
  private readonly logger: BusLogger;
  private admin: Promise<Admin> | undefined;
  private readonly consumers = new Set<CheckpointedConsumer>();

  constructor(private readonly options: KafkaStageInputOptions) {
    this.config = resolveKafkaBusConfig(options.kafka);
    this.name = options.name ?? this.config.brokers.join(',');
    this.logger = this.config.logger ?? consoleBusLogger(this.config.logLevel);
    this.kafka = new Kafka({
      brokers: this.config.brokers,
      clientId: this.config.clientId,
      connectionTimeout: this.config.connectionTimeoutMs,
      requestTimeout: this.config.requestTimeoutMs,
      retry: { retries: this.config.retries, initialRetryTime: this.config.initialRetryTimeMs },
      logLevel: kafkajsLogLevel(this.config.logLevel),
      logCreator: kafkajsLogCreator(this.logger),
    });
  }

  async subscribe(options: StageInputSubscription): Promise<Subscription> {
    const consumer = new CheckpointedConsumer(this, options);
    this.consumers.add(consumer);
    try {
      await consumer.start();
    } catch (error) {
      this.consumers.delete(consumer);
      await consumer.close();
      throw explainKafkaError(error, `subscribing group ${options.groupId} to ${options.topics.join(', ')}`, this.config.brokers);
    }
    return consumer;
  }

  async lastCheckpoint(groupId: string, topic: string, partition: number): Promise<PartitionCheckpoint | undefined> {
    const admin = await this.connectedAdmin();
    const [committed] = await retried(() => admin.fetchOffsets({ groupId, topics: [topic] }));
    const entry = committed?.partitions.find((p) => p.partition === partition);
    if (entry === undefined || entry.offset === '-1') return undefined;
    return { offset: entry.offset, metadata: entry.metadata ?? '' };
  }

  async partitionEnd(topic: string, partition: number): Promise<number> {
    return (await this.topicEnds(topic)).get(partition) ?? 0;
  }

  /** Resolves once every topic has a leader for each partition (a topic created moments ago may not yet). */
  async waitForTopics(topics: string[]): Promise<void> {
    for (const topic of topics) await this.topicEnds(topic);
  }

  /** The end offset (next offset to be written) of every partition of a topic. */
  async topicEnds(topic: string): Promise<Map<number, number>> {
    const admin = await this.connectedAdmin();
    const ends = new Map<number, number>();
    for (const p of await retried(() => admin.fetchTopicOffsets(topic))) ends.set(p.partition, Number(p.high));
    return ends;
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.close()));
    const admin = this.admin;
    this.admin = undefined;
    if (admin !== undefined) await (await admin.catch(() => undefined))?.disconnect();
  }

  /** @internal */
  newConsumer(groupId: string): Consumer {
    const c = this.config.consumer;
    return this.kafka.consumer({
      groupId,
      sessionTimeout: c.sessionTimeoutMs,
      rebalanceTimeout: c.rebalanceTimeoutMs,
      heartbeatInterval: c.heartbeatIntervalMs,
      maxWaitTimeInMs: c.maxWaitTimeMs,
      maxBytesPerPartition: c.maxBytesPerPartition,
      retry: { retries: this.config.retries, initialRetryTime: this.config.initialRetryTimeMs },
    });
  }

  /** @internal */
  log(level: BusLogLevel, message: string, fields: Record<string, unknown>): void {
    this.logger.log(level, `[input ${this.name}] ${message}`, fields);
  }

  /** @internal */
  fatal(error: Error): void {
    this.options.onFatal?.(error);
  }

  /** @internal */
  forget(consumer: CheckpointedConsumer): void {
    this.consumers.delete(consumer);
  }

  private connectedAdmin(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      try {
        await admin.connect();
        return admin;
      } catch (error) {
        this.admin = undefined;
        throw explainKafkaError(error, 'connecting the admin client', this.config.brokers);
      }
    })();
    return this.admin;
  }
}

class CheckpointedConsumer implements Subscription {
  private consumer: Consumer;
  private assigned = new Map<string, Set<number>>();
  private revocations: Promise<void> = Promise.resolve();
  private readonly wakeBackoffs = new Set<() => void>();
  /** What was last committed per partition, so an unchanged checkpoint is not committed again. */
  private readonly committed = new Map<string, string>();
  private closing: Promise<void> | undefined;
  private failedRestarts = 0;

  constructor(
    private readonly input: KafkaStageInput,
    private readonly options: StageInputSubscription,
  ) {
    this.consumer = input.newConsumer(options.groupId);
  }

  async start(): Promise<void> {
    const consumer = this.consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: this.options.topics, fromBeginning: true });
    const joined = new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.FETCH, () => this.options.onActivity?.());
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        this.onGroupJoin(event.payload.memberAssignment);
        resolve();
      });
      consumer.on(consumer.events.CRASH, (event) => {
        const { error, restart } = event.payload;
        this.input.log('error', restart ? 'consumer crashed; kafkajs restarts it' : 'consumer crashed and stopped; starting a new one', {
          groupId: this.options.groupId,
          error: String(error),
        });
        if (restart) return;
        reject(error);
        this.replace();
      });
    });
    joined.catch(() => undefined);
    await consumer.run({
      // Offsets are the stage's checkpoints, committed after each handled batch; kafkajs must commit nothing of its own.
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.input.config.consumer.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    const { sessionTimeoutMs, rebalanceTimeoutMs } = this.input.config.consumer;
    await withTimeout(joined, sessionTimeoutMs + rebalanceTimeoutMs, `group ${this.options.groupId} assigned no partitions`);
  }

  /**
   * kafkajs gives up on errors it deems final (no group coordinator while a broker restarts); a
   * stage must keep reading, so a new consumer joins the group in its place. It resumes from the
   * checkpoints, and the runner skips what this process already holds.
   */
  private replace(): void {
    if (this.closing !== undefined) return;
    const delayMs = Math.min(1_000 * 2 ** this.failedRestarts, 30_000);
    setTimeout(() => {
      if (this.closing !== undefined) return;
      const dead = this.consumer;
      this.consumer = this.input.newConsumer(this.options.groupId);
      dead.disconnect().catch(() => undefined);
      this.start().then(
        () => {
          this.failedRestarts = 0;
        },
        (error: unknown) => {
          this.failedRestarts++;
          this.input.log('error', 'a new consumer could not join', { groupId: this.options.groupId, attempt: this.failedRestarts, error: String(error) });
          if (this.failedRestarts >= 10) this.input.fatal(error instanceof Error ? error : new Error(String(error)));
          this.replace();
        },
      );
    }, delayMs).unref();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const wake of this.wakeBackoffs) wake();
      try {
        await this.consumer.disconnect();
        await this.revocations;
      } finally {
        this.input.forget(this);
      }
    })();
    return this.closing;
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, isRunning, isStale, heartbeat, resolveOffset, commitOffsetsIfNecessary } = payload;
    const last = batch.messages[batch.messages.length - 1];
    if (last === undefined) return;
    const busBatch: BusBatch = { topic: batch.topic, partition: batch.partition, messages: toBusMessages(batch) };
    for (let attempt = 1; ; attempt++) {
      if (!isRunning() || isStale()) return;
      try {
        await this.options.handler(busBatch);
        break;
      } catch (error) {
        const backoffMs = this.input.config.handlerRetryBackoffMs(attempt);
        this.input.log('warn', 'handler failed; retrying the same batch', {
          groupId: this.options.groupId,
          topic: batch.topic,
          partition: batch.partition,
          firstOffset: batch.firstOffset(),
          attempt,
          backoffMs,
          error: error instanceof Error ? error.message : String(error),
        });
        await this.backoff(backoffMs);
        // Throws when the group rebalances; kafkajs rejoins and fetches from the last checkpoint.
        await heartbeat();
      }
    }
    resolveOffset(last.offset);
    const next = String(Number(last.offset) + 1);
    const checkpoint = this.options.checkpoint(batch.topic, batch.partition, next);
    const key = `${batch.topic}\u0000${batch.partition}`;
    const stamp = `${checkpoint.offset}\u0000${checkpoint.metadata}`;
    if (this.committed.get(key) !== stamp) {
      // kafkajs passes a partition's `metadata` through to OffsetCommit; its type omits the field.
      const partitions: (PartitionOffset & { metadata: string })[] = [{ partition: batch.partition, offset: checkpoint.offset, metadata: checkpoint.metadata }];
      await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions }] });
      this.committed.set(key, stamp);
    }
    const position = Number(next);
    this.options.onActivity?.();
    this.options.onProgress?.(batch.topic, batch.partition, {
      position,
      lag: Math.max(0, Number(batch.highWatermark) - position),
      replay: Math.max(0, position - Number(checkpoint.offset)),
    });
  }

  private backoff(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.wakeBackoffs.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakeBackoffs.add(wake);
    });
  }

  /** What this member held before an assignment and no longer holds was revoked. */
  private onGroupJoin(assignment: Record<string, number[]>): void {
    const next = new Map<string, Set<number>>();
    for (const [topic, partitions] of Object.entries(assignment)) next.set(topic, new Set(partitions));
    const revoked: { topic: string; partition: number }[] = [];
    for (const [topic, partitions] of this.assigned) {
      for (const partition of partitions) {
        if (next.get(topic)?.has(partition)) continue;
        revoked.push({ topic, partition });
        this.committed.delete(`${topic}\u0000${partition}`);
      }
    }
    this.assigned = next;
    if (revoked.length === 0) return;
    this.revocations = this.revocations.then(async () => {
      try {
        await this.options.onPartitionsRevoked(revoked);
      } catch (error) {
        this.input.log('error', 'onPartitionsRevoked failed', { groupId: this.options.groupId, error: error instanceof Error ? error.message : String(error) });
      }
    });
  }
}

/**
 * Runs an admin request again while Kafka answers with a retriable error: a topic created moments
 * ago has no leader yet (NOT_LEADER_FOR_PARTITION), a coordinator is still loading.
 */
async function retried<T>(request: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (attempt >= attempts || (error as { retriable?: unknown } | undefined)?.retriable !== true) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * attempt, 1_000)));
    }
  }
}




