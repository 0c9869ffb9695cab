import { partitionForKey, type Bus, type BusBatch, type BusMessage, type OutgoingMessage, type Subscription, type SubscribeOptions, type TopicSpec } from '@topology/bus';
import type { PartitionCheckpoint, StageInput, StageInputSubscription } from '../lib/stage-input';

/**
 * Topic partitions held in memory with committed checkpoints, read by a stage through the
 * `StageInput` port in explicit steps. A test crashes a stage by dropping it and starts a new one,
 * which resumes every partition from its last checkpoint, as a Kafka consumer group would.
 */
export class PartitionLog implements StageInput {
  readonly checkpoints = true;
  private readonly logs = new Map<string, BusMessage[]>();
  private readonly committed = new Map<string, PartitionCheckpoint>();
  private member: { options: StageInputSubscription; positions: Map<string, number>; closed: boolean } | undefined;
  private roundRobin = 0;

  /**
   * @param partitions partitions of every topic
   * @param commitAfterBatch commit the end of each batch instead of the stage's checkpoint (what a plain bus does)
   */
  constructor(
    readonly partitions: number,
    private readonly commitAfterBatch = false,
  ) {}

  append(topic: string, messages: OutgoingMessage[]): void {
    for (const m of messages) {
      const partition = m.key === null ? this.roundRobin++ % this.partitions : partitionForKey(m.key, this.partitions);
      const log = this.log(topic, partition);
      log.push({ topic, partition, offset: String(log.length), key: m.key, value: m.value, headers: m.headers ?? {}, timestampMs: m.timestampMs ?? 0 });
    }
  }

  async subscribe(options: StageInputSubscription): Promise<Subscription> {
    const member = { options, positions: new Map<string, number>(), closed: false };
    for (const topic of options.topics) {
      for (let partition = 0; partition < this.partitions; partition++) {
        const checkpoint = this.committed.get(this.id(options.groupId, topic, partition));
        member.positions.set(`${topic}/${partition}`, checkpoint === undefined ? 0 : Number(checkpoint.offset));
      }
    }
    this.member = member;
    return {
      close: async () => {
        member.closed = true;
      },
    };
  }

  async lastCheckpoint(groupId: string, topic: string, partition: number): Promise<PartitionCheckpoint | undefined> {
    return this.committed.get(this.id(groupId, topic, partition));
  }

  async partitionEnd(topic: string, partition: number): Promise<number> {
    return this.log(topic, partition).length;
  }

  async close(): Promise<void> {
    this.member = undefined;
  }

  /** Hands every partition its next batch of up to `size` messages, in turn; false once all are read. */
  async deliver(size: number): Promise<boolean> {
    const member = this.member;
    if (member === undefined || member.closed) throw new Error('no stage reads the log');
    let delivered = false;
    for (const [key, position] of member.positions) {
      const [topic, partition] = splitKey(key);
      const messages = this.log(topic, partition).slice(position, position + size);
      if (messages.length === 0) continue;
      delivered = true;
      const batch: BusBatch = { topic, partition, messages };
      await member.options.handler(batch);
      const next = String(position + messages.length);
      const checkpoint = member.options.checkpoint(topic, partition, next);
      this.committed.set(this.id(member.options.groupId, topic, partition), this.commitAfterBatch ? { offset: next, metadata: checkpoint.metadata } : checkpoint);
      member.positions.set(key, position + messages.length);
    }
    return delivered;
  }

  /** Offset committed for a partition. */
  committedOffset(groupId: string, topic: string, partition: number): number {
    return Number(this.committed.get(this.id(groupId, topic, partition))?.offset ?? 0);
  }

  private log(topic: string, partition: number): BusMessage[] {
    const key = `${topic}/${partition}`;
    let log = this.logs.get(key);
    if (log === undefined) {
      log = [];
      this.logs.set(key, log);
    }
    return log;
  }

  private id(groupId: string, topic: string, partition: number): string {
    return `${groupId}/${topic}/${partition}`;
  }
}

function splitKey(key: string): [string, number] {
  const slash = key.lastIndexOf('/');
  return [key.slice(0, slash), Number(key.slice(slash + 1))];
}

/** A bus whose publishes to `topic` land in a partition log (a stage feeding its own input), the rest in `inner`. */
export class LoopbackBus implements Bus {
  constructor(
    private readonly inner: Bus,
    private readonly topic: string,
    private readonly log: PartitionLog,
  ) {}

  ensureTopics(specs: TopicSpec[]): Promise<void> {
    return this.inner.ensureTopics(specs);
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (topic === this.topic) this.log.append(topic, messages);
    await this.inner.publish(topic, messages);
  }

  subscribe(options: SubscribeOptions): Promise<Subscription> {
    return this.inner.subscribe(options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
