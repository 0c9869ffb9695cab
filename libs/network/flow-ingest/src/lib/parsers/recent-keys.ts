/**
 * A bounded memory of keys with the event time each was last seen. A key counts as seen for
 * `ttlMs` after that time; beyond `capacity` keys the least recently seen one is forgotten. The
 * parsers use it to remember connections and server endpoints across messages without letting a
 * port scan or a flood of short connections grow memory without bound.
 */
export class RecentKeys {
  private readonly lastSeenMs = new Map<string, number>();
  /** Keys forgotten because the memory was full (not because they aged out). */
  evicted = 0;

  constructor(
    private readonly capacity: number,
    private readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.lastSeenMs.size;
  }

  /** Whether the key was seen within the TTL before (or at any time after) `atMs`. */
  has(key: string, atMs: number): boolean {
    const seenMs = this.lastSeenMs.get(key);
    return seenMs !== undefined && atMs - seenMs <= this.ttlMs;
  }

  touch(key: string, atMs: number): void {
    const previous = this.lastSeenMs.get(key);
    // Deleting first moves the key to the end, so Map order stays least recently seen first.
    if (previous !== undefined) this.lastSeenMs.delete(key);
    this.lastSeenMs.set(key, previous !== undefined && previous > atMs ? previous : atMs);
    if (this.lastSeenMs.size > this.capacity) {
      const oldest = this.lastSeenMs.keys().next();
      if (!oldest.done) {
        this.lastSeenMs.delete(oldest.value);
        this.evicted++;
      }
    }
  }

  /** Forgets keys not seen within the TTL before `nowMs`, from the least recently seen on. */
  expire(nowMs: number): void {
    for (const [key, seenMs] of this.lastSeenMs) {
      if (nowMs - seenMs <= this.ttlMs) break;
      this.lastSeenMs.delete(key);
    }
  }
}
