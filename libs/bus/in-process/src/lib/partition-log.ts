import type { BusMessage } from '@topology/bus';

/**
 * The messages of one partition, addressed by offset. The front is released once every live group
 * has committed past it and the log holds more than its retention allows.
 */
export class PartitionLog {
  /** Stored messages; `messages[head]` has offset `firstOffset`. */
  private messages: BusMessage[] = [];
  private head = 0;
  private firstOffsetValue = 0;
  /** Cursors of the groups currently reading this partition (at most one per group). */
  readonly readers: PartitionReader[] = [];

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  get firstOffset(): number {
    return this.firstOffsetValue;
  }

  get nextOffset(): number {
    return this.firstOffsetValue + this.messages.length - this.head;
  }

  get size(): number {
    return this.messages.length - this.head;
  }

  append(message: BusMessage): void {
    this.messages.push(message);
  }

  /** Up to `max` messages starting at `fromOffset` (which must be retained). */
  read(fromOffset: number, max: number): BusMessage[] {
    const start = this.head + fromOffset - this.firstOffsetValue;
    const end = Math.min(start + max, this.messages.length);
    return this.messages.slice(start, end);
  }

  /** Drops every message below `offset`; returns how many were dropped. */
  releaseBefore(offset: number): number {
    const count = Math.min(offset, this.nextOffset) - this.firstOffsetValue;
    if (count <= 0) return 0;
    this.head += count;
    this.firstOffsetValue += count;
    // Shift the array only once the dead prefix dominates, so release stays amortised O(1).
    if (this.head >= 1024 && this.head * 2 >= this.messages.length) {
      this.messages = this.messages.slice(this.head);
      this.head = 0;
    }
    return count;
  }
}

/** What a partition log needs from a group's reader: to be woken when messages arrive. */
export interface PartitionReader {
  wake(): void;
}
