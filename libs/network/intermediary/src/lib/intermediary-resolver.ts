import type {
  EdgeContribution,
  FlowAggregate,
  FlowPartialSnapshot,
  MetadataEvent,
  PortProtocolMsg,
  Rejection,
  WindowRef,
} from '@topology/contracts';
import { Clock, CounterSet, NodeId, Peer, edgeKey, isNodeId, parseNodeId, peerKey } from '@topology/model';
import { ConnectionGroup, SlotEntries, reconcileConnections } from './connection-groups';
import { CONTRIBUTION_KINDS, ContributionKind, ContributionRows, EmittedContributions, PooledRow } from './contribution-rows';
import { IntermediaryDirectory } from './intermediary-directory';
import { IntermediaryResolverConfig, validateIntermediaryResolverConfig } from './intermediary-resolver-config';
import { StoredEntry, storeEntry } from './stored-entry';

export const INTERMEDIARY_RESOLVER_COUNTERS = {
  snapshots_in: 'Snapshots accepted; each replaces the previous one with the same window, scope and key',
  snapshots_rejected:
    'Snapshots rejected whole, by reason: a bad window, scope or key, a chain key that is not an intermediary, or a window already evicted (too-late)',
  entries_rejected: 'Snapshot entries dropped for an unusable peer, port, observer, counter or via, by reason',
  metadata_rejected: 'Metadata events that could not be applied (an empty app or intermediary id, a bad port)',
  groups_reconciled: 'Connection groups reconciled on a recompute, by the observer whose view was kept',
  direct_edges: 'Direct contributions (neither end an intermediary) emitted new or changed',
  resolved_edges: 'Dependencies resolved through an intermediary (client to backend) emitted new or changed',
  hops: 'Raw hops to or from an intermediary emitted new or changed',
  contributions_removed: 'Contributions withdrawn because a recompute no longer produced them',
  chains_forwarded: 'Snapshots forwarded to a downstream intermediary of a chain, new or changed (an empty one withdraws)',
  chain_depth_exceeded: 'Edges stopped at an intermediary because the chain reached maxChainDepth, emitted new or changed',
  chain_loops_cut: 'Edges stopped at an intermediary that was already on their path, emitted new or changed',
  unresolved_intermediaries: 'Client edges to an intermediary that had no outbound traffic in the window, emitted new or changed',
  windows_evicted: 'Windows whose state was dropped retentionMs after their end or last update',
  inherited_withdrawals:
    'Withdrawals, in a window taken over from an earlier instance (restart, rebalance), of client dependencies that instance may have emitted from a partial view of the window (no outbound yet, or backends outside the listener not yet narrowed away), each sent once',
} as const;

export type IntermediaryResolverCounter = keyof typeof INTERMEDIARY_RESOLVER_COUNTERS;

/** Scope prefix of snapshots one intermediary forwards to the next one of a chain. */
export const CHAIN_SCOPE_PREFIX = 'chain:';

export interface IntermediaryResolverOutput {
  contributions: EdgeContribution[];
  /** Snapshots for the next intermediary of a chain; the runtime publishes them back to stage 2's input. */
  forwards: FlowPartialSnapshot[];
}

const COUNTER_OF_KIND: Readonly<Record<ContributionKind, IntermediaryResolverCounter>> = {
  direct: 'direct_edges',
  resolved: 'resolved_edges',
  hop: 'hops',
  unresolved: 'unresolved_intermediaries',
  'depth-cut': 'chain_depth_exceeded',
  'loop-cut': 'chain_loops_cut',
};

interface Slot {
  readonly forwarded: boolean;
  readonly entries: readonly StoredEntry[];
  /** The resolution keys its entries feed. */
  readonly keys: readonly string[];
}

interface KeyState {
  readonly key: string;
  /** The intermediary resolved at this key; undefined for direct traffic keyed by edge. */
  readonly intermediary: NodeId | undefined;
  /** Per stored snapshot (scope and key), the entries that resolve here. */
  readonly slots: Map<string, SlotEntries>;
  /** What was last emitted, to diff the next recompute against. */
  readonly emitted: EmittedContributions;
  /** What was last forwarded, by downstream intermediary. */
  forwarded: Map<string, FlowAggregate[]>;
  /**
   * Set when snapshots of this key were taken over from an earlier instance, whose emissions this
   * one does not know; holds the `client dst` pairs whose possibly emitted dependency was already
   * withdrawn.
   */
  inherited?: Set<string>;
}

interface WindowState {
  readonly ref: WindowRef;
  readonly slots: Map<string, Slot>;
  readonly keys: Map<string, KeyState>;
  lastUpdateMs: number;
}

/** An outbound group of an intermediary, as a candidate backend for its clients. */
interface Backend {
  readonly group: ConnectionGroup;
  readonly ports: readonly PortProtocolMsg[];
  /** Index of the backend's node among the intermediary's distinct backend nodes. */
  readonly slot: number;
  /** Set when the backend is itself an intermediary, where the chain continues. */
  readonly next: NodeId | undefined;
}

interface Candidates {
  readonly backends: readonly Backend[];
  readonly weights: readonly number[];
  readonly total: number;
}

/**
 * Stage 2: turns pre-aggregated flows into edge contributions. Direct traffic passes through once
 * its client, server and network views are reconciled; traffic through an intermediary (A → LB → B)
 * becomes resolved dependencies (A → B) with the traffic of each client apportioned over the
 * intermediary's backends, plus the raw hops. Chains of intermediaries are followed by forwarding
 * each client's share to the next intermediary as a snapshot of its own.
 *
 * State is the latest snapshot per (window, scope, key); every output is recomputed from it, so
 * replays and reordering converge to the same contributions. Only (window, key) pairs touched since
 * the last flush are recomputed.
 */
export class IntermediaryResolver {
  readonly counters = new CounterSet<IntermediaryResolverCounter>(INTERMEDIARY_RESOLVER_COUNTERS);

  private readonly directory = new IntermediaryDirectory();
  private readonly windows = new Map<string, WindowState>();
  /** Windows evicted recently, so a straggler cannot rebuild one from a fraction of its snapshots. */
  private readonly evicted = new Map<string, number>();
  private readonly dirty = new Map<string, Set<string>>();

  constructor(
    private readonly config: IntermediaryResolverConfig,
    private readonly clock: Clock,
  ) {
    const problems = validateIntermediaryResolverConfig(config);
    if (problems.length > 0) throw new Error(`invalid intermediary resolver config: ${problems.join('; ')}`);
  }

  /**
   * Stores a snapshot in place of the previous one with the same (window, scope, key). Returns the
   * parts that could not be taken; the rest of the snapshot is kept.
   */
  accept(snapshot: FlowPartialSnapshot, options: { inherited?: boolean } = {}): Rejection[] {
    const problem = snapshotProblem(snapshot);
    if (problem !== undefined) return [this.rejectSnapshot(problem, snapshot)];
    const forwarded = snapshot.scope.startsWith(CHAIN_SCOPE_PREFIX);
    const chainTarget = forwarded ? chainTargetOf(snapshot.key) : undefined;
    if (forwarded && chainTarget === undefined) {
      return [this.rejectSnapshot({ reason: 'invalid-value', message: `chain key ${snapshot.key} is not an intermediary or app node id` }, snapshot)];
    }
    const windowId = `${snapshot.window.startMs}/${snapshot.window.endMs}`;
    if (this.evicted.has(windowId)) {
      return [this.rejectSnapshot({ reason: 'too-late', message: `window ${windowId} was already evicted` }, snapshot)];
    }
    this.counters.inc('snapshots_in');

    const rejections: Rejection[] = [];
    const entries: StoredEntry[] = [];
    for (const entry of snapshot.entries) {
      const stored = storeEntry(entry);
      if (typeof stored === 'string') {
        this.counters.inc('entries_rejected', 1, 'invalid-value');
        rejections.push({ reason: 'invalid-value', message: `${snapshot.scope} ${snapshot.key}: ${stored}`, raw: JSON.stringify(entry) });
      } else {
        entries.push(stored);
      }
    }

    let ws = this.windows.get(windowId);
    if (ws === undefined) {
      ws = { ref: { startMs: snapshot.window.startMs, endMs: snapshot.window.endMs }, slots: new Map(), keys: new Map(), lastUpdateMs: 0 };
      this.windows.set(windowId, ws);
    }
    ws.lastUpdateMs = this.clock.now();
    this.placeSlot(windowId, ws, `${snapshot.scope}\u0000${snapshot.key}`, forwarded, entries, chainTarget, options.inherited === true);
    return rejections;
  }

  /**
   * Whether the resolver still holds the state of a window (it has taken a snapshot of it and not
   * evicted it). A snapshot of a window no longer held cannot change any output, so a runtime may
   * stop keeping it for a replay.
   */
  retainsWindow(window: WindowRef): boolean {
    return this.windows.has(`${window.startMs}/${window.endMs}`);
  }

  /** Takes the metadata that changes resolution: listener targets and which apps are intermediaries. */
  applyMetadata(event: MetadataEvent): Rejection[] {
    if ('listener' in event) {
      const l = event.listener;
      if (!isPlainName(l.intermediaryId) || !Number.isInteger(l.port) || !Array.isArray(l.targetClusters)) {
        return [this.rejectMetadata('listener without a usable intermediary id, port or target list', event)];
      }
      const node = this.directory.setListener(l);
      for (const [id, ws] of this.windows) if (ws.keys.has(node)) this.markDirty(id, node);
    } else if ('app' in event) {
      const app = event.app.app;
      if (!isPlainName(app)) return [this.rejectMetadata('app metadata without an app name', event)];
      if (this.directory.setApp(event.app)) this.replaceSlotsTouching(app);
    }
    return [];
  }

  /** Everything that changed since the last flush; drops windows past their retention first. */
  flush(): IntermediaryResolverOutput {
    const now = this.clock.now();
    this.evictExpired(now);
    const out: IntermediaryResolverOutput = { contributions: [], forwards: [] };
    for (const [windowId, keys] of this.dirty) {
      const ws = this.windows.get(windowId);
      if (ws === undefined) continue;
      for (const key of keys) this.recompute(ws, key, now, out);
    }
    this.dirty.clear();
    return out;
  }

  private placeSlot(
    windowId: string,
    ws: WindowState,
    slotId: string,
    forwarded: boolean,
    entries: readonly StoredEntry[],
    chainTarget: NodeId | undefined,
    inherited = false,
  ): void {
    const previous = ws.slots.get(slotId);
    if (previous !== undefined) {
      for (const key of previous.keys) {
        ws.keys.get(key)?.slots.delete(slotId);
        this.markDirty(windowId, key);
      }
    }
    if (entries.length === 0) {
      ws.slots.delete(slotId);
      return;
    }
    const byKey = new Map<string, StoredEntry[]>();
    for (const e of entries) {
      const key = chainTarget ?? this.resolutionKey(e);
      const list = byKey.get(key);
      if (list === undefined) byKey.set(key, [e]);
      else list.push(e);
    }
    ws.slots.set(slotId, { forwarded, entries, keys: [...byKey.keys()] });
    for (const [key, list] of byKey) {
      let ks = ws.keys.get(key);
      if (ks === undefined) {
        ks = { key, intermediary: isNodeId(key) ? key : undefined, slots: new Map(), emitted: new EmittedContributions(ws.ref), forwarded: new Map() };
        ws.keys.set(key, ks);
      }
      ks.slots.set(slotId, { forwarded, entries: list });
      if (inherited) ks.inherited ??= new Set();
      this.markDirty(windowId, key);
    }
  }

  /**
   * Where an entry is resolved: at its source when that is an intermediary (its outbound), else at
   * its destination when that is one (its inbound), else at the edge. The key is derived from the
   * entry rather than taken from the message, because only here are workload apps known to be
   * gateways or proxies.
   */
  private resolutionKey(e: StoredEntry): string {
    return this.directory.intermediaryOf(e.agg.src) ?? this.directory.intermediaryOf(e.agg.dst) ?? edgeKey(e.srcNode, e.dstNode);
  }

  /** An app gained or lost its intermediary role: its traffic moves between keys. */
  private replaceSlotsTouching(app: string): void {
    const touches = (p: Peer) => p.kind === 'workload' && p.app === app;
    for (const [windowId, ws] of this.windows) {
      for (const [slotId, slot] of ws.slots) {
        if (slot.forwarded || !slot.entries.some((e) => touches(e.agg.src) || touches(e.agg.dst))) continue;
        this.placeSlot(windowId, ws, slotId, false, slot.entries, undefined);
      }
    }
  }

  private markDirty(windowId: string, key: string): void {
    let keys = this.dirty.get(windowId);
    if (keys === undefined) {
      keys = new Set();
      this.dirty.set(windowId, keys);
    }
    keys.add(key);
  }

  private evictExpired(now: number): void {
    for (const [id, ws] of this.windows) {
      if (now < Math.max(ws.ref.endMs, ws.lastUpdateMs) + this.config.retentionMs) continue;
      this.windows.delete(id);
      this.dirty.delete(id);
      this.evicted.set(id, now);
      this.counters.inc('windows_evicted');
    }
    for (const [id, at] of this.evicted) if (now >= at + this.config.retentionMs) this.evicted.delete(id);
  }

  private recompute(ws: WindowState, key: string, now: number, out: IntermediaryResolverOutput): void {
    const ks = ws.keys.get(key);
    if (ks === undefined) return;
    // A fixed slot order makes every sum, and so every emitted number, independent of arrival order.
    const slotIds = [...ks.slots.keys()].sort();
    const slots: SlotEntries[] = [];
    for (const id of slotIds) {
      const slot = ks.slots.get(id);
      if (slot !== undefined) slots.push(slot);
    }
    const groups = reconcileConnections(slots);
    this.countReconciled(groups);

    const forwards = new Map<NodeId, Map<string, FlowAggregate>>();
    ks.emitted.begin(now);
    if (ks.intermediary === undefined) ks.emitted.replaceRows('direct', directRows(groups), out.contributions);
    else this.resolveThrough(ks.intermediary, groups, ks.emitted, forwards, out.contributions, ks.inherited);
    ks.emitted.withdrawUnreplaced(out.contributions);
    CONTRIBUTION_KINDS.forEach((kind, i) => {
      const n = ks.emitted.emittedByKind[i] ?? 0;
      if (n > 0) this.counters.inc(COUNTER_OF_KIND[kind], n);
    });
    if (ks.emitted.removed > 0) this.counters.inc('contributions_removed', ks.emitted.removed);

    this.emitForwards(ws, ks, forwards, now, out);
    if (ks.slots.size === 0 && ks.emitted.size === 0 && ks.forwarded.size === 0) ws.keys.delete(key);
  }

  private countReconciled(groups: readonly ConnectionGroup[]): void {
    let client = 0;
    let server = 0;
    let network = 0;
    for (const g of groups) {
      if (g.forwarded) continue;
      if (g.observer === 'client') client++;
      else if (g.observer === 'server') server++;
      else network++;
    }
    if (client > 0) this.counters.inc('groups_reconciled', client, 'client');
    if (server > 0) this.counters.inc('groups_reconciled', server, 'server');
    if (network > 0) this.counters.inc('groups_reconciled', network, 'network');
  }

  private resolveThrough(
    intermediary: NodeId,
    groups: readonly ConnectionGroup[],
    emitted: EmittedContributions,
    forwards: Map<NodeId, Map<string, FlowAggregate>>,
    out: EdgeContribution[],
    inherited?: Set<string>,
  ): void {
    const { kind, name } = parseNodeId(intermediary);
    const isThis = (p: Peer) => (kind === 'app' ? p.kind === 'workload' && p.app === name : p.kind === 'intermediary' && p.id === name);
    // Inbound groups by client node: one client's parts must land in one row of resolved edges.
    const inbound = new Map<NodeId, ConnectionGroup[]>();
    const outbound: ConnectionGroup[] = [];
    for (const g of groups) {
      const fromIt = isThis(g.src);
      const toIt = isThis(g.dst);
      // Traffic between instances of one intermediary is neither a client nor a backend of it.
      if (fromIt === toIt) continue;
      if (toIt) {
        // The upstream intermediary forwards its resolved version of this traffic instead.
        if (!g.forwarded && this.directory.intermediaryOf(g.src) !== undefined) continue;
        const parts = inbound.get(g.srcNode);
        if (parts === undefined) inbound.set(g.srcNode, [g]);
        else parts.push(g);
      } else if (!g.forwarded) {
        outbound.push(g);
      }
    }

    const hopScope = `hop:${intermediary}`;
    const viaScope = `via:${intermediary}`;
    if (outbound.length === 0) {
      const unresolved = new ContributionRows();
      for (const [client, parts] of inbound) {
        const row = unresolved.row(client);
        for (const c of parts) row.add('unresolved', c.src, c.dst, c.dstNode, false, c.via, portsOf(c), c, 1, c.confidence);
      }
      emitted.replaceRows(viaScope, unresolved, out);
      return;
    }

    const hops = new ContributionRows();
    const backends: Backend[] = [];
    const slotOf = new Map<NodeId, number>();
    const backendNodes: NodeId[] = [];
    for (const b of outbound) {
      const ports = portsOf(b);
      hops.row(b.srcNode).add('hop', b.src, b.dst, b.dstNode, true, b.via, ports, b, 1, 1);
      let slot = slotOf.get(b.dstNode);
      if (slot === undefined) {
        slot = backendNodes.length;
        slotOf.set(b.dstNode, slot);
        backendNodes.push(b.dstNode);
      }
      backends.push({ group: b, ports, slot, next: this.directory.intermediaryOf(b.dst) });
    }
    const byPort = new Map<number, Candidates>();
    const row = new PooledRow(backendNodes, slotOf);
    for (const [client, parts] of inbound) {
      row.clear();
      for (const c of parts) {
        if (!c.forwarded) hops.row(client).add('hop', c.src, c.dst, c.dstNode, true, c.via, portsOf(c), c, 1, 1);
        let candidates = byPort.get(c.dstPort);
        if (candidates === undefined) {
          candidates = this.candidatesFor(intermediary, c.dstPort, backends);
          byPort.set(c.dstPort, candidates);
        }
        this.apportion(intermediary, c, candidates, row, forwards);
      }
      // Diffing client by client lets one client's drafts be reused by the next.
      if (row.size > 0) emitted.replaceRow(viaScope, client, row, out);
      if (inherited !== undefined) this.withdrawInherited(inherited, viaScope, parts, backends, emitted, out);
    }
    emitted.replaceRows(hopScope, hops, out);
  }

  /**
   * An earlier instance resolved this window from whatever part of it it had read: a client may
   * have gone to the intermediary itself (no outbound yet) or to any backend (before the listener's
   * targets were among the outbound). Every such dependency this instance does not emit now is
   * withdrawn once; its own later emissions it withdraws by its own diff.
   */
  private withdrawInherited(
    done: Set<string>,
    scope: string,
    parts: readonly ConnectionGroup[],
    backends: readonly Backend[],
    emitted: EmittedContributions,
    out: EdgeContribution[],
  ): void {
    const first = parts[0];
    if (first === undefined) return;
    const targets = new Map<NodeId, Peer>();
    for (const c of parts) targets.set(c.dstNode, c.dst);
    for (const b of backends) targets.set(b.group.dstNode, b.group.dst);
    for (const [node, peer] of targets) {
      const pair = `${first.srcNode} ${node}`;
      if (done.has(pair)) continue;
      done.add(pair);
      if (emitted.has(scope, first.srcNode, node)) continue;
      out.push(withdrawalOf(emitted.window, scope, first.src, peer, first.via));
      this.counters.inc('inherited_withdrawals');
    }
  }

  /** Splits one client group over the candidate backends: c → b gets each counter × y_b / Σy. */
  private apportion(
    intermediary: NodeId,
    c: ConnectionGroup,
    candidates: Candidates,
    row: PooledRow,
    forwards: Map<NodeId, Map<string, FlowAggregate>>,
  ): void {
    const via = [...c.via, intermediary];
    const { backends, weights, total } = candidates;
    for (let i = 0; i < backends.length; i++) {
      const backend = backends[i] as Backend;
      const share = (weights[i] as number) / total;
      const confidence = c.confidence * share;
      const b = backend.group;
      const next = backend.next;
      if (next === undefined) {
        row.add(backend.slot, 'resolved', c.src, b.dst, via, backend.ports, c, share, confidence);
      } else if (via.includes(next)) {
        row.add(backend.slot, 'loop-cut', c.src, b.dst, via, backend.ports, c, share, confidence);
      } else if (via.length >= this.config.maxChainDepth) {
        row.add(backend.slot, 'depth-cut', c.src, b.dst, via, backend.ports, c, share, confidence);
      } else {
        forwardShare(forwards, next, c, b, via, share, confidence);
      }
    }
  }

  /**
   * The backends a client of one listener port may reach, with their weights: bytes sent and
   * received, else connections, else an even split when the intermediary's outbound carried neither.
   */
  private candidatesFor(intermediary: NodeId, port: number, all: readonly Backend[]): Candidates {
    let backends = all;
    const targets = this.directory.listenerTargets(intermediary, port);
    if (targets !== undefined) {
      const narrowed = all.filter((b) => b.group.dst.kind === 'workload' && targets.has(b.group.dst.cluster));
      // Metadata that names none of the observed backends is stale; apportion over all rather than lose traffic.
      if (narrowed.length > 0) backends = narrowed;
    }
    for (const measure of [bytesOf, connectionsOf]) {
      const weights = backends.map(measure);
      const total = weights.reduce((s, w) => s + w, 0);
      if (total > 0) return { backends, weights, total };
    }
    return { backends, weights: backends.map(() => 1), total: backends.length };
  }

  private emitForwards(
    ws: WindowState,
    ks: KeyState,
    computed: Map<NodeId, Map<string, FlowAggregate>>,
    now: number,
    out: IntermediaryResolverOutput,
  ): void {
    const scope = `${CHAIN_SCOPE_PREFIX}${ks.key}`;
    const next = new Map<string, FlowAggregate[]>();
    for (const [target, byEntry] of computed) {
      const entries = [...byEntry.values()];
      next.set(target, entries);
      const previous = ks.forwarded.get(target);
      if (previous !== undefined && sameAggregates(previous, entries)) continue;
      out.forwards.push({ window: ws.ref, scope, key: target, entries, ingestedAtMs: now });
      this.counters.inc('chains_forwarded');
    }
    for (const target of ks.forwarded.keys()) {
      if (next.has(target)) continue;
      out.forwards.push({ window: ws.ref, scope, key: target, entries: [], ingestedAtMs: now });
      this.counters.inc('chains_forwarded');
    }
    ks.forwarded = next;
  }

  private rejectSnapshot(problem: { reason: Rejection['reason']; message: string }, snapshot: FlowPartialSnapshot): Rejection {
    this.counters.inc('snapshots_rejected', 1, problem.reason);
    return { ...problem, raw: JSON.stringify(snapshot) ?? '' };
  }

  private rejectMetadata(message: string, event: MetadataEvent): Rejection {
    this.counters.inc('metadata_rejected');
    return { reason: 'invalid-value', message, raw: JSON.stringify(event) ?? '' };
  }
}

/** A removal of a dependency: it names the contribution (src, dst, window, scope), counts nothing. */
function withdrawalOf(window: WindowRef, scope: string, src: Peer, dst: Peer, via: readonly string[]): EdgeContribution {
  return {
    window,
    scope,
    src,
    dst,
    hop: false,
    via: [...via],
    confidence: 0,
    ports: [],
    bytesSent: 0,
    bytesReceived: 0,
    packetsSent: 0,
    packetsReceived: 0,
    connections: 0,
    retransmits: 0,
    rttSumUs: 0,
    rttSamples: 0,
    firstSeenMs: 0,
    lastSeenMs: 0,
    removed: true,
    ingestedAtMs: 0,
  };
}

function directRows(groups: readonly ConnectionGroup[]): ContributionRows {
  const rows = new ContributionRows();
  for (const g of groups) rows.row(g.srcNode).add('direct', g.src, g.dst, g.dstNode, false, g.via, portsOf(g), g, 1, g.confidence);
  return rows;
}

/** Adds a client's share of one backend to the snapshot forwarded to that backend, an intermediary. */
function forwardShare(
  forwards: Map<NodeId, Map<string, FlowAggregate>>,
  target: NodeId,
  c: ConnectionGroup,
  b: ConnectionGroup,
  via: readonly string[],
  share: number,
  confidence: number,
): void {
  let entries = forwards.get(target);
  if (entries === undefined) {
    entries = new Map();
    forwards.set(target, entries);
  }
  const id = `${c.srcKey}\u0000${b.dstKey}\u0000${b.dstPort}\u0000${b.protocol}\u0000${via.join(' ')}`;
  const bytes = (c.bytesSent + c.bytesReceived) * share;
  const e = entries.get(id);
  if (e === undefined) {
    entries.set(id, {
      src: c.src,
      dst: b.dst,
      dstPort: b.dstPort,
      protocol: b.protocol,
      observer: c.observer,
      bytesSent: c.bytesSent * share,
      bytesReceived: c.bytesReceived * share,
      packetsSent: c.packetsSent * share,
      packetsReceived: c.packetsReceived * share,
      connections: c.connections * share,
      retransmits: c.retransmits * share,
      rttSumUs: c.rttSumUs * share,
      rttSamples: c.rttSamples * share,
      firstSeenMs: c.firstSeenMs,
      lastSeenMs: c.lastSeenMs,
      via: [...via],
      confidence,
    });
    return;
  }
  const before = e.bytesSent + e.bytesReceived;
  e.confidence = before + bytes > 0 ? (e.confidence * before + confidence * bytes) / (before + bytes) : Math.min(e.confidence, confidence);
  e.bytesSent += c.bytesSent * share;
  e.bytesReceived += c.bytesReceived * share;
  e.packetsSent += c.packetsSent * share;
  e.packetsReceived += c.packetsReceived * share;
  e.connections += c.connections * share;
  e.retransmits += c.retransmits * share;
  e.rttSumUs += c.rttSumUs * share;
  e.rttSamples += c.rttSamples * share;
  if (c.firstSeenMs < e.firstSeenMs) e.firstSeenMs = c.firstSeenMs;
  if (c.lastSeenMs > e.lastSeenMs) e.lastSeenMs = c.lastSeenMs;
}

function portsOf(g: ConnectionGroup): PortProtocolMsg[] {
  return [{ port: g.dstPort, protocol: g.protocol }];
}

function bytesOf(b: Backend): number {
  return b.group.bytesSent + b.group.bytesReceived;
}

function connectionsOf(b: Backend): number {
  return b.group.connections;
}

const WHITESPACE = /\s/;

function isPlainName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && !WHITESPACE.test(v);
}

function chainTargetOf(key: string): NodeId | undefined {
  if (!isNodeId(key)) return undefined;
  const { kind } = parseNodeId(key);
  return kind === 'intermediary' || kind === 'app' ? key : undefined;
}

function snapshotProblem(s: FlowPartialSnapshot): { reason: Rejection['reason']; message: string } | undefined {
  if (typeof s !== 'object' || s === null) return { reason: 'malformed', message: 'snapshot is not an object' };
  const w = s.window;
  if (typeof w !== 'object' || w === null || !Number.isFinite(w.startMs) || !Number.isFinite(w.endMs) || w.endMs <= w.startMs) {
    return { reason: 'invalid-time', message: 'window is missing or does not end after it starts' };
  }
  if (typeof s.scope !== 'string' || s.scope.length === 0) return { reason: 'missing-field', message: 'snapshot without a scope' };
  if (typeof s.key !== 'string' || s.key.length === 0) return { reason: 'missing-field', message: 'snapshot without a key' };
  if (!Array.isArray(s.entries)) return { reason: 'missing-field', message: 'snapshot without entries' };
  return undefined;
}

function sameAggregate(a: FlowAggregate, b: FlowAggregate): boolean {
  return (
    a.dstPort === b.dstPort &&
    a.protocol === b.protocol &&
    a.observer === b.observer &&
    a.bytesSent === b.bytesSent &&
    a.bytesReceived === b.bytesReceived &&
    a.packetsSent === b.packetsSent &&
    a.packetsReceived === b.packetsReceived &&
    a.connections === b.connections &&
    a.retransmits === b.retransmits &&
    a.rttSumUs === b.rttSumUs &&
    a.rttSamples === b.rttSamples &&
    a.firstSeenMs === b.firstSeenMs &&
    a.lastSeenMs === b.lastSeenMs &&
    a.confidence === b.confidence &&
    a.via.length === b.via.length &&
    a.via.every((v, i) => v === b.via[i]) &&
    peerKey(a.src) === peerKey(b.src) &&
    peerKey(a.dst) === peerKey(b.dst)
  );
}

function sameAggregates(a: readonly FlowAggregate[], b: readonly FlowAggregate[]): boolean {
  return a.length === b.length && a.every((x, i) => sameAggregate(x, b[i] as FlowAggregate));
}
