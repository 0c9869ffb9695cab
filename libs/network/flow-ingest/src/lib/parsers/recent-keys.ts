/** A key's place in the order is refreshed once it is this fraction of the TTL old. */
const REFRESH_FRACTION = 16;

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

  /** How stale a key may get before a sighting moves it to the most recently seen end. */
  private readonly refreshMs: number;

  constructor(
    private readonly capacity: number,
    private readonly ttlMs: number,
  ) {
    this.refreshMs = Math.floor(ttlMs / REFRESH_FRACTION);
  }

  get size(): number {
    return this.lastSeenMs.size;
  }

  /** Whether the key was seen within the TTL before (or at any time after) `atMs`. */
  has(key: string, atMs: number): boolean {
    const seenMs = this.lastSeenMs.get(key);
    return seenMs !== undefined && atMs - seenMs <= this.ttlMs;
  }

  touch(key: string, atMs: number): void {
    this.record(key, this.lastSeenMs.get(key), atMs);
  }

  /** `touch` if `has` holds, in one lookup; whether it held. */
  refresh(key: string, atMs: number): boolean {
    const seenMs = this.lastSeenMs.get(key);
    if (seenMs === undefined || atMs - seenMs > this.ttlMs) return false;
    this.record(key, seenMs, atMs);
    return true;
  }

  private record(key: string, previous: number | undefined, atMs: number): void {
    const map = this.lastSeenMs;
    if (previous !== undefined) {
      if (previous >= atMs) return;
      // A key seen again soon is updated where it stands: moving it to the end (delete + set) on
      // every sighting is most of the cost of a busy connection, and the order it keeps (least
      // recently seen first, for eviction and expiry) is then only off by at most `refreshMs`.
      if (atMs - previous <= this.refreshMs) {
        map.set(key, atMs);
        return;
      }
      map.delete(key);
    }
    map.set(key, atMs);
    if (map.size > this.capacity) {
      const oldest = map.keys().next();
      if (!oldest.done) {
        map.delete(oldest.value);
        this.evicted++;
      }
    }
  }

  /**
   * Forgets keys not seen within the TTL before `nowMs`, from the least recently seen on. It stops
   * at the first key still fresh, so a key refreshed in place may shelter older ones behind it for
   * up to `refreshMs`; `has` never trusts them.
   */
  expire(nowMs: number): void {
    for (const [key, seenMs] of this.lastSeenMs) {
      if (nowMs - seenMs <= this.ttlMs) break;
      this.lastSeenMs.delete(key);
    }
  }
}
