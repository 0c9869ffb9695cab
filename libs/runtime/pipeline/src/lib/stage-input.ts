import type { Bus, BusBatch, Subscription } from '@topology/bus';

/** Where a restart resumes reading one partition, and what the stage needs to resume there. */
export interface PartitionCheckpoint {
  /** Offset of the first message a restart must read again, as a decimal string. */
  offset: string;
  /** State of the stage that goes with the offset (for stage 1, the event time reached before it); '' for none. */
  metadata: string;
}

/** How far a member has read one partition, reported after each batch. */
export interface PartitionProgress {
  /** Offset after the last message handled. */
  position: number;
  /** Messages in the partition not handled yet, as of the batch's fetch. */
  lag: number;
  /** Messages before `position` that a restart would read again (the stage still holds their effects in memory only). */
  replay: number;
}

export interface StageInputSubscription {
  topics: string[];
  groupId: string;
  /** Handles one partition's next messages; resolves once their effects are published or persisted. */
  handler: (batch: BusBatch) => Promise<void>;
  /** After a batch's handler resolved: where a restart must resume the partition. */
  checkpoint: (topic: string, partition: number, nextOffset: string) => PartitionCheckpoint;
  /** Partitions this member no longer reads (rebalance). */
  onPartitionsRevoked: (partitions: { topic: string; partition: number }[]) => Promise<void>;
  onProgress?: (topic: string, partition: number, progress: PartitionProgress) => void;
  /** The input made progress: a fetch was answered (empty or not) or a batch handled. */
  onActivity?: () => void;
}

/**
 * The main input of a stage: a consumer group over partitioned topics. Two kinds exist. The bus
 * itself commits after each batch; that is right for the in-process bus, whose messages die with
 * the stage's state. `KafkaStageInput` commits the stage's checkpoints instead, so that a stage
 * that lost its in-memory state re-reads what it needs to rebuild it.
 */
export interface StageInput {
  /** Whether offsets come from the stage's checkpoints (the stage must then track what it still needs). */
  readonly checkpoints: boolean;
  subscribe(options: StageInputSubscription): Promise<Subscription>;
  /** The checkpoint a group last committed for a partition; undefined when it has none. */
  lastCheckpoint(groupId: string, topic: string, partition: number): Promise<PartitionCheckpoint | undefined>;
  /** The offset the next message written to a partition will get. */
  partitionEnd(topic: string, partition: number): Promise<number>;
  close(): Promise<void>;
}

/** Where a member takes a partition up: the last checkpoint, and how far the partition was written then. */
export interface PartitionResume {
  checkpoint: PartitionCheckpoint | undefined;
  /** Messages before this offset may have been handled by an earlier member (which may have published their effects). */
  endOffset: number;
}

/** A stage input on the bus port: offsets are committed after each handled batch. */
export class BusStageInput implements StageInput {
  readonly checkpoints = false;

  constructor(private readonly bus: Bus) {}

  subscribe(options: StageInputSubscription): Promise<Subscription> {
    return this.bus.subscribe({
      topics: options.topics,
      groupId: options.groupId,
      fromBeginning: true,
      handler: options.handler,
      onPartitionsRevoked: options.onPartitionsRevoked,
    });
  }

  async lastCheckpoint(): Promise<PartitionCheckpoint | undefined> {
    return undefined;
  }

  async partitionEnd(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {
    // The bus belongs to whoever created it.
  }
}
