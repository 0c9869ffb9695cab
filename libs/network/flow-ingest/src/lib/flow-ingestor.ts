import { Clock, CounterSet, INTERMEDIARY_TYPES, IntermediaryType, UnknownReason } from '@topology/model';
import type { AppMetadata, DeadLetterReason, ExternalRange, FlowPartialSnapshot, IpAssignment, IpOwnership, MetadataEvent, Rejection } from '@topology/contracts';
import { ExternalRanges } from './external-ranges';
import { FlowIngestCounter, flowIngestCounters } from './flow-ingest-counters';
import { FlowIngestorConfig, validateFlowIngestorConfig } from './flow-ingestor-config';
import { HeldEntry, HoldBack } from './hold-back';
import { IntermediaryAddressIndex } from './intermediary-address-index';
import { AddressKey, addressKey, addressText, isPrivateAddress } from './ip-address';
import { IpOwnershipIndex } from './ip-ownership-index';
import type { ObservedEnd, ObservedFlow } from './observed-flow';
import { AttributedPeer, PeerTable, WorkloadOwner } from './peer-table';
import { ScopeState, WindowedPreAggregator } from './window-pre-aggregator';

/** The rule that attributed an end; the label of `ends_attributed`. */
const RULES = ['identity', 'intermediary', 'ownership', 'ownership-grace', 'external', 'unknown', 'shared-address'] as const;
const IDENTITY = 0;
const INTERMEDIARY = 1;
const OWNERSHIP = 2;
const OWNERSHIP_GRACE = 3;
const EXTERNAL = 4;
const UNKNOWN = 5;
const SHARED = 6;

const NO_ADDRESS = 'no-address';
type EndKey = AddressKey | typeof NO_ADDRESS;

interface HeldFlow {
  readonly flow: ObservedFlow;
  readonly scope: ScopeState;
  readonly ingestedAtMs: number;
  readonly clientKey: EndKey;
  readonly serverKey: EndKey;
}

/**
 * Stage 1 of the network pipeline: attributes both ends of each flow to a peer at the flow's own
 * start time, and pre-aggregates per event-time window, source scope and routing key.
 *
 * An end that carries its identity is that workload, and teaches that its address belonged to it
 * over the flow's time. Any other end is, in order: the intermediary an IP assignment gives the
 * address at that time, the workload whose learned ownership range covers the time, the external
 * range with the longest matching prefix. An end covered by none of these, or only by the grace
 * after an owner's last evidence, is held back until evidence covers it (learned here or published
 * by another instance) or the hold-back expires; only then does the grace count, and what stays
 * unowned becomes an Unknown peer with its reason. Waiting inside the grace is what keeps a reused
 * address from being given to its previous owner when the new owner's evidence arrives second.
 *
 * Not thread-safe; one instance per consumer. Bad input never throws: it comes back as rejections.
 */
export class FlowIngestor {
  readonly counters: CounterSet<FlowIngestCounter> = flowIngestCounters();

  private readonly peers = new PeerTable();
  private readonly ownership: IpOwnershipIndex;
  private readonly assignments = new IntermediaryAddressIndex();
  private readonly externals = new ExternalRanges();
  private readonly holdBack: HoldBack<HeldFlow>;
  private readonly windows: WindowedPreAggregator;
  /** Rejections found outside `ingest` (releases, expiry, metadata), handed out by `flush`. */
  private pendingRejections: Rejection[] = [];
  private readonly endsByRule = new Float64Array(RULES.length);
  /** The rule of the last `resolveEnd`, read right after the call; saves an object per end. */
  private rule = IDENTITY;
  private viaUnresolved = 0;
  private lastMaintenanceMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly config: FlowIngestorConfig,
    private readonly clock: Clock,
  ) {
    const problems = validateFlowIngestorConfig(config);
    if (problems.length > 0) throw new Error(`invalid flow-ingestor config: ${problems.join('; ')}`);
    this.ownership = new IpOwnershipIndex({
      graceMs: config.ownershipGraceMs,
      leadMs: config.ownershipLeadMs,
      retentionMs: config.ownershipRetentionMs,
      maxRangesPerIp: config.maxOwnershipRangesPerIp,
    });
    this.holdBack = new HoldBack({ holdBackMs: config.holdBackMs, maxHeld: config.maxHeldFlows });
    this.windows = new WindowedPreAggregator(config);
  }

  /**
   * Attributes and aggregates a batch of one source partition (`scope`). Returns the flows it
   * rejected (invalid, or too late for their window); flows held back are not returned and show
   * up in a later flush.
   */
  ingest(flows: readonly ObservedFlow[], scope: string, ingestedAtMs: number = this.clock.now()): Rejection[] {
    const rejections: Rejection[] = [];
    const state = this.windows.scope(scope);
    const latestStartMs = this.clock.now() + this.config.maxFutureSkewMs;
    let deferred: HeldFlow[] | undefined;

    for (let i = 0; i < flows.length; i++) {
      const flow = flows[i] as ObservedFlow;
      const problem = flowProblem(flow, latestStartMs);
      if (problem !== undefined) {
        rejections.push(this.reject(problem, flow));
        continue;
      }
      const clientKey = endKey(flow.client);
      const serverKey = endKey(flow.server);
      if (clientKey === undefined || serverKey === undefined) {
        rejections.push(this.reject({ reason: 'invalid-value', message: `not an IP address: ${JSON.stringify(clientKey === undefined ? flow.client.ip : flow.server.ip)}` }, flow));
        continue;
      }
      const clientOwner = this.learn(flow.client, clientKey, flow);
      const serverOwner = this.learn(flow.server, serverKey, flow);
      if (clientOwner === null || serverOwner === null) {
        rejections.push(this.reject({ reason: 'invalid-value', message: 'identity with an empty name or a name containing whitespace' }, flow));
        continue;
      }

      this.windows.observe(state, flow.startMs);
      if (flow.startMs < state.replayFloorMs) {
        this.counters.inc('flows_replayed_skipped');
        continue;
      }
      if (this.windows.isTooLate(state, flow.startMs)) {
        this.counters.inc('flows_too_late');
        rejections.push(tooLate(flow, scope));
        continue;
      }

      const src = clientOwner ?? this.resolveEnd(clientKey, flow, false);
      const srcRule = this.rule;
      const dst = serverOwner ?? this.resolveEnd(serverKey, flow, false);
      const dstRule = this.rule;
      if (src === undefined || dst === undefined) {
        // Decided after the whole batch has taught its ownership, so order within a batch never matters.
        (deferred ??= []).push({ flow, scope: state, ingestedAtMs, clientKey, serverKey });
        continue;
      }
      this.countEnd(clientOwner === undefined ? srcRule : IDENTITY, src);
      this.countEnd(serverOwner === undefined ? dstRule : IDENTITY, dst);
      this.windows.add(state, src, dst, this.viaOf(flow), flow, ingestedAtMs);
    }

    if (deferred !== undefined) {
      for (const held of deferred) if (!this.tryAttribute(held, false, rejections)) this.hold(held, rejections);
    }
    this.counters.inc('flows_in', flows.length);
    this.publishTallies();
    return rejections;
  }

  /**
   * Applies a metadata event: IP assignments of intermediaries, external ranges, and apps that are
   * proxies or API gateways. Listener and health events are for later stages and are ignored.
   */
  applyMetadata(event: MetadataEvent): void {
    if ('ipAssignment' in event) this.applyAssignment(event);
    else if ('externalRange' in event) this.applyExternalRange(event);
    else if ('app' in event) this.applyAppMetadata(event);
    this.publishTallies();
  }

  /** Applies a range another instance learned (from the ownership topic, including our own). */
  applyOwnership(range: IpOwnership): void {
    const key = range.ip ? addressKey(range.ip) : undefined;
    if (key === undefined) {
      this.rejectMetadata('invalid-value', `ownership range with a bad ip ${JSON.stringify(range.ip)}`, range);
      return;
    }
    if (!Number.isFinite(range.fromMs) || !Number.isFinite(range.toMs) || range.toMs < range.fromMs || range.toMs > this.clock.now() + this.config.maxFutureSkewMs) {
      this.rejectMetadata('invalid-time', `ownership range with bad times [${range.fromMs}, ${range.toMs}]`, range);
      return;
    }
    const owner = this.peers.owner({ app: range.app, cluster: range.cluster, region: range.region, account: range.account });
    if (owner === undefined) {
      this.rejectMetadata('invalid-value', 'ownership range with an empty name or a name containing whitespace', range);
      return;
    }
    this.counters.inc('ownership_ranges_received');
    this.observeOwnership(key, owner, range.fromMs, range.toMs, false);
    this.publishTallies();
  }

  /**
   * Everything to emit since the last flush: a complete snapshot of every (window, scope, key) that
   * changed, new or extended ownership ranges, and rejections found outside `ingest`. Also expires
   * held flows and drops closed windows.
   */
  flush(): { snapshots: FlowPartialSnapshot[]; ownership: IpOwnership[]; rejections: Rejection[] } {
    const nowMs = this.clock.now();
    const expired = this.holdBack.expire(nowMs);
    if (expired.length > 0) {
      this.counters.inc('flows_expired', expired.length);
      for (const entry of expired) this.tryAttribute(entry.value, true, this.pendingRejections);
    }

    const { snapshots, windowsClosed } = this.windows.flush();
    const ownership = this.ownership.takeUnpublished(nowMs, this.config.ownershipPublishIntervalMs);
    this.counters.inc('snapshots_emitted', snapshots.length);
    this.counters.inc('windows_closed', windowsClosed);
    this.counters.inc('ownership_ranges_published', ownership.length);
    if (nowMs - this.lastMaintenanceMs >= this.config.windowMs) this.maintain(nowMs);
    this.publishTallies();

    const rejections = this.pendingRejections;
    this.pendingRejections = [];
    return { snapshots, ownership, rejections };
  }

  /** Newest flow start seen in a scope, event time; -Infinity before its first flow. Its watermark trails it by maxOutOfOrderMs. */
  newestEventMs(scope: string): number {
    return this.windows.existing(scope)?.newestEventMs ?? Number.NEGATIVE_INFINITY;
  }

  /** Whether a record of the window starting at `windowStartMs` would still be taken in `scope`. */
  acceptsWindow(scope: string, windowStartMs: number): boolean {
    const state = this.windows.existing(scope);
    return state === undefined || !this.windows.isTooLate(state, windowStartMs);
  }

  /**
   * Prepares a scope whose source is read again after a restart, from the first record of its
   * oldest window then open: `newestEventMs` is the event time the scope had reached before that
   * record, `openFromWindowStartMs` the start of that oldest open window. Records of older windows
   * were aggregated and published before the restart: read again, they still teach ownership and
   * move event time, but are not aggregated twice (`flows_replayed_skipped`). Call it before the
   * scope's first record.
   */
  resumeScope(scope: string, resume: { newestEventMs: number; openFromWindowStartMs: number }): void {
    this.windows.resume(this.windows.scope(scope), resume.newestEventMs, resume.openFromWindowStartMs);
  }

  /**
   * Drops a scope's open windows and held flows without emitting them, for a source partition that
   * another instance now reads (it re-reads the partition from its checkpoint and emits the scope).
   */
  forgetScope(scope: string): void {
    this.windows.forget(scope);
  }

  heldCount(): number {
    return this.holdBack.size;
  }

  /** Sizes of the stage's state, for gauges. */
  stateSizes(): { heldFlows: number; ownedAddresses: number; ownershipRanges: number; assignedAddresses: number; externalRanges: number; openWindows: number; owners: number } {
    return {
      heldFlows: this.holdBack.size,
      ownedAddresses: this.ownership.addressCount,
      ownershipRanges: this.ownership.rangeCount,
      assignedAddresses: this.assignments.size,
      externalRanges: this.externals.size,
      openWindows: this.windows.openWindowCount(),
      owners: this.peers.ownerCount,
    };
  }

  /**
   * The owner of an end that names itself, after recording the evidence it gives; undefined when
   * the end carries no identity, null when its identity is unusable.
   */
  private learn(end: ObservedEnd, key: EndKey, flow: ObservedFlow): WorkloadOwner | undefined | null {
    const identity = end.identity;
    if (identity === undefined) return undefined;
    const owner = this.peers.owner(identity);
    if (owner === undefined) return null;
    if (key !== NO_ADDRESS) this.observeOwnership(key, owner, flow.startMs, flow.endMs, true);
    return owner;
  }

  private observeOwnership(key: AddressKey, owner: WorkloadOwner, fromMs: number, toMs: number, local: boolean): void {
    const grown = this.ownership.observe(key, owner, fromMs, toMs, local);
    if (grown !== undefined && this.holdBack.size > 0) this.releaseWaitingOn(key, grown.fromMs - this.config.ownershipLeadMs, grown.toMs);
  }

  /**
   * The peer of an end without identity at the flow start, or undefined while it must wait. With
   * `final` (hold-back over) it never waits: the grace counts, and what is left is Unknown.
   */
  private resolveEnd(key: EndKey, flow: ObservedFlow, final: boolean): AttributedPeer | undefined {
    if (key === NO_ADDRESS) {
      this.rule = UNKNOWN;
      return this.unknown('missing-address', '', flow);
    }
    const atMs = flow.startMs;
    const intermediary = this.assignments.lookup(key, atMs);
    if (intermediary !== undefined) {
      this.rule = INTERMEDIARY;
      return intermediary;
    }
    const owner = this.ownership.ownerAt(key, atMs);
    if (owner !== undefined) {
      this.rule = OWNERSHIP;
      return owner;
    }
    if (this.ownership.sharedAt(key, atMs)) {
      // Several workloads send from this address at once: naming one would invent edges.
      this.rule = SHARED;
      return this.unknown('shared-address', addressText(key), flow);
    }
    const graceOwner = this.ownership.graceOwnerAt(key, atMs);
    if (graceOwner !== undefined) {
      if (!final) return undefined;
      this.rule = OWNERSHIP_GRACE;
      return graceOwner;
    }
    const external = this.externals.lookup(key);
    if (external !== undefined) {
      this.rule = EXTERNAL;
      return external;
    }
    if (!final) return undefined;
    this.rule = UNKNOWN;
    const reason: UnknownReason =
      this.ownership.everOwned(key) || this.assignments.everAssigned(key) ? 'no-owner-at-time' : isPrivateAddress(key) ? 'private-unmapped' : 'public-unmapped';
    return this.unknown(reason, addressText(key), flow);
  }

  /** Attributes a deferred or held flow; false when an end must still wait (never with `final`). */
  private tryAttribute(held: HeldFlow, final: boolean, rejections: Rejection[]): boolean {
    // Its partition went to another instance, which reads it again: dropping the flow counts it once.
    if (held.scope.forgotten) return true;
    const { flow } = held;
    const clientOwner = flow.client.identity === undefined ? undefined : this.peers.owner(flow.client.identity);
    const src = clientOwner ?? this.resolveEnd(held.clientKey, flow, final);
    const srcRule = clientOwner === undefined ? this.rule : IDENTITY;
    if (src === undefined) return false;
    const serverOwner = flow.server.identity === undefined ? undefined : this.peers.owner(flow.server.identity);
    const dst = serverOwner ?? this.resolveEnd(held.serverKey, flow, final);
    const dstRule = serverOwner === undefined ? this.rule : IDENTITY;
    if (dst === undefined) return false;
    this.countEnd(srcRule, src);
    this.countEnd(dstRule, dst);
    if (!this.windows.add(held.scope, src, dst, this.viaOf(flow), flow, held.ingestedAtMs)) {
      this.counters.inc('flows_too_late');
      rejections.push(tooLate(flow, held.scope.scope));
    }
    return true;
  }

  private hold(held: HeldFlow, rejections: Rejection[]): void {
    const addresses: AddressKey[] = [];
    if (held.flow.client.identity === undefined && held.clientKey !== NO_ADDRESS) addresses.push(held.clientKey);
    if (held.flow.server.identity === undefined && held.serverKey !== NO_ADDRESS && held.serverKey !== held.clientKey) addresses.push(held.serverKey);
    this.counters.inc('flows_held');
    const pushedOut = this.holdBack.hold(held, addresses, this.clock.now());
    if (pushedOut.length === 0) return;
    this.counters.inc('flows_pushed_out', pushedOut.length);
    for (const entry of pushedOut) this.tryAttribute(entry.value, true, rejections);
  }

  /** Retries the flows waiting on an address whose start lies in [fromMs, toMs], now covered. */
  private releaseWaitingOn(key: AddressKey, fromMs: number, toMs: number): void {
    const waiting = this.holdBack.waitingOn(key);
    for (let i = 0; i < waiting.length; i++) {
      const entry = waiting[i] as HeldEntry<HeldFlow>;
      const startMs = entry.value.flow.startMs;
      if (entry.gone || startMs < fromMs || startMs > toMs) continue;
      if (!this.tryAttribute(entry.value, false, this.pendingRejections)) continue;
      this.holdBack.release(entry);
      this.counters.inc('flows_released');
    }
  }

  private viaOf(flow: ObservedFlow): readonly string[] {
    const viaIp = flow.viaIp;
    if (!viaIp) return NO_VIA;
    const key = addressKey(viaIp);
    if (key !== undefined) {
      const intermediary = this.assignments.lookup(key, flow.startMs) ?? this.ownership.lookup(key, flow.startMs);
      if (intermediary?.intermediaryNode !== undefined) return intermediary.via;
    }
    this.viaUnresolved++;
    return NO_VIA;
  }

  private countEnd(rule: number, peer: AttributedPeer): void {
    this.endsByRule[rule]++;
    if (peer.peer.kind === 'unknown') this.counters.inc('ends_unknown', 1, peer.peer.reason);
  }

  private unknown(reason: UnknownReason, ip: string, flow: ObservedFlow): AttributedPeer {
    return this.peers.unknown(reason, ip, flow.region || undefined);
  }

  private applyAssignment(event: { ipAssignment: IpAssignment }): void {
    const assignment = event.ipAssignment;
    const key = assignment.ip ? addressKey(assignment.ip) : undefined;
    if (key === undefined) return this.rejectMetadata('invalid-value', `IP assignment with a bad ip ${JSON.stringify(assignment.ip)}`, event);
    if (!(INTERMEDIARY_TYPES as readonly string[]).includes(assignment.type)) {
      return this.rejectMetadata('invalid-value', `IP assignment with an unknown intermediary type ${JSON.stringify(assignment.type)}`, event);
    }
    if (!Number.isFinite(assignment.fromMs) || (assignment.toMs !== undefined && assignment.toMs !== 0 && !(assignment.toMs > assignment.fromMs))) {
      return this.rejectMetadata('invalid-time', `IP assignment with bad times [${assignment.fromMs}, ${assignment.toMs}]`, event);
    }
    const peer = this.peers.intermediary(assignment);
    if (peer === undefined) return this.rejectMetadata('invalid-value', 'IP assignment with an empty intermediary id or one containing whitespace', event);
    this.assignments.assign(key, peer, assignment.intermediaryId, assignment.fromMs, assignment.toMs);
    if (this.holdBack.size > 0) this.releaseWaitingOn(key, assignment.fromMs, assignment.toMs || Number.POSITIVE_INFINITY);
  }

  private applyExternalRange(event: { externalRange: ExternalRange }): void {
    const problem = this.externals.add(event.externalRange.cidr, event.externalRange.name);
    if (problem !== undefined) return this.rejectMetadata('invalid-value', problem, event);
    if (this.holdBack.size === 0) return;
    for (const key of this.holdBack.addresses()) {
      if (this.externals.lookup(key) !== undefined) this.releaseWaitingOn(key, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
    }
  }

  private applyAppMetadata(event: { app: AppMetadata }): void {
    const { app, intermediaryType } = event.app;
    if (intermediaryType !== undefined && !(INTERMEDIARY_TYPES as readonly string[]).includes(intermediaryType)) {
      return this.rejectMetadata('invalid-value', `app metadata with an unknown intermediary type ${JSON.stringify(intermediaryType)}`, event);
    }
    this.peers.setIntermediaryApp(app, intermediaryType as IntermediaryType | undefined);
    this.windows.routingChanged();
  }

  private rejectMetadata(reason: DeadLetterReason, message: string, input: unknown): void {
    this.counters.inc('metadata_rejected', 1, reason);
    this.pendingRejections.push({ reason, message, raw: JSON.stringify(input) });
  }

  private reject(problem: { reason: DeadLetterReason; message: string }, flow: ObservedFlow): Rejection {
    this.counters.inc('flows_invalid', 1, problem.reason);
    return { reason: problem.reason, message: problem.message, raw: JSON.stringify(flow) };
  }

  /** Forgets what no record can still need: old ranges and assignments, unused interned peers. */
  private maintain(nowMs: number): void {
    this.lastMaintenanceMs = nowMs;
    const expired = this.ownership.expire();
    if (expired > 0) this.counters.inc('ownership_ranges_expired', expired, 'retention');
    const assignmentsExpired = this.assignments.expire(this.ownership.newestEvidence - this.config.ownershipRetentionMs);
    if (assignmentsExpired > 0) this.counters.inc('ip_assignments_expired', assignmentsExpired);
    const pruned = this.peers.prune(this.windows.oldestOpenWindowStartMs());
    if (pruned > 0) this.counters.inc('peers_pruned', pruned);
  }

  private publishTallies(): void {
    const created = this.ownership.createdTotal - this.counters.get('ownership_ranges_created');
    if (created > 0) this.counters.inc('ownership_ranges_created', created);
    const overBound = this.ownership.droppedOverBoundTotal - this.counters.get('ownership_ranges_expired', 'bound');
    if (overBound > 0) this.counters.inc('ownership_ranges_expired', overBound, 'bound');
    for (let i = 0; i < RULES.length; i++) {
      const count = this.endsByRule[i] as number;
      if (count > 0) {
        this.counters.inc('ends_attributed', count, RULES[i]);
        this.endsByRule[i] = 0;
      }
    }
    if (this.viaUnresolved > 0) {
      this.counters.inc('via_unresolved', this.viaUnresolved);
      this.viaUnresolved = 0;
    }
  }
}

const NO_VIA: readonly string[] = Object.freeze([]);

function endKey(end: ObservedEnd): EndKey | undefined {
  return end.ip ? addressKey(end.ip) : NO_ADDRESS;
}

function flowProblem(flow: ObservedFlow, latestStartMs: number): { reason: DeadLetterReason; message: string } | undefined {
  if (!flow || !flow.client || !flow.server || typeof flow.protocol !== 'string') return { reason: 'missing-field', message: 'a flow end or the protocol is missing' };
  const { startMs, endMs } = flow;
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || endMs < startMs) {
    return { reason: 'invalid-time', message: `flow times [${startMs}, ${endMs}] are not a valid interval` };
  }
  if (startMs > latestStartMs) return { reason: 'invalid-time', message: `flow starts at ${startMs}, too far ahead of the clock` };
  if (
    !(flow.bytesSent >= 0) ||
    !(flow.bytesReceived >= 0) ||
    !(flow.packetsSent >= 0) ||
    !(flow.packetsReceived >= 0) ||
    !(flow.connections >= 0) ||
    !(flow.retransmits >= 0)
  ) {
    return { reason: 'invalid-value', message: 'a flow counter is negative or not a number' };
  }
  return undefined;
}

function tooLate(flow: ObservedFlow, scope: string): Rejection {
  return { reason: 'too-late', message: `flow starting at ${flow.startMs} arrived after its window closed in scope ${scope}`, raw: JSON.stringify(flow) };
}
