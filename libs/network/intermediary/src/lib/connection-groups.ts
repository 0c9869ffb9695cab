import type { Observer } from '@topology/contracts';
import type { NodeId, Peer } from '@topology/model';
import type { StoredEntry } from './stored-entry';

/**
 * One connection group of a window: traffic between two exact peers on one destination port and
 * protocol, with its counters taken from a single observer's view.
 */
export interface ConnectionGroup {
  readonly src: Peer;
  readonly dst: Peer;
  readonly srcKey: string;
  readonly dstKey: string;
  readonly srcNode: NodeId;
  readonly dstNode: NodeId;
  readonly dstPort: number;
  readonly protocol: string;
  /** Arrived from an upstream intermediary's chain, already reconciled and apportioned there. */
  readonly forwarded: boolean;
  /** The view the counters come from. */
  readonly observer: Observer;
  /** The longest via among all views: a network vantage point sees paths the agents cannot. */
  readonly via: readonly string[];
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly packetsSent: number;
  readonly packetsReceived: number;
  readonly connections: number;
  readonly retransmits: number;
  readonly rttSumUs: number;
  readonly rttSamples: number;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  /** Byte-weighted over the chosen view's entries (the lowest when it carried no bytes). */
  readonly confidence: number;
}

/** The entries one stored snapshot contributes to a (window, key). */
export interface SlotEntries {
  readonly forwarded: boolean;
  readonly entries: readonly StoredEntry[];
}

/** Tie order when two views carry the same bytes: the client knows its own traffic best. */
const VIEW_INDEX: Readonly<Record<Observer, number>> = { client: 0, server: 1, network: 2 };
const VIEW_OBSERVER: readonly Observer[] = ['client', 'server', 'network'];

class ViewSum {
  bytesSent = 0;
  bytesReceived = 0;
  packetsSent = 0;
  packetsReceived = 0;
  connections = 0;
  retransmits = 0;
  rttSumUs = 0;
  rttSamples = 0;
  firstSeenMs = Infinity;
  lastSeenMs = -Infinity;
  confidenceTimesBytes = 0;
  lowestConfidence = 1;

  add(e: StoredEntry): void {
    const a = e.agg;
    this.bytesSent += a.bytesSent;
    this.bytesReceived += a.bytesReceived;
    this.packetsSent += a.packetsSent;
    this.packetsReceived += a.packetsReceived;
    this.connections += a.connections;
    this.retransmits += a.retransmits;
    this.rttSumUs += a.rttSumUs;
    this.rttSamples += a.rttSamples;
    if (a.firstSeenMs < this.firstSeenMs) this.firstSeenMs = a.firstSeenMs;
    if (a.lastSeenMs > this.lastSeenMs) this.lastSeenMs = a.lastSeenMs;
    this.confidenceTimesBytes += a.confidence * (a.bytesSent + a.bytesReceived);
    if (a.confidence < this.lowestConfidence) this.lowestConfidence = a.confidence;
  }

  get bytes(): number {
    return this.bytesSent + this.bytesReceived;
  }
}

interface GroupBuilder {
  readonly first: StoredEntry;
  readonly forwarded: boolean;
  readonly views: (ViewSum | undefined)[];
  via: readonly string[];
}

function longer(a: readonly string[], b: readonly string[]): boolean {
  return a.length > b.length;
}

/**
 * Groups entries by (src, dst, dstPort, protocol) and keeps, per group, the observer view with the
 * most bytes, so one connection reported by its client, its server and a network vantage point
 * counts once. Entries forwarded from an upstream intermediary form groups of their own and are
 * summed: they are distinct traffic that was already reconciled upstream. The result's order
 * follows the order of `slots`, so the same slots in the same order give identical sums.
 */
export function reconcileConnections(slots: Iterable<SlotEntries>): ConnectionGroup[] {
  const builders = new Map<string, GroupBuilder>();
  for (const slot of slots) {
    for (const e of slot.entries) {
      const a = e.agg;
      const id = `${e.srcKey}\u0000${e.dstKey}\u0000${a.dstPort}\u0000${a.protocol}${slot.forwarded ? '\u0000f' : ''}`;
      let b = builders.get(id);
      if (b === undefined) {
        b = { first: e, forwarded: slot.forwarded, views: [undefined, undefined, undefined], via: a.via };
        builders.set(id, b);
      } else if (longer(a.via, b.via)) {
        b.via = a.via;
      }
      const index = slot.forwarded ? 0 : VIEW_INDEX[a.observer];
      let view = b.views[index];
      if (view === undefined) {
        view = new ViewSum();
        b.views[index] = view;
      }
      view.add(e);
    }
  }
  const groups: ConnectionGroup[] = [];
  for (const b of builders.values()) {
    let chosen = 0;
    let best: ViewSum | undefined;
    for (let i = 0; i < b.views.length; i++) {
      const view = b.views[i];
      if (view !== undefined && (best === undefined || view.bytes > best.bytes)) {
        best = view;
        chosen = i;
      }
    }
    if (best === undefined) continue;
    const f = b.first;
    const bytes = best.bytes;
    groups.push({
      src: f.agg.src,
      dst: f.agg.dst,
      srcKey: f.srcKey,
      dstKey: f.dstKey,
      srcNode: f.srcNode,
      dstNode: f.dstNode,
      dstPort: f.agg.dstPort,
      protocol: f.agg.protocol,
      forwarded: b.forwarded,
      observer: b.forwarded ? f.agg.observer : (VIEW_OBSERVER[chosen] ?? 'client'),
      via: b.via,
      bytesSent: best.bytesSent,
      bytesReceived: best.bytesReceived,
      packetsSent: best.packetsSent,
      packetsReceived: best.packetsReceived,
      connections: best.connections,
      retransmits: best.retransmits,
      rttSumUs: best.rttSumUs,
      rttSamples: best.rttSamples,
      firstSeenMs: best.firstSeenMs,
      lastSeenMs: best.lastSeenMs,
      confidence: bytes > 0 ? best.confidenceTimesBytes / bytes : best.lowestConfidence,
    });
  }
  return groups;
}
