import {
  CompressionTypes,
  Kafka,
  Partitioners,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type Message,
  type Producer,
  type TopicMessages,
} from 'kafkajs';
import type { Bus, BusBatch, OutgoingMessage, SubscribeOptions, Subscription, TopicSpec } from '@topology/bus';
import { CounterSet } from '@topology/model';
import { atLeast, consoleBusLogger, kafkajsLogCreator, kafkajsLogLevel, type BusLogger } from './bus-logger';
import { explainKafkaError } from './kafka-bus-error';
import { toBusMessages, withTimeout } from './kafka-messages';
import { resolveKafkaBusConfig, type KafkaBusConfig, type KafkaBusConfigInput } from './kafka-bus-config';

export type KafkaBusCounter =
  | 'messages_published'
  | 'publish_failures'
  | 'batches_handled'
  | 'messages_handled'
  | 'handler_failures'
  | 'partitions_revoked'
  | 'revoke_callback_failures';

const counterDescriptions: Record<KafkaBusCounter, string> = {
  messages_published: 'Messages acknowledged by Kafka, by topic.',
  publish_failures: 'Produce requests that failed after the client’s retries; their publish calls rejected.',
  batches_handled: 'Batches whose handler resolved and whose offsets were committed, by group.',
  messages_handled: 'Messages in batches whose handler resolved, by group.',
  handler_failures: 'Handler calls that threw or rejected; the same batch is retried after a back-off, by group.',
  partitions_revoked: 'Partitions taken from a member of this process by a rebalance, by group.',
  revoke_callback_failures: 'onPartitionsRevoked callbacks that threw (logged, then ignored), by group.',
};

/** Publishes waiting to go out in the next produce request, one entry per publish call or chunk of one. */
interface PendingPublish {
  topic: string;
  messages: Message[];
  bytes: number;
  done: PublishCompletion;
}

/** Resolves a publish call once all its chunks are acknowledged; rejects on the first failure. */
class PublishCompletion {
  remaining = 0;
  failed = false;
  readonly promise: Promise<void>;
  private resolveCall: () => void = () => undefined;
  private rejectCall: (error: Error) => void = () => undefined;

  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolveCall = resolve;
      this.rejectCall = reject;
    });
  }

  chunkSent(): void {
    if (--this.remaining === 0 && !this.failed) this.resolveCall();
  }

  fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.rejectCall(error);
  }
}


/**
 * The Bus on Apache Kafka through kafkajs. Keys are placed by the Java-compatible partitioner, so a
 * key lands where `partitionForKey` says. Concurrent publish calls are coalesced into one produce
 * request at a time, which keeps the idempotent producer's sequence numbers in order. A consumer
 * commits a batch's offsets only after its handler resolves, and retries a failing handler with the
 * same batch (heartbeating meanwhile) until it succeeds or the partition is taken away.
 */
export class KafkaBus implements Bus {
  readonly config: KafkaBusConfig;
  readonly counters = new CounterSet<KafkaBusCounter>(counterDescriptions);
  private readonly kafka: Kafka;
  private readonly logger: BusLogger;
  private admin: Admin | undefined;
  private adminConnecting: Promise<Admin> | undefined;
  private producer: Producer | undefined;
  private producerConnecting: Promise<Producer> | undefined;
  private queue: PendingPublish[] = [];
  private sending: Promise<void> | undefined;
  private readonly subscriptions = new Set<KafkaSubscription>();
  private closed = false;

  constructor(input: KafkaBusConfigInput) {
    this.config = resolveKafkaBusConfig(input);
    this.logger = atLeast(this.config.logLevel, this.config.logger ?? consoleBusLogger('debug'));
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

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    this.assertOpen();
    const admin = await this.connectedAdmin();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((spec) => !existing.has(spec.topic));
      if (missing.length === 0) return;
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((spec) => {
          const settings = { ...this.config.topicDefaults, ...this.config.topics[spec.topic] };
          const entries = { ...this.config.topicDefaults.configEntries, ...this.config.topics[spec.topic]?.configEntries };
          if (spec.compacted) entries['cleanup.policy'] = 'compact';
          return {
            topic: spec.topic,
            numPartitions: spec.partitions,
            replicationFactor: settings.replicationFactor ?? 1,
            configEntries: Object.entries(entries).map(([name, value]) => ({ name, value })),
          };
        }),
      });
    } catch (error) {
      if (isTopicAlreadyExists(error)) return;
      throw explainKafkaError(error, `creating topics ${specs.map((s) => s.topic).join(', ')}`, this.config.brokers);
    }
  }

  publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`KafkaBus: publish to ${topic} after close`));
    if (messages.length === 0) return Promise.resolve();
    const done = new PublishCompletion();
    let chunk: Message[] = [];
    let bytes = 0;
    for (const message of messages) {
      const size = messageBytes(message);
      if (chunk.length > 0 && bytes + size > this.config.maxRequestBytes) {
        this.enqueue(topic, chunk, bytes, done);
        chunk = [];
        bytes = 0;
      }
      chunk.push(toKafkaMessage(message));
      bytes += size;
    }
    this.enqueue(topic, chunk, bytes, done);
    this.sending ??= this.sendQueued();
    return done.promise;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    if (options.topics.length === 0) throw new Error(`KafkaBus: group ${options.groupId} subscribes to no topic`);
    const subscription = new KafkaSubscription(this, options);
    this.subscriptions.add(subscription);
    try {
      await subscription.start();
    } catch (error) {
      this.subscriptions.delete(subscription);
      await subscription.close();
      throw explainKafkaError(error, `subscribing group ${options.groupId} to ${options.topics.join(', ')}`, this.config.brokers);
    }
    return subscription;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    await this.sending;
    await Promise.all([this.producer?.disconnect(), this.admin?.disconnect()]);
  }

  /** @internal */
  createConsumer(options: SubscribeOptions): Consumer {
    const consumer = this.config.consumer;
    return this.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: consumer.sessionTimeoutMs,
      rebalanceTimeout: consumer.rebalanceTimeoutMs,
      heartbeatInterval: consumer.heartbeatIntervalMs,
      maxWaitTimeInMs: consumer.maxWaitTimeMs,
      maxBytesPerPartition: consumer.maxBytesPerPartition,
      retry: { retries: this.config.retries, initialRetryTime: this.config.initialRetryTimeMs },
    });
  }

  /** @internal */
  connectedAdmin(): Promise<Admin> {
    this.adminConnecting ??= (async () => {
      const admin = this.kafka.admin();
      try {
        await admin.connect();
      } catch (error) {
        this.adminConnecting = undefined;
        throw explainKafkaError(error, 'connecting the admin client', this.config.brokers);
      }
      this.admin = admin;
      return admin;
    })();
    return this.adminConnecting;
  }

  /** @internal */
  log(level: 'error' | 'warn' | 'info' | 'debug', message: string, fields: Record<string, unknown>): void {
    this.logger.log(level, `[bus] ${message}`, fields);
  }

  /** @internal */
  forget(subscription: KafkaSubscription): void {
    this.subscriptions.delete(subscription);
  }

  private enqueue(topic: string, messages: Message[], bytes: number, done: PublishCompletion): void {
    done.remaining++;
    this.queue.push({ topic, messages, bytes, done });
  }

  /** Sends queued publishes, one produce request at a time, each as large as maxRequestBytes allows. */
  private async sendQueued(): Promise<void> {
    // Starts on a later turn so that publishes made in the same turn share the request.
    await Promise.resolve();
    try {
      while (this.queue.length > 0) {
        let bytes = 0;
        let count = 0;
        while (count < this.queue.length && (count === 0 || bytes + this.queue[count].bytes <= this.config.maxRequestBytes)) {
          bytes += this.queue[count].bytes;
          count++;
        }
        const request = this.queue.splice(0, count);
        const byTopic = new Map<string, TopicMessages>();
        for (const pending of request) {
          const entry = byTopic.get(pending.topic);
          if (entry === undefined) byTopic.set(pending.topic, { topic: pending.topic, messages: [...pending.messages] });
          else for (const message of pending.messages) entry.messages.push(message);
        }
        try {
          const producer = await this.connectedProducer();
          await producer.sendBatch({
            topicMessages: [...byTopic.values()],
            acks: this.config.acks,
            compression: this.config.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
          });
          for (const entry of byTopic.values()) this.counters.inc('messages_published', entry.messages.length, entry.topic);
          for (const pending of request) pending.done.chunkSent();
        } catch (error) {
          this.counters.inc('publish_failures');
          const explained = explainKafkaError(error, `publishing to ${[...byTopic.keys()].join(', ')}`, this.config.brokers);
          for (const pending of request) pending.done.fail(explained);
        }
      }
    } finally {
      this.sending = undefined;
    }
  }

  private connectedProducer(): Promise<Producer> {
    this.producerConnecting ??= (async () => {
      const producer = this.kafka.producer({
        createPartitioner: Partitioners.JavaCompatiblePartitioner,
        idempotent: this.config.idempotent,
        maxInFlightRequests: this.config.maxInFlightRequests,
        retry: { retries: this.config.publishRetries, initialRetryTime: this.config.initialRetryTimeMs, maxRetryTime: 10_000 },
        allowAutoTopicCreation: true,
      });
      try {
        await producer.connect();
      } catch (error) {
        this.producerConnecting = undefined;
        throw error;
      }
      this.producer = producer;
      return producer;
    })();
    return this.producerConnecting;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('KafkaBus: used after close');
  }
}

/** One consumer in one group, running a handler over its partitions' batches. */
class KafkaSubscription implements Subscription {
  private readonly consumer: Consumer;
  private assigned = new Map<string, Set<number>>();
  /** Partitions that had no committed offset when a subscription with fromBeginning false started, with the end offset then. */
  private readonly startAtEnd = new Map<string, Map<number, string>>();
  private revocations: Promise<void> = Promise.resolve();
  private readonly wakeBackoffs = new Set<() => void>();
  private closing: Promise<void> | undefined;
  private readonly groupId: string;

  constructor(
    private readonly bus: KafkaBus,
    private readonly options: SubscribeOptions,
  ) {
    this.consumer = bus.createConsumer(options);
    this.groupId = options.groupId;
  }

  async start(): Promise<void> {
    const { consumer, options } = this;
    await consumer.connect();
    if (options.fromBeginning === false) await this.findPartitionsStartingAtEnd();
    await consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning !== false });
    const joined = new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        this.onGroupJoin(event.payload.memberAssignment);
        resolve();
      });
      consumer.on(consumer.events.CRASH, (event) => {
        const { error, restart } = event.payload;
        this.bus.log('error', restart ? 'consumer crashed; kafkajs restarts it' : 'consumer crashed and stopped', {
          groupId: this.groupId,
          error: String(error),
        });
        if (!restart) reject(error);
      });
    });
    // Observed below once run() returns; this keeps a crash during run() from going unhandled.
    joined.catch(() => undefined);
    await consumer.run({
      autoCommit: true,
      // Commit as soon as a batch's last offset is resolved, i.e. after its handler resolved.
      autoCommitThreshold: 1,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.bus.config.consumer.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    // run() returns early when the first join fails (e.g. the group coordinator is still loading) and
    // kafkajs retries in the background; a subscription counts as started once it holds partitions.
    const { sessionTimeoutMs, rebalanceTimeoutMs } = this.bus.config.consumer;
    await withTimeout(joined, sessionTimeoutMs + rebalanceTimeoutMs, `group ${this.groupId} assigned no partitions`);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const wake of this.wakeBackoffs) wake();
      try {
        await this.consumer.disconnect();
      } finally {
        this.bus.forget(this);
      }
    })();
    return this.closing;
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, isRunning, isStale, heartbeat, resolveOffset, commitOffsetsIfNecessary } = payload;
    if (batch.messages.length === 0) return;
    const busBatch: BusBatch = { topic: batch.topic, partition: batch.partition, messages: toBusMessages(batch) };
    for (let attempt = 1; ; attempt++) {
      if (!isRunning() || isStale()) return;
      try {
        await this.options.handler(busBatch);
        break;
      } catch (error) {
        this.bus.counters.inc('handler_failures', 1, this.groupId);
        const backoffMs = this.bus.config.handlerRetryBackoffMs(attempt);
        this.bus.log('warn', 'handler failed; retrying the same batch', {
          groupId: this.groupId,
          topic: batch.topic,
          partition: batch.partition,
          firstOffset: batch.firstOffset(),
          attempt,
          backoffMs,
          error: error instanceof Error ? error.message : String(error),
        });
        await this.backoff(backoffMs);
        // Throws if the group is rebalancing; kafkajs then rejoins and the batch is fetched again.
        await heartbeat();
      }
    }
    resolveOffset(batch.messages[batch.messages.length - 1].offset);
    await commitOffsetsIfNecessary();
    this.bus.counters.inc('batches_handled', 1, this.groupId);
    this.bus.counters.inc('messages_handled', busBatch.messages.length, this.groupId);
  }

  /** Waits between handler retries; close() cuts the wait short. */
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

  /**
   * kafkajs reports a member's new assignment after each rebalance (GROUP_JOIN); what it held before
   * and no longer holds was revoked. kafkajs offers no hook before the handover, so the callback runs
   * once the group has already moved on.
   */
  private onGroupJoin(assignment: Record<string, number[]>): void {
    const next = new Map<string, Set<number>>();
    for (const [topic, partitions] of Object.entries(assignment)) next.set(topic, new Set(partitions));
    const revoked: { topic: string; partition: number }[] = [];
    for (const [topic, partitions] of this.assigned) {
      for (const partition of partitions) if (!next.get(topic)?.has(partition)) revoked.push({ topic, partition });
    }
    this.assigned = next;
    this.seekNewPartitionsToEnd(next);
    if (revoked.length === 0) return;
    this.bus.counters.inc('partitions_revoked', revoked.length, this.groupId);
    const callback = this.options.onPartitionsRevoked;
    if (callback === undefined) return;
    this.revocations = this.revocations.then(async () => {
      try {
        await callback(revoked);
      } catch (error) {
        this.bus.counters.inc('revoke_callback_failures', 1, this.groupId);
        this.bus.log('error', 'onPartitionsRevoked failed', { groupId: this.groupId, error: error instanceof Error ? error.message : String(error) });
      }
    });
  }

  /**
   * kafkajs resolves "latest" only at its first fetch, after subscribe has returned, so a message
   * published in between would be skipped. The end offsets are read before joining instead, and the
   * new partitions are sought there as soon as they are assigned (kafkajs commits the seek).
   */
  private async findPartitionsStartingAtEnd(): Promise<void> {
    const admin = await this.bus.connectedAdmin();
    const committed = await admin.fetchOffsets({ groupId: this.groupId, topics: this.options.topics });
    for (const { topic, partitions } of committed) {
      const uncommitted = new Set(partitions.filter((p) => p.offset === '-1').map((p) => p.partition));
      if (uncommitted.size === 0) continue;
      const ends = new Map<number, string>();
      for (const end of await admin.fetchTopicOffsets(topic)) if (uncommitted.has(end.partition)) ends.set(end.partition, end.offset);
      this.startAtEnd.set(topic, ends);
    }
  }

  private seekNewPartitionsToEnd(assignment: Map<string, Set<number>>): void {
    for (const [topic, ends] of this.startAtEnd) {
      for (const partition of assignment.get(topic) ?? []) {
        const offset = ends.get(partition);
        if (offset === undefined) continue;
        ends.delete(partition);
        this.consumer.seek({ topic, partition, offset });
      }
    }
  }
}


function toKafkaMessage(message: OutgoingMessage): Message {
  const value = message.value;
  return {
    key: message.key,
    value: Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength),
    headers: message.headers,
    timestamp: message.timestampMs === undefined ? undefined : String(message.timestampMs),
  };
}

function messageBytes(message: OutgoingMessage): number {
  let bytes = message.value.byteLength + (message.key?.length ?? 0) + 70;
  if (message.headers !== undefined) for (const name in message.headers) bytes += name.length + message.headers[name].length + 2;
  return bytes;
}



/** Another process created the topic between listing and creating: that is success. */
function isTopicAlreadyExists(error: unknown): boolean {
  const nested = (error as { errors?: unknown } | undefined)?.errors;
  const errors = Array.isArray(nested) ? nested : [error];
  return errors.length > 0 && errors.every((e) => (e as { type?: unknown } | undefined)?.type === 'TOPIC_ALREADY_EXISTS');
}
