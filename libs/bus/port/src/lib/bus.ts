/**
 * The message bus between stages. Two adapters implement it: in-process (the all-in-one and unit
 * tests) and Kafka. Stage code sees only this port and cannot tell which one it runs on.
 */

export interface OutgoingMessage {
  /** Messages with the same key go to the same partition, in order. Null spreads them round-robin. */
  key: string | null;
  value: Uint8Array;
  headers?: Record<string, string>;
  /** Epoch milliseconds; defaults to now. */
  timestampMs?: number;
}

export interface BusMessage {
  topic: string;
  partition: number;
  /** Decimal string; increases by one per message within a partition. */
  offset: string;
  key: string | null;
  value: Uint8Array;
  headers: Record<string, string>;
  timestampMs: number;
}

/** All messages a handler receives at once come from one partition of one topic, in order. */
export interface BusBatch {
  topic: string;
  partition: number;
  messages: BusMessage[];
}

export interface SubscribeOptions {
  topics: string[];
  /**
   * Members of one group share the partitions; every group receives every message. A unique group
   * per instance (see `broadcastGroup`) makes the subscription read everything.
   */
  groupId: string;
  /** Where a group with no committed offset starts: the earliest message (default) or only new ones. */
  fromBeginning?: boolean;
  /**
   * Called with one partition's next messages. Offsets are committed only after the promise
   * resolves, so a crash redelivers the batch (at-least-once): handlers must be idempotent. A handler
   * that throws is retried with the same batch after a back-off; it must not throw for bad input
   * (dead-letter it instead).
   */
  handler: (batch: BusBatch) => Promise<void>;
  /** Called when partitions are taken from this member (rebalance) so it can flush their state. */
  onPartitionsRevoked?: (partitions: { topic: string; partition: number }[]) => Promise<void>;
}

export interface Subscription {
  /** Stops fetching, lets in-flight handlers finish, commits, and leaves the group. */
  close(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Keep only the newest message per key (log compaction). */
  compacted?: boolean;
}

export interface Bus {
  /** Creates the topics that do not exist yet; existing topics are left as they are. */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  /** Resolves once every message is acknowledged by the bus (for Kafka: by all in-sync replicas). */
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  close(): Promise<void>;
}

/** A group id no other instance shares, for subscriptions that must see every partition. */
export function broadcastGroup(base: string, instanceId: string): string {
  return `${base}.${instanceId}`;
}

/** The partition a key maps to: murmur2 as Kafka's default partitioner, so both adapters agree. */
export function partitionForKey(key: string, partitions: number): number {
  return (toPositive(murmur2(Buffer.from(key))) % partitions) >>> 0;
}

function toPositive(x: number): number {
  return x & 0x7fffffff;
}

function murmur2(data: Uint8Array): number {
  const length = data.length;
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const r = 24;
  let h = seed ^ length;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4] & 0xff) + ((data[i4 + 1] & 0xff) << 8) + ((data[i4 + 2] & 0xff) << 16) + ((data[i4 + 3] & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const rest = length % 4;
  const index = length & ~3;
  if (rest === 3) h ^= (data[index + 2] & 0xff) << 16;
  if (rest >= 2) h ^= (data[index + 1] & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[index] & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}
