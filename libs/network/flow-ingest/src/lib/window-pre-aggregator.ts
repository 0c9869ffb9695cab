import { edgeKey } from '@topology/model';
import type { FlowAggregate, FlowPartialSnapshot } from '@topology/contracts';
import type { FlowObserver, ObservedFlow } from './observed-flow';
import { AttributedPeer } from './peer-table';

export interface WindowOptions {
  /** Tumbling window length, ms of event time. */
  windowMs: number;
  /** The watermark trails the newest start time seen in a scope by this much, ms. */
  maxOutOfOrderMs: number;
  /** A window stays open this long after the watermark passed its end, ms. */
  allowedLatenessMs: number;
}

class AggregateEntry {
  bytesSent = 0;
  bytesReceived = 0;
  packetsSent = 0;
  packetsReceived = 0;
  connections = 0;
  retransmits = 0;
  rttSumUs = 0;
  rttSamples = 0;
  firstSeenMs = Number.POSITIVE_INFINITY;
  lastSeenMs = Number.NEGATIVE_INFINITY;
  ingestedAtMs = 0;
  /** The flush round it last changed in; its group is marked dirty once per round. */
  round = -1;

  constructor(
    readonly group: KeyGroup,
    readonly src: AttributedPeer,
    readonly dst: AttributedPeer,
    readonly dstPort: number,
    readonly protocol: string,
    readonly observer: FlowObserver,
    readonly via: readonly string[],
  ) {}
}

/** The entries of one (window, scope, key): what a snapshot carries, always whole. */
class KeyGroup {
  /** Kept in snapshot order, sorted again only after an entry was added. */
  readonly entries: AggregateEntry[] = [];
  unsorted = false;
  dirty = false;

  constructor(
    readonly window: ScopeWindow,
    readonly key: string,
  ) {}
}

/** The entries of one peer pair in one window of one scope. */
interface PairSlot {
  readonly entries: AggregateEntry[];
  /** The entry the previous record of the pair in this window went to. */
  recent: AggregateEntry | undefined;
}

/**
 * Traffic from one peer to another, across all open windows and scopes. Hung off the source peer,
 * so a record finds its pair with one small Map lookup, then its window by comparing pointers in
 * one short array (windows open in the scopes the pair is seen in), then mostly the entry the
 * previous record of that window went to.
 */
export class PeerPair {
  /** Windows the pair has entries in; `slots[i]` holds the entries of `windows[i]`. */
  readonly windows: ScopeWindow[] = [];
  readonly slots: PairSlot[] = [];
  routingKey = '';
  routingRound = -1;

  constructor(
    readonly src: AttributedPeer,
    readonly dst: AttributedPeer,
  ) {}
}

class ScopeWindow {
  readonly groups = new Map<string, KeyGroup>();
  /** Pairs with entries here, each once. */
  readonly pairs: PeerPair[] = [];

  constructor(
    readonly scope: ScopeState,
    readonly startMs: number,
    readonly endMs: number,
  ) {}
}

/** Event time and open windows of one source partition. */
export class ScopeState {
  newestEventMs = Number.NEGATIVE_INFINITY;
  readonly windows = new Map<number, ScopeWindow>();
  /** The window the previous record went to; most records of a batch share one. */
  recent: ScopeWindow | undefined;
  /** Windows starting before this were complete downstream before a restart; their re-read records are not added again. */
  replayFloorMs = Number.NEGATIVE_INFINITY;
  /** Set when the scope's partition moved to another instance: nothing of it is emitted any more. */
  forgotten = false;

  constructor(readonly scope: string) {}
}

/**
 * Sums attributed flows per (window, scope, routing key, src, dst, dstPort, protocol, observer,
 * via), in tumbling event-time windows by flow start. Each scope (source partition) has its own
 * watermark, so a lagging partition never makes another's records late. The per-record path builds
 * no key strings: entries hang off interned peers. A flush hands out every changed (window, scope,
 * key) whole, then drops windows the watermark has closed.
 */
export class WindowedPreAggregator {
  private readonly scopes = new Map<string, ScopeState>();
  private dirty: KeyGroup[] = [];
  private round = 0;
  private routingRound = 0;

  constructor(private readonly options: WindowOptions) {}

  scope(scope: string): ScopeState {
    let state = this.scopes.get(scope);
    if (state === undefined) {
      state = new ScopeState(scope);
      this.scopes.set(scope, state);
    }
    return state;
  }

  /** The scope's state if it has one; unlike `scope`, creates nothing. */
  existing(scope: string): ScopeState | undefined {
    return this.scopes.get(scope);
  }

  /** Moves the scope's event time forward; every record counts, also those held back. */
  observe(state: ScopeState, eventMs: number): void {
    if (eventMs > state.newestEventMs) state.newestEventMs = eventMs;
  }

  watermark(state: ScopeState): number {
    return state.newestEventMs - this.options.maxOutOfOrderMs;
  }

  windowStart(eventMs: number): number {
    const w = this.options.windowMs;
    return Math.floor(eventMs / w) * w;
  }

  /** Gives a fresh scope the event time it had reached before a restart, and the oldest window then open. */
  resume(state: ScopeState, newestEventMs: number, replayFloorMs: number): void {
    if (newestEventMs > state.newestEventMs) state.newestEventMs = newestEventMs;
    state.replayFloorMs = replayFloorMs;
  }

  /** Drops a scope's windows without emitting them; records still on their way to it are dropped too. */
  forget(scope: string): void {
    const state = this.scopes.get(scope);
    if (state === undefined) return;
    this.scopes.delete(scope);
    state.forgotten = true;
    for (const window of state.windows.values()) this.close(window);
    state.windows.clear();
    state.recent = undefined;
  }

  /** Whether a record starting at `eventMs` belongs to a window already closed in this scope. */
  isTooLate(state: ScopeState, eventMs: number): boolean {
    const end = this.windowStart(eventMs) + this.options.windowMs;
    return end + this.options.allowedLatenessMs <= this.watermark(state);
  }

  /**
   * Which peers are intermediaries changed: pairs seen from now on take their routing key afresh.
   * Entries already in a window keep the key they were filed under.
   */
  routingChanged(): void {
    this.routingRound++;
  }

  /** Adds one attributed flow. Returns false, adding nothing, when its window is closed. */
  add(state: ScopeState, src: AttributedPeer, dst: AttributedPeer, via: readonly string[], flow: ObservedFlow, ingestedAtMs: number): boolean {
    const startMs = flow.startMs;
    if (startMs > state.newestEventMs) state.newestEventMs = startMs;
    const windowMs = this.options.windowMs;
    const windowStartMs = Math.floor(startMs / windowMs) * windowMs;
    if (windowStartMs + windowMs + this.options.allowedLatenessMs <= state.newestEventMs - this.options.maxOutOfOrderMs) return false;

    let window = state.recent;
    if (window === undefined || window.startMs !== windowStartMs) {
      window = state.windows.get(windowStartMs);
      if (window === undefined) {
        window = new ScopeWindow(state, windowStartMs, windowStartMs + windowMs);
        state.windows.set(windowStartMs, window);
      }
      state.recent = window;
    }

    let outbound = src.outbound;
    if (outbound === undefined) {
      outbound = new Map();
      src.outbound = outbound;
    }
    let pair = outbound.get(dst);
    if (pair === undefined) {
      pair = new PeerPair(src, dst);
      outbound.set(dst, pair);
    }

    const windows = pair.windows;
    let at = windows.length - 1;
    while (at >= 0 && windows[at] !== window) at--;
    let slot: PairSlot;
    if (at >= 0) {
      slot = pair.slots[at] as PairSlot;
    } else {
      slot = { entries: [], recent: undefined };
      windows.push(window);
      pair.slots.push(slot);
      window.pairs.push(pair);
      const windowStart = window.startMs;
      if (src.lastWindowStartMs < windowStart) src.lastWindowStartMs = windowStart;
      if (dst.lastWindowStartMs < windowStart) dst.lastWindowStartMs = windowStart;
    }

    const observer = flow.observer;
    const dstPort = flow.server.port;
    const protocol = flow.protocol;
    let entry = slot.recent;
    if (entry === undefined || entry.observer !== observer || entry.dstPort !== dstPort || entry.protocol !== protocol || entry.via !== via) {
      entry = this.entryFor(pair, slot, window, dstPort, protocol, observer, via);
      slot.recent = entry;
    }

    entry.bytesSent += flow.bytesSent;
    entry.bytesReceived += flow.bytesReceived;
    entry.packetsSent += flow.packetsSent;
    entry.packetsReceived += flow.packetsReceived;
    entry.connections += flow.connections;
    entry.retransmits += flow.retransmits;
    const rtt = flow.rttUs;
    if (rtt !== undefined && rtt > 0) {
      entry.rttSumUs += rtt;
      entry.rttSamples++;
    }
    if (startMs < entry.firstSeenMs) entry.firstSeenMs = startMs;
    if (flow.endMs > entry.lastSeenMs) entry.lastSeenMs = flow.endMs;
    if (ingestedAtMs > entry.ingestedAtMs) entry.ingestedAtMs = ingestedAtMs;

    if (entry.round !== this.round) {
      entry.round = this.round;
      const group = entry.group;
      if (!group.dirty) {
        group.dirty = true;
        this.dirty.push(group);
      }
    }
    return true;
  }

  /**
   * Snapshots of every (window, scope, key) changed since the last flush, each with all its entries
   * in a fixed order; then drops the windows the watermark has closed. Returns the snapshots and
   * how many windows closed.
   */
  flush(): { snapshots: FlowPartialSnapshot[]; windowsClosed: number } {
    const snapshots: FlowPartialSnapshot[] = [];
    for (const group of this.dirty) {
      group.dirty = false;
      if (!group.window.scope.forgotten) snapshots.push(snapshotOf(group));
    }
    this.dirty = [];
    this.round++;
    let windowsClosed = 0;
    for (const state of this.scopes.values()) {
      const closeBefore = this.watermark(state) - this.options.allowedLatenessMs;
      for (const [startMs, window] of state.windows) {
        if (window.endMs <= closeBefore) {
          state.windows.delete(startMs);
          if (state.recent === window) state.recent = undefined;
          this.close(window);
          windowsClosed++;
        }
      }
    }
    return { snapshots, windowsClosed };
  }

  /** Start of the oldest window still open in any scope; +Infinity when none is. */
  oldestOpenWindowStartMs(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const state of this.scopes.values()) for (const startMs of state.windows.keys()) if (startMs < oldest) oldest = startMs;
    return oldest;
  }

  openWindowCount(): number {
    let count = 0;
    for (const state of this.scopes.values()) count += state.windows.size;
    return count;
  }

  private entryFor(pair: PeerPair, slot: PairSlot, window: ScopeWindow, dstPort: number, protocol: string, observer: FlowObserver, via: readonly string[]): AggregateEntry {
    const entries = slot.entries;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i] as AggregateEntry;
      if (e.observer === observer && e.dstPort === dstPort && e.protocol === protocol && e.via === via) return e;
    }
    if (pair.routingRound !== this.routingRound) {
      const { src, dst } = pair;
      pair.routingKey = src.intermediaryNode ?? dst.intermediaryNode ?? edgeKey(src.clusterNode, dst.clusterNode);
      pair.routingRound = this.routingRound;
    }
    let group = window.groups.get(pair.routingKey);
    if (group === undefined) {
      group = new KeyGroup(window, pair.routingKey);
      window.groups.set(pair.routingKey, group);
    }
    const entry = new AggregateEntry(group, pair.src, pair.dst, dstPort, protocol, observer, via);
    entries.push(entry);
    group.entries.push(entry);
    group.unsorted = true;
    return entry;
  }

  /** Forgets a closed window's entries, and pairs left with none. */
  private close(window: ScopeWindow): void {
    for (const pair of window.pairs) {
      const at = pair.windows.indexOf(window);
      if (at >= 0) {
        pair.windows.splice(at, 1);
        pair.slots.splice(at, 1);
      }
      if (pair.windows.length === 0) pair.src.outbound?.delete(pair.dst);
    }
  }
}

function compareEntries(a: AggregateEntry, b: AggregateEntry): number {
  if (a.src !== b.src) return a.src.sortKey < b.src.sortKey ? -1 : a.src.sortKey > b.src.sortKey ? 1 : 0;
  if (a.dst !== b.dst) return a.dst.sortKey < b.dst.sortKey ? -1 : a.dst.sortKey > b.dst.sortKey ? 1 : 0;
  if (a.dstPort !== b.dstPort) return a.dstPort - b.dstPort;
  if (a.protocol !== b.protocol) return a.protocol < b.protocol ? -1 : 1;
  if (a.observer !== b.observer) return a.observer < b.observer ? -1 : 1;
  const av = a.via.join(' ');
  const bv = b.via.join(' ');
  return av < bv ? -1 : av > bv ? 1 : 0;
}

function snapshotOf(group: KeyGroup): FlowPartialSnapshot {
  const window = group.window;
  const source = group.entries;
  if (group.unsorted) {
    if (source.length > 1) source.sort(compareEntries);
    group.unsorted = false;
  }
  const entries = new Array<FlowAggregate>(source.length);
  let ingestedAtMs = 0;
  for (let i = 0; i < source.length; i++) {
    const e = source[i] as AggregateEntry;
    if (e.ingestedAtMs > ingestedAtMs) ingestedAtMs = e.ingestedAtMs;
    entries[i] = {
      src: e.src.peer,
      dst: e.dst.peer,
      dstPort: e.dstPort,
      protocol: e.protocol,
      observer: e.observer,
      bytesSent: e.bytesSent,
      bytesReceived: e.bytesReceived,
      packetsSent: e.packetsSent,
      packetsReceived: e.packetsReceived,
      connections: e.connections,
      retransmits: e.retransmits,
      rttSumUs: e.rttSumUs,
      rttSamples: e.rttSamples,
      firstSeenMs: e.firstSeenMs,
      lastSeenMs: e.lastSeenMs,
      via: e.via.length === 0 ? [] : e.via.slice(),
      confidence: 1,
    };
  }
  return { window: { startMs: window.startMs, endMs: window.endMs }, scope: window.scope.scope, key: group.key, entries, ingestedAtMs };
}
