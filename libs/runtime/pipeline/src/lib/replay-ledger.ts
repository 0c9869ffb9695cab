/** The messages one group of state (a window, a bucket) was built from, by the identity each replaced. */
class LedgerGroup<C> {
  readonly members = new Map<string, number>();
  /** Lowest offset among the members; recomputed when `stale`. */
  min = Number.POSITIVE_INFINITY;
  stale = false;

  constructor(readonly context: C) {}

  lowest(): number {
    if (this.stale) {
      let min = Number.POSITIVE_INFINITY;
      for (const offset of this.members.values()) if (offset < min) min = offset;
      this.min = min;
      this.stale = false;
    }
    return this.min;
  }
}

export interface LedgerEntry<C> {
  /** Offset of the oldest message still needed. */
  offset: number;
  /** Context of the group it belongs to. */
  context: C;
}

/**
 * For each partition of a stage's input, the messages whose effects the stage holds only in memory
 * (in open windows, unflushed buckets), grouped the way the stage drops its state. If the process
 * died, a restart would have to read the partition again from the oldest of them; that offset is
 * what gets committed, never a later one.
 *
 * A group is kept until the stage no longer holds it (`held` answers false). Within a group a
 * member is one replaceable identity (a snapshot's scope and key) at the offset of its latest
 * message: replace semantics make older messages of the same identity unnecessary.
 */
export class ReplayLedger<C> {
  private readonly partitions = new Map<string, Map<string | number, LedgerGroup<C>>>();

  /** Records the first message of a group; later messages of the group are covered by it. */
  keepFirst(partition: string, group: string | number, offset: number, context: C): void {
    const groups = this.groupsOf(partition);
    if (groups.has(group)) return;
    const entry = new LedgerGroup(context);
    entry.members.set('', offset);
    entry.min = offset;
    groups.set(group, entry);
  }

  /** Records the latest message of an identity within a group (it replaces the identity's previous one). */
  keepLatest(partition: string, group: string | number, identity: string, offset: number, context: C): void {
    const groups = this.groupsOf(partition);
    let entry = groups.get(group);
    if (entry === undefined) {
      entry = new LedgerGroup(context);
      groups.set(group, entry);
    }
    const previous = entry.members.get(identity);
    entry.members.set(identity, offset);
    if (offset < entry.min) entry.min = offset;
    else if (previous === entry.min) entry.stale = true;
  }

  /** An identity withdrawn: no message of it is needed any more. */
  release(partition: string, group: string | number, identity: string): void {
    const entry = this.partitions.get(partition)?.get(group);
    if (entry === undefined) return;
    const previous = entry.members.get(identity);
    if (previous === undefined) return;
    entry.members.delete(identity);
    if (previous === entry.min) entry.stale = true;
  }

  /**
   * The oldest message still needed in a partition, or undefined when none is. Groups found no
   * longer held on the way are dropped, so only as many are asked as it takes to find one held.
   */
  oldest(partition: string, held: (context: C) => boolean): LedgerEntry<C> | undefined {
    const groups = this.partitions.get(partition);
    if (groups === undefined) return undefined;
    for (;;) {
      let bestKey: string | number | undefined;
      let best: LedgerGroup<C> | undefined;
      let bestOffset = Number.POSITIVE_INFINITY;
      for (const [key, entry] of groups) {
        const offset = entry.lowest();
        if (entry.members.size === 0) {
          groups.delete(key);
          continue;
        }
        if (offset < bestOffset) {
          bestOffset = offset;
          best = entry;
          bestKey = key;
        }
      }
      if (best === undefined || bestKey === undefined) return undefined;
      if (held(best.context)) return { offset: bestOffset, context: best.context };
      groups.delete(bestKey);
    }
  }

  /** Contexts of the groups kept for a partition. */
  *contexts(partition: string): Iterable<C> {
    const groups = this.partitions.get(partition);
    if (groups === undefined) return;
    for (const entry of groups.values()) yield entry.context;
  }

  /** Drops every group the stage no longer holds, to bound memory between checkpoints. */
  sweep(partition: string, held: (context: C) => boolean): void {
    const groups = this.partitions.get(partition);
    if (groups === undefined) return;
    for (const [key, entry] of groups) if (entry.members.size === 0 || !held(entry.context)) groups.delete(key);
  }

  /** The partition went to another member. */
  forget(partition: string): void {
    this.partitions.delete(partition);
  }

  size(partition: string): number {
    return this.partitions.get(partition)?.size ?? 0;
  }

  private groupsOf(partition: string): Map<string | number, LedgerGroup<C>> {
    let groups = this.partitions.get(partition);
    if (groups === undefined) {
      groups = new Map();
      this.partitions.set(partition, groups);
    }
    return groups;
  }
}
