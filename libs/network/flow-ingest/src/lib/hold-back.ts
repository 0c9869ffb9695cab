import { AddressKey } from './ip-address';

/** An item waiting in the hold-back, and what it waits on. */
export interface HeldEntry<T> {
  readonly value: T;
  /** Processing time it was held at. */
  readonly heldAtMs: number;
  /** The one or two addresses whose owner it waits for. */
  readonly addresses: readonly AddressKey[];
  /** Set once it left the hold-back (released, expired or pushed out). */
  gone: boolean;
}

const NONE: readonly never[] = Object.freeze([]);

interface Waiting<T> {
  entries: HeldEntry<T>[];
  live: number;
}

export interface HoldBackOptions {
  /** How long an item may wait, in ms of processing time. */
  holdBackMs: number;
  /** Items held at once; beyond it the oldest leave early. */
  maxHeld: number;
}

/**
 * Flows waiting for the owner of an address to become known, bounded in time (processing time, so
 * a quiet source cannot hold flows forever) and in count. Items are indexed by the addresses they
 * wait on, so new evidence for one address finds its waiters at once, and kept in arrival order, so
 * expiry looks only at the front. Removal is lazy: an entry that left is marked and skipped, and an
 * address's list is compacted once most of it is gone.
 */
export class HoldBack<T> {
  private readonly byAddress = new Map<AddressKey, Waiting<T>>();
  private queue: HeldEntry<T>[] = [];
  private head = 0;
  private live = 0;

  constructor(private readonly options: HoldBackOptions) {}

  /** Holds an item; returns the oldest items pushed out because the bound was reached. */
  hold(value: T, addresses: readonly AddressKey[], nowMs: number): HeldEntry<T>[] {
    const entry: HeldEntry<T> = { value, heldAtMs: nowMs, addresses, gone: false };
    this.queue.push(entry);
    this.live++;
    for (const address of addresses) {
      let waiting = this.byAddress.get(address);
      if (waiting === undefined) {
        waiting = { entries: [], live: 0 };
        this.byAddress.set(address, waiting);
      }
      waiting.entries.push(entry);
      waiting.live++;
    }
    if (this.live <= this.options.maxHeld) return [];
    const pushedOut: HeldEntry<T>[] = [];
    while (this.live > this.options.maxHeld) {
      const oldest = this.shift();
      if (oldest === undefined) break;
      pushedOut.push(oldest);
    }
    return pushedOut;
  }

  /**
   * Entries waiting on the address, oldest first. The list may still hold entries that left (check
   * `gone`); it stays valid while the caller releases entries from it.
   */
  waitingOn(address: AddressKey): readonly HeldEntry<T>[] {
    return this.byAddress.get(address)?.entries ?? NONE;
  }

  /** Every address something waits on. */
  addresses(): AddressKey[] {
    return [...this.byAddress.keys()];
  }

  /** Takes an entry out: its owner became known. */
  release(entry: HeldEntry<T>): void {
    if (entry.gone) return;
    this.leave(entry);
  }

  /** Takes out every entry held for `holdBackMs` or longer, oldest first. */
  expire(nowMs: number): HeldEntry<T>[] {
    const expired: HeldEntry<T>[] = [];
    const cutoff = nowMs - this.options.holdBackMs;
    while (this.head < this.queue.length) {
      const entry = this.queue[this.head] as HeldEntry<T>;
      if (!entry.gone && entry.heldAtMs > cutoff) break;
      this.head++;
      if (!entry.gone) {
        this.leave(entry);
        expired.push(entry);
      }
    }
    this.compactQueue();
    return expired;
  }

  get size(): number {
    return this.live;
  }

  private shift(): HeldEntry<T> | undefined {
    while (this.head < this.queue.length) {
      const entry = this.queue[this.head++] as HeldEntry<T>;
      if (!entry.gone) {
        this.leave(entry);
        this.compactQueue();
        return entry;
      }
    }
    return undefined;
  }

  private leave(entry: HeldEntry<T>): void {
    entry.gone = true;
    this.live--;
    for (const address of entry.addresses) {
      const waiting = this.byAddress.get(address);
      if (waiting === undefined) continue;
      waiting.live--;
      if (waiting.live <= 0) this.byAddress.delete(address);
      else if (waiting.entries.length > 32 && waiting.live * 2 < waiting.entries.length) {
        waiting.entries = waiting.entries.filter((e) => !e.gone);
        waiting.live = waiting.entries.length;
      }
    }
  }

  private compactQueue(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
