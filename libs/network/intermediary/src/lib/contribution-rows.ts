import type { EdgeContribution, PortProtocolMsg, WindowRef } from '@topology/contracts';
import type { NodeId, Peer } from '@topology/model';
import type { ConnectionGroup } from './connection-groups';

/** Why a contribution exists; decides which counter its emission increments. */
export type ContributionKind = 'direct' | 'resolved' | 'hop' | 'unresolved' | 'depth-cut' | 'loop-cut';

export const CONTRIBUTION_KINDS: readonly ContributionKind[] = ['direct', 'resolved', 'hop', 'unresolved', 'depth-cut', 'loop-cut'];

const KIND_INDEX: Readonly<Record<ContributionKind, number>> = { direct: 0, resolved: 1, hop: 2, unresolved: 3, 'depth-cut': 4, 'loop-cut': 5 };

/**
 * One contribution being computed. Parts that land on the same (scope, src, dst) at cluster
 * granularity, the identity under which the enricher replaces contributions, fold into one:
 * counters add, ports union, confidence is byte-weighted, and the longest via wins.
 */
export class Draft {
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
  private confidenceTimesBytes = 0;
  private lowestConfidence = 1;

  constructor(
    public kind: ContributionKind,
    public src: Peer,
    public dst: Peer,
    public hop: boolean,
    /** Shared between drafts and emitted contributions; replaced, never modified. */
    public via: readonly string[],
    /** Shared the same way until a second port makes it a list of its own. */
    public ports: readonly PortProtocolMsg[],
  ) {}

  /** Makes a pooled draft new again. */
  reset(kind: ContributionKind, src: Peer, dst: Peer, hop: boolean, via: readonly string[], ports: readonly PortProtocolMsg[]): void {
    this.kind = kind;
    this.src = src;
    this.dst = dst;
    this.hop = hop;
    this.via = via;
    this.ports = ports;
    this.bytesSent = 0;
    this.bytesReceived = 0;
    this.packetsSent = 0;
    this.packetsReceived = 0;
    this.connections = 0;
    this.retransmits = 0;
    this.rttSumUs = 0;
    this.rttSamples = 0;
    this.firstSeenMs = Infinity;
    this.lastSeenMs = -Infinity;
    this.confidenceTimesBytes = 0;
    this.lowestConfidence = 1;
  }

  /** Adds `share` of a group's counters with the given confidence. */
  add(counts: ConnectionGroup, share: number, confidence: number, via: readonly string[], ports: readonly PortProtocolMsg[]): void {
    this.bytesSent += counts.bytesSent * share;
    this.bytesReceived += counts.bytesReceived * share;
    this.packetsSent += counts.packetsSent * share;
    this.packetsReceived += counts.packetsReceived * share;
    this.connections += counts.connections * share;
    this.retransmits += counts.retransmits * share;
    this.rttSumUs += counts.rttSumUs * share;
    this.rttSamples += counts.rttSamples * share;
    if (counts.firstSeenMs < this.firstSeenMs) this.firstSeenMs = counts.firstSeenMs;
    if (counts.lastSeenMs > this.lastSeenMs) this.lastSeenMs = counts.lastSeenMs;
    this.confidenceTimesBytes += confidence * (counts.bytesSent + counts.bytesReceived) * share;
    if (confidence < this.lowestConfidence) this.lowestConfidence = confidence;
    if (via.length > this.via.length) this.via = via;
    if (ports !== this.ports) {
      for (const p of ports) {
        if (!this.ports.some((q) => q.port === p.port && q.protocol === p.protocol)) this.ports = [...this.ports, p].sort(byPort);
      }
    }
  }

  get confidence(): number {
    const bytes = this.bytesSent + this.bytesReceived;
    return bytes > 0 ? Math.min(1, this.confidenceTimesBytes / bytes) : this.lowestConfidence;
  }

  /** Whether the contribution emitted before says the same (emission time aside). */
  sameAs(c: EdgeContribution): boolean {
    return (
      this.hop === c.hop &&
      this.bytesSent === c.bytesSent &&
      this.bytesReceived === c.bytesReceived &&
      this.packetsSent === c.packetsSent &&
      this.packetsReceived === c.packetsReceived &&
      this.connections === c.connections &&
      this.retransmits === c.retransmits &&
      this.rttSumUs === c.rttSumUs &&
      this.rttSamples === c.rttSamples &&
      this.firstSeenMs === c.firstSeenMs &&
      this.lastSeenMs === c.lastSeenMs &&
      this.confidence === c.confidence &&
      sameList(this.via, c.via, sameString) &&
      sameList(this.ports, c.ports, samePort)
    );
  }

  /**
   * The message for this draft. Its via and ports lists may be shared with other messages of the
   * same recompute: emitted contributions are immutable, here and downstream.
   */
  toContribution(window: WindowRef, scope: string, ingestedAtMs: number): EdgeContribution {
    return {
      window,
      scope,
      src: this.src,
      dst: this.dst,
      hop: this.hop,
      via: this.via as string[],
      confidence: this.confidence,
      ports: this.ports as PortProtocolMsg[],
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      packetsSent: this.packetsSent,
      packetsReceived: this.packetsReceived,
      connections: this.connections,
      retransmits: this.retransmits,
      rttSumUs: this.rttSumUs,
      rttSamples: this.rttSamples,
      firstSeenMs: this.firstSeenMs,
      lastSeenMs: this.lastSeenMs,
      removed: false,
      ingestedAtMs,
    };
  }
}

/** The drafts of one scope from one source node, by destination node. */
export interface DraftRow {
  readonly size: number;
  has(dst: NodeId): boolean;
  forEachDraft(visit: (draft: Draft, dst: NodeId) => void): void;
}

/** A row that allocates a draft per destination; for the rows of small scopes. */
export class ContributionRow implements DraftRow {
  private readonly drafts = new Map<NodeId, Draft>();

  get size(): number {
    return this.drafts.size;
  }

  has(dst: NodeId): boolean {
    return this.drafts.has(dst);
  }

  forEachDraft(visit: (draft: Draft, dst: NodeId) => void): void {
    this.drafts.forEach(visit);
  }

  add(
    kind: ContributionKind,
    src: Peer,
    dst: Peer,
    dstNode: NodeId,
    hop: boolean,
    via: readonly string[],
    ports: readonly PortProtocolMsg[],
    counts: ConnectionGroup,
    share: number,
    confidence: number,
  ): void {
    let draft = this.drafts.get(dstNode);
    if (draft === undefined) {
      draft = new Draft(kind, src, dst, hop, via, ports);
      this.drafts.set(dstNode, draft);
    }
    draft.add(counts, share, confidence, via, ports);
  }
}

/**
 * A row over a fixed list of destinations (an intermediary's backends) whose drafts are reused
 * from one client to the next: a hot intermediary computes clients × backends drafts per
 * recompute, and allocating each would make the collector the bottleneck.
 */
export class PooledRow implements DraftRow {
  private readonly drafts: (Draft | undefined)[] = [];
  private readonly used: number[] = [];
  private readonly usedIn: number[];
  private generation = 1;

  constructor(
    private readonly dstNodes: readonly NodeId[],
    private readonly slotOf: ReadonlyMap<NodeId, number>,
  ) {
    this.usedIn = dstNodes.map(() => 0);
  }

  get size(): number {
    return this.used.length;
  }

  /** Starts the next source's row. */
  clear(): void {
    this.generation++;
    this.used.length = 0;
  }

  add(
    slot: number,
    kind: ContributionKind,
    src: Peer,
    dst: Peer,
    via: readonly string[],
    ports: readonly PortProtocolMsg[],
    counts: ConnectionGroup,
    share: number,
    confidence: number,
  ): void {
    let draft = this.drafts[slot];
    if (this.usedIn[slot] !== this.generation) {
      this.usedIn[slot] = this.generation;
      this.used.push(slot);
      if (draft === undefined) {
        draft = new Draft(kind, src, dst, false, via, ports);
        this.drafts[slot] = draft;
      } else {
        draft.reset(kind, src, dst, false, via, ports);
      }
    }
    draft?.add(counts, share, confidence, via, ports);
  }

  has(dst: NodeId): boolean {
    const slot = this.slotOf.get(dst);
    return slot !== undefined && this.usedIn[slot] === this.generation;
  }

  forEachDraft(visit: (draft: Draft, dst: NodeId) => void): void {
    for (const slot of this.used) {
      const draft = this.drafts[slot];
      const dst = this.dstNodes[slot];
      if (draft !== undefined && dst !== undefined) visit(draft, dst);
    }
  }
}

/** Rows of one scope, by source node, for scopes small enough to compute whole before diffing. */
export class ContributionRows {
  readonly rows = new Map<NodeId, ContributionRow>();

  row(src: NodeId): ContributionRow {
    let row = this.rows.get(src);
    if (row === undefined) {
      row = new ContributionRow();
      this.rows.set(src, row);
    }
    return row;
  }
}

interface EmittedRow {
  readonly byDst: Map<NodeId, EdgeContribution>;
  generation: number;
}

/**
 * What one (window, key) last emitted, by scope, source and destination, so a recompute emits
 * only what changed and withdraws what vanished. Rows are replaced whole; a recompute starts with
 * `begin` and ends with `withdrawUnreplaced`.
 */
export class EmittedContributions {
  private readonly byScope = new Map<string, Map<NodeId, EmittedRow>>();
  private generation = 0;
  private ingestedAtMs = 0;
  /** Emissions (new or changed) since `begin`, per kind in `CONTRIBUTION_KINDS` order. */
  readonly emittedByKind: number[] = CONTRIBUTION_KINDS.map(() => 0);
  removed = 0;

  constructor(readonly window: WindowRef) {}

  get size(): number {
    return this.byScope.size;
  }

  /** Whether a contribution from `src` to `dst` in `scope` is currently emitted. */
  has(scope: string, src: NodeId, dst: NodeId): boolean {
    return this.byScope.get(scope)?.get(src)?.byDst.has(dst) === true;
  }

  begin(ingestedAtMs: number): void {
    this.generation++;
    this.ingestedAtMs = ingestedAtMs;
    this.emittedByKind.fill(0);
    this.removed = 0;
  }

  replaceRow(scope: string, src: NodeId, row: DraftRow, out: EdgeContribution[]): void {
    let rows = this.byScope.get(scope);
    if (rows === undefined) {
      rows = new Map();
      this.byScope.set(scope, rows);
    }
    let emitted = rows.get(src);
    if (emitted === undefined) {
      emitted = { byDst: new Map(), generation: this.generation };
      rows.set(src, emitted);
    }
    emitted.generation = this.generation;
    const byDst = emitted.byDst;
    row.forEachDraft((draft, dst) => {
      const previous = byDst.get(dst);
      if (previous !== undefined && draft.sameAs(previous)) return;
      const contribution = draft.toContribution(this.window, scope, this.ingestedAtMs);
      byDst.set(dst, contribution);
      out.push(contribution);
      this.emittedByKind[KIND_INDEX[draft.kind]]++;
    });
    if (byDst.size > row.size) {
      for (const [dst, previous] of byDst) {
        if (row.has(dst)) continue;
        this.withdraw(previous, out);
        emitted.byDst.delete(dst);
      }
    }
    if (emitted.byDst.size === 0) rows.delete(src);
    if (rows.size === 0) this.byScope.delete(scope);
  }

  replaceRows(scope: string, rows: ContributionRows, out: EdgeContribution[]): void {
    for (const [src, row] of rows.rows) this.replaceRow(scope, src, row, out);
  }

  /** Withdraws every row that the current recompute did not replace. */
  withdrawUnreplaced(out: EdgeContribution[]): void {
    for (const [scope, rows] of this.byScope) {
      for (const [src, row] of rows) {
        if (row.generation === this.generation) continue;
        for (const previous of row.byDst.values()) this.withdraw(previous, out);
        rows.delete(src);
      }
      if (rows.size === 0) this.byScope.delete(scope);
    }
  }

  private withdraw(previous: EdgeContribution, out: EdgeContribution[]): void {
    out.push({ ...previous, removed: true, ingestedAtMs: this.ingestedAtMs });
    this.removed++;
  }
}

function byPort(a: PortProtocolMsg, b: PortProtocolMsg): number {
  return a.port - b.port || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0);
}

function sameList<T>(a: readonly T[], b: readonly T[], same: (x: T, y: T) => boolean): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!same(a[i] as T, b[i] as T)) return false;
  return true;
}

const sameString = (x: string, y: string) => x === y;
const samePort = (x: PortProtocolMsg, y: PortProtocolMsg) => x.port === y.port && x.protocol === y.protocol;
