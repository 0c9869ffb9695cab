import {
  partitionForKey,
  type Bus,
  type BusBatch,
  type OutgoingMessage,
  type SubscribeOptions,
  type Subscription,
  type TopicSpec,
} from '@topology/bus';
import { CounterSet, systemClock, type Clock } from '@topology/model';
import { PartitionLog, type PartitionReader } from './partition-log';

/** Runs a callback later; returns a function that cancels it. Tests inject one they drive by hand. */
export interface RetryScheduler {
  after(delayMs: number, run: () => void): () => void;
}

export const timerRetryScheduler: RetryScheduler = {
  after(delayMs, run) {
    const timer = setTimeout(run, delayMs);
    return () => clearTimeout(timer);
  },
};

export interface InProcessBusConfig {
  /** Partitions of a topic first seen by `publish` or `subscribe` rather than `ensureTopics`. */
  defaultPartitions: number;
  /** Most messages handed to one handler call. */
  maxBatchSize: number;
  /**
   * Messages kept per partition for groups that start later from the beginning. Only messages every
   * group with a live member has committed are released, so a slow group holds more than this.
   */
  retainedPerPartition: number;
  /** Milliseconds to wait before retrying a failed batch for the nth time in a row (n ≥ 1). */
  retryBackoffMs: (attempt: number) => number;
  /** Runs retries after their back-off. */
  scheduler: RetryScheduler;
  /** Stamps messages published without `timestampMs`. */
  clock: Clock;
}

export const defaultInProcessBusConfig: InProcessBusConfig = {
  defaultPartitions: 4,
  maxBatchSize: 1000,
  retainedPerPartition: 10_000,
  retryBackoffMs: (attempt) => Math.min(100 * 2 ** (attempt - 1), 5_000),
  scheduler: timerRetryScheduler,
  clock: systemClock,
};

export type InProcessBusCounter =
  | 'messages_published'
  | 'batches_delivered'
  | 'messages_delivered'
  | 'handler_failures'
  | 'messages_released'
  | 'offsets_reset'
  | 'rebalances'
  | 'revoke_callback_failures';

const counterDescriptions: Record<InProcessBusCounter, string> = {
  messages_published: 'Messages appended to a partition, by topic.',
  batches_delivered: 'Batches a handler completed (and whose offsets were committed), by group.',
  messages_delivered: 'Messages in batches a handler completed, by group.',
  handler_failures: 'Batches whose handler threw or rejected; each is retried after a back-off, by group.',
  messages_released: 'Messages dropped from memory after every live group committed them, by topic.',
  offsets_reset:
    'Partitions where a group resumed at the oldest retained message because its committed offset had been released (messages lost for that group), by group.',
  rebalances: 'Times a group redistributed its partitions because a member joined or left, by group.',
  revoke_callback_failures: 'onPartitionsRevoked callbacks that threw; the rebalance went on, by group.',
};

const EMPTY_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const RESOLVED: Promise<void> = Promise.resolve();
/** Keys are reused heavily (edge keys, intermediary ids); hashing each one again would dominate publish. */
const MAX_CACHED_KEYS_PER_TOPIC = 100_000;

class Topic {
  readonly logs: PartitionLog[];
  /** Groups with at least one member subscribed to this topic; they hold back retention. */
  readonly groups = new Set<Group>();
  private nextRoundRobin = 0;
  private readonly partitionOfKey = new Map<string, number>();

  constructor(
    readonly name: string,
    partitions: number,
  ) {
    this.logs = [];
    for (let p = 0; p < partitions; p++) this.logs.push(new PartitionLog(name, p));
  }

  partitionFor(key: string | null): number {
    const count = this.logs.length;
    if (key === null) {
      const partition = this.nextRoundRobin;
      this.nextRoundRobin = partition + 1 === count ? 0 : partition + 1;
      return partition;
    }
    let partition = this.partitionOfKey.get(key);
    if (partition === undefined) {
      if (this.partitionOfKey.size >= MAX_CACHED_KEYS_PER_TOPIC) this.partitionOfKey.clear();
      partition = partitionForKey(key, count);
      this.partitionOfKey.set(key, partition);
    }
    return partition;
  }
}

/**
 * A message bus inside one process, with Kafka's semantics: keyed partitions, ordered delivery per
 * partition in batches, consumer groups that share partitions and rebalance, offsets committed only
 * after a handler resolves (at-least-once), retries with back-off, and bounded retention. Delivery is
 * always asynchronous to `publish`, so a handler that publishes never re-enters another handler.
 *
 * Delivered messages are shared between groups: handlers must treat them as read-only.
 */
export class InProcessBus implements Bus {
  readonly config: InProcessBusConfig;
  readonly counters = new CounterSet<InProcessBusCounter>(counterDescriptions);
  private readonly topics = new Map<string, Topic>();
  private readonly groups = new Map<string, Group>();
  private ready: Cursor[] = [];
  private drainScheduled = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(config: Partial<InProcessBusConfig> = {}) {
    this.config = { ...defaultInProcessBusConfig, ...config };
    if (!(this.config.defaultPartitions >= 1)) throw new Error('InProcessBus: defaultPartitions must be at least 1');
    if (!(this.config.maxBatchSize >= 1)) throw new Error('InProcessBus: maxBatchSize must be at least 1');
    if (!(this.config.retainedPerPartition >= 0)) throw new Error('InProcessBus: retainedPerPartition must be 0 or more');
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    this.assertOpen();
    for (const spec of specs) {
      if (!(spec.partitions >= 1)) throw new Error(`InProcessBus: topic ${spec.topic} needs at least one partition`);
      if (!this.topics.has(spec.topic)) this.topics.set(spec.topic, new Topic(spec.topic, spec.partitions));
    }
  }

  /** Partition count of a topic, or undefined if it does not exist yet. */
  partitionsOf(topic: string): number | undefined {
    return this.topics.get(topic)?.logs.length;
  }

  publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`InProcessBus: publish to ${topic} after close`));
    const target = this.topic(topic);
    const logs = target.logs;
    const now = this.config.clock.now();
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i];
      const partition = target.partitionFor(message.key);
      const log = logs[partition];
      log.append({
        topic,
        partition,
        offset: String(log.nextOffset),
        key: message.key,
        value: message.value,
        headers: message.headers ?? EMPTY_HEADERS,
        timestampMs: message.timestampMs ?? now,
      });
    }
    this.counters.inc('messages_published', messages.length, topic);
    for (const log of logs) {
      if (log.size > this.config.retainedPerPartition) this.release(target, log);
      const readers = log.readers;
      for (let r = 0; r < readers.length; r++) readers[r].wake();
    }
    return RESOLVED;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    if (options.topics.length === 0) throw new Error(`InProcessBus: group ${options.groupId} subscribes to no topic`);
    const topics = options.topics.map((name) => this.topic(name));
    let group = this.groups.get(options.groupId);
    if (group === undefined) {
      group = new Group(this, options.groupId);
      this.groups.set(options.groupId, group);
    }
    const member = new Member(group, options, topics);
    await group.join(member);
    return member;
  }

  /**
   * Resolves once every live group has handled every message published so far and no retry is
   * pending. Lets tests and the all-in-one wait for the pipeline to settle without sleeping.
   */
  settled(): Promise<void> {
    if (this.isSettled()) return RESOLVED;
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const members: Member[] = [];
    for (const group of this.groups.values()) members.push(...group.members);
    await Promise.all(members.map((member) => member.close()));
    this.notifyIfSettled();
  }

  /** @internal Called by cursors with messages to read; delivery happens on a later turn. */
  schedule(cursor: Cursor): void {
    this.ready.push(cursor);
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(this.drain);
    }
  }

  /** @internal Drops what every live group of the topic has committed, beyond the retention. */
  release(topic: Topic, log: PartitionLog): void {
    let upTo = log.nextOffset - this.config.retainedPerPartition;
    if (upTo <= log.firstOffset) return;
    for (const group of topic.groups) {
      const committed = group.committedOffset(topic.name, log.partition);
      if (committed < upTo) upTo = committed;
    }
    const released = log.releaseBefore(upTo);
    if (released > 0) this.counters.inc('messages_released', released, topic.name);
  }

  /** @internal */
  notifyIfSettled(): void {
    if (this.idleWaiters.length === 0 || !this.isSettled()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** @internal */
  topic(name: string): Topic {
    let topic = this.topics.get(name);
    if (topic === undefined) {
      topic = new Topic(name, this.config.defaultPartitions);
      this.topics.set(name, topic);
    }
    return topic;
  }

  /** @internal */
  forgetGroup(group: Group): void {
    if (group.members.length === 0 && !group.hasCommits() && this.groups.get(group.id) === group) this.groups.delete(group.id);
  }

  private readonly drain = (): void => {
    this.drainScheduled = false;
    const cursors = this.ready;
    this.ready = [];
    for (let i = 0; i < cursors.length; i++) cursors[i].deliver();
    this.notifyIfSettled();
  };

  private isSettled(): boolean {
    if (this.ready.length > 0) return false;
    for (const group of this.groups.values()) if (!group.isSettled()) return false;
    return true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('InProcessBus: used after close');
  }
}

/** A consumer group: its members, their partitions, and its committed offsets. */
class Group {
  readonly members: Member[] = [];
  readonly cursors: Cursor[] = [];
  /** Next offset to read per topic and partition; -1 when nothing was committed. */
  private readonly committed = new Map<string, number[]>();
  /** Joins, leaves and rebalances run one at a time. */
  private changes: Promise<void> = RESOLVED;
  /** Topics some member reads; the group holds back their retention. */
  private topicsRead = new Set<Topic>();

  constructor(
    readonly bus: InProcessBus,
    readonly id: string,
  ) {}

  committedOffset(topic: string, partition: number): number {
    const offsets = this.committed.get(topic);
    return offsets === undefined ? -1 : offsets[partition];
  }

  commit(topic: string, partition: number, offset: number, partitions: number): void {
    let offsets = this.committed.get(topic);
    if (offsets === undefined) {
      offsets = new Array<number>(partitions).fill(-1);
      this.committed.set(topic, offsets);
    }
    offsets[partition] = offset;
  }

  hasCommits(): boolean {
    return this.committed.size > 0;
  }

  join(member: Member): Promise<void> {
    return this.change(() => {
      this.members.push(member);
      return this.rebalance();
    });
  }

  leave(member: Member): Promise<void> {
    return this.change(async () => {
      const index = this.members.indexOf(member);
      if (index >= 0) this.members.splice(index, 1);
      await this.rebalance();
      this.bus.forgetGroup(this);
    });
  }

  isSettled(): boolean {
    for (const cursor of this.cursors) if (!cursor.isSettled()) return false;
    return true;
  }

  private change(step: () => Promise<void>): Promise<void> {
    const next = this.changes.then(step);
    this.changes = next.catch(() => undefined);
    return next;
  }

  /**
   * Gives each partition of each subscribed topic to one member (round-robin over members in join
   * order). Partitions that move are stopped first: their in-flight batch finishes (and commits),
   * the losing member hears of it, and only then does the new owner start from the committed offset.
   */
  private async rebalance(): Promise<void> {
    const bus = this.bus;
    const topics = new Set<Topic>();
    for (const member of this.members) for (const topic of member.topics) topics.add(topic);
    const kept = new Set<Cursor>();
    const added: { member: Member; topic: Topic; log: PartitionLog }[] = [];
    for (const topic of topics) {
      const subscribers = this.members.filter((member) => member.topics.includes(topic));
      for (const log of topic.logs) {
        const member = subscribers[log.partition % subscribers.length];
        const current = this.cursors.find((cursor) => cursor.log === log);
        if (current !== undefined && current.member === member) kept.add(current);
        else added.push({ member, topic, log });
      }
    }
    const moving = this.cursors.filter((cursor) => !kept.has(cursor));
    if (moving.length > 0 || added.length > 0) bus.counters.inc('rebalances', 1, this.id);

    for (const cursor of moving) cursor.stop();
    await Promise.all(moving.map((cursor) => cursor.idle()));
    const revoked = new Map<Member, { topic: string; partition: number }[]>();
    for (const cursor of moving) {
      this.cursors.splice(this.cursors.indexOf(cursor), 1);
      if (!this.members.includes(cursor.member)) continue;
      const list = revoked.get(cursor.member) ?? [];
      list.push({ topic: cursor.log.topic, partition: cursor.log.partition });
      revoked.set(cursor.member, list);
    }
    for (const [member, partitions] of revoked) {
      const callback = member.options.onPartitionsRevoked;
      if (callback === undefined) continue;
      try {
        await callback(partitions);
      } catch {
        bus.counters.inc('revoke_callback_failures', 1, this.id);
      }
    }

    for (const topic of this.topicsRead) if (!topics.has(topic)) topic.groups.delete(this);
    for (const topic of topics) topic.groups.add(this);
    this.topicsRead = topics;
    for (const { member, topic, log } of added) {
      const cursor = new Cursor(member, topic, log, this.startOffset(member, topic, log));
      this.cursors.push(cursor);
      cursor.start();
    }
    bus.notifyIfSettled();
  }

  private startOffset(member: Member, topic: Topic, log: PartitionLog): number {
    const committed = this.committedOffset(topic.name, log.partition);
    if (committed >= 0) {
      if (committed >= log.firstOffset) return committed;
      this.bus.counters.inc('offsets_reset', 1, this.id);
      return log.firstOffset;
    }
    const start = member.options.fromBeginning === false ? log.nextOffset : log.firstOffset;
    // Committed at once, so a member taking this partition over later starts here too, not at its own "end".
    this.commit(topic.name, log.partition, start, topic.logs.length);
    return start;
  }
}

class Member implements Subscription {
  private closing: Promise<void> | undefined;

  constructor(
    readonly group: Group,
    readonly options: SubscribeOptions,
    readonly topics: Topic[],
  ) {}

  close(): Promise<void> {
    this.closing ??= this.group.leave(this);
    return this.closing;
  }
}

/** A group's read position in one partition, owned by one member. */
class Cursor implements PartitionReader {
  private position: number;
  private inFlightEnd = -1;
  private queued = false;
  private stopped = true;
  private failures = 0;
  private cancelRetry: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly groupId: string;

  constructor(
    readonly member: Member,
    private readonly topic: Topic,
    readonly log: PartitionLog,
    start: number,
  ) {
    this.position = start;
    this.groupId = member.group.id;
  }

  start(): void {
    this.stopped = false;
    this.log.readers.push(this);
    this.wake();
  }

  /** No new batch starts after this; an in-flight one still completes and commits. */
  stop(): void {
    this.stopped = true;
    const readers = this.log.readers;
    const index = readers.indexOf(this);
    if (index >= 0) readers.splice(index, 1);
    if (this.cancelRetry !== undefined) {
      this.cancelRetry();
      this.cancelRetry = undefined;
    }
  }

  idle(): Promise<void> {
    if (this.inFlightEnd < 0) return RESOLVED;
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  isSettled(): boolean {
    return this.stopped || (this.inFlightEnd < 0 && this.cancelRetry === undefined && this.position >= this.log.nextOffset);
  }

  wake(): void {
    if (this.queued || this.stopped || this.inFlightEnd >= 0 || this.cancelRetry !== undefined) return;
    if (this.position >= this.log.nextOffset) return;
    this.queued = true;
    this.member.group.bus.schedule(this);
  }

  deliver(): void {
    this.queued = false;
    if (this.stopped || this.inFlightEnd >= 0 || this.cancelRetry !== undefined) return;
    const log = this.log;
    if (this.position < log.firstOffset) {
      this.member.group.bus.counters.inc('offsets_reset', 1, this.groupId);
      this.position = log.firstOffset;
    }
    if (this.position >= log.nextOffset) return;
    const messages = log.read(this.position, this.member.group.bus.config.maxBatchSize);
    this.inFlightEnd = this.position + messages.length;
    const batch: BusBatch = { topic: log.topic, partition: log.partition, messages };
    let handled: Promise<void>;
    try {
      handled = this.member.options.handler(batch);
    } catch (error) {
      handled = Promise.reject(error);
    }
    handled.then(this.onHandled, this.onFailed);
  }

  private readonly onHandled = (): void => {
    const bus = this.member.group.bus;
    const handledCount = this.inFlightEnd - this.position;
    this.position = this.inFlightEnd;
    this.inFlightEnd = -1;
    this.failures = 0;
    this.member.group.commit(this.log.topic, this.log.partition, this.position, this.topic.logs.length);
    bus.counters.inc('batches_delivered', 1, this.groupId);
    bus.counters.inc('messages_delivered', handledCount, this.groupId);
    if (this.log.size > bus.config.retainedPerPartition) bus.release(this.topic, this.log);
    this.settle();
    this.wake();
    bus.notifyIfSettled();
  };

  private readonly onFailed = (): void => {
    const bus = this.member.group.bus;
    this.inFlightEnd = -1;
    this.failures++;
    bus.counters.inc('handler_failures', 1, this.groupId);
    this.settle();
    if (this.stopped) return;
    this.cancelRetry = bus.config.scheduler.after(bus.config.retryBackoffMs(this.failures), this.retry);
  };

  private readonly retry = (): void => {
    this.cancelRetry = undefined;
    this.wake();
  };

  private settle(): void {
    if (this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
