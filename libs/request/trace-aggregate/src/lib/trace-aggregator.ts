import { Clock, CounterSet, Granularity, NodeId } from '@topology/model';
import { emptyLatencyCounts, latencyBucketOf } from './latency-histogram';
import { OTHER_OPERATIONS, RequestEdgeBucket, RequestNode } from './request-layer';
import { ServiceProcess, TraceSpan, VirtualPeer } from './span';
import { callSource, callTarget, pairTrace, TraceCall } from './trace-pairing';
import { TraceAggregatorConfig, validateTraceAggregatorConfig } from './trace-aggregator.config';
import { PendingTrace, TraceWaitStore } from './trace-wait-store';

export const TRACE_AGGREGATOR_COUNTERS = {
  spans_received: 'Spans taken into the wait store.',
  spans_dropped: 'Spans dropped because their trace already held maxSpansPerTrace spans.',
  spans_duplicated: 'Spans received more than once (same trace, span id, service and kind); counted once.',
  spans_orphaned: 'Spans whose parent span never arrived within the wait (not sampled, lost, or later than the wait).',
  spans_unpaired: 'Client and producer spans whose peer never reported and whose attributes name no peer: no edge.',
  traces_paired: 'Traces paired, labelled by why their wait ended: idle, evicted (store full), life (waited maxTraceLifeMs), settled (drain).',
  calls_paired: 'Calls seen from both sides: a span whose parent is in another service (client→server, producer→consumer, parent→child).',
  calls_virtual: 'Calls from client or producer spans whose peer never reported, counted to a virtual node named from peer attributes.',
  calls_late: 'Calls dropped because their time bucket had already been written and left memory (bucketIdleMs).',
} as const;
export type TraceAggregatorCounter = keyof typeof TRACE_AGGREGATOR_COUNTERS;

/** What one flush hands to the store. */
export interface TraceAggregatorOutput {
  /** Complete current totals of every (scope, bucket, edge) changed since the last flush. */
  buckets: RequestEdgeBucket[];
  /** Nodes seen since the last flush, with the first/last seen this aggregator knows. */
  nodes: RequestNode[];
  /** Every span received since the last flush, for the span index. */
  spans: TraceSpan[];
}

const GRANULARITIES: readonly Granularity[] = ['cluster', 'app'];
const MAX_FORGOTTEN_BUCKETS = 50_000;

/** One edge's totals in one bucket of one scope: the state a `RequestEdgeBucket` row is written from. */
class EdgeBucketTotals {
  calls = 0;
  errors = 0;
  latencySumUs = 0;
  readonly latencyCounts = emptyLatencyCounts();
  readonly operations = new Map<string, number>();
  firstSeenMs = Number.POSITIVE_INFINITY;
  lastSeenMs = Number.NEGATIVE_INFINITY;
  changed = false;

  constructor(
    readonly granularity: Granularity,
    readonly src: NodeId,
    readonly dst: NodeId,
    readonly bucketStartMs: number,
    readonly scope: string,
  ) {}
}

class BucketState {
  /** Per granularity: src → dst → totals. */
  readonly edges: Map<NodeId, Map<NodeId, EdgeBucketTotals>>[] = [new Map(), new Map()];
  lastChangedMs = 0;
}

class ScopeState {
  readonly buckets = new Map<number, BucketState>();
  /** Bucket starts whose totals were written and forgotten: calls for them now would overwrite the whole with a part. */
  readonly forgotten = new Set<number>();
}

/**
 * Turns spans into request-layer edges. Spans wait, keyed by trace id, until their trace has been
 * quiet for `traceIdleMs` (bounded by `maxTraceLifeMs`, `maxTraces`, `maxSpans`), then the trace is
 * paired (`pairTrace`) and each call is added to its edge's totals in the call's time bucket, at
 * cluster and at app granularity. `flush` returns the complete totals of every bucket that changed,
 * for a store that replaces rows per (edge, bucket, scope): a rewritten bucket converges, never
 * double counts. Time is the injected clock (processing time) for waits, span times for buckets.
 */
export class TraceAggregator {
  readonly counters = new CounterSet<TraceAggregatorCounter>(TRACE_AGGREGATOR_COUNTERS);
  private readonly waiting: TraceWaitStore;
  private readonly scopes = new Map<string, ScopeState>();
  private readonly changedTotals: EdgeBucketTotals[] = [];
  private changedProcesses: ServiceProcess[] = [];
  private changedPeers: VirtualPeer[] = [];
  private received: TraceSpan[] = [];
  private readonly closed: PendingTrace[] = [];
  private lastVersion = 0;

  constructor(
    readonly config: TraceAggregatorConfig,
    private readonly clock: Clock,
  ) {
    const problems = validateTraceAggregatorConfig(config);
    if (problems.length > 0) throw new Error(`invalid trace aggregator config: ${problems.join('; ')}`);
    this.waiting = new TraceWaitStore(config);
  }

  /** Spans waiting for their trace to be paired. */
  get waitingSpans(): number {
    return this.waiting.spans;
  }

  /** Takes decoded spans from one source (`scope` names it, e.g. `<writer>/<topic>/<partition>`). */
  accept(spans: readonly TraceSpan[], scope: string): void {
    const now = this.clock.now();
    const closed = this.closed;
    let taken = 0;
    for (const span of spans) {
      if (!this.waiting.add(span, scope, now, closed)) {
        this.counters.inc('spans_dropped');
        continue;
      }
      taken++;
      this.received.push(span);
      if (span.startUs > 0) this.seen(span.process, span.startUs / 1000);
    }
    this.counters.inc('spans_received', taken);
    if (closed.length > 0) this.pairClosed();
  }

  /** Pairs the traces whose wait is over and returns what changed since the last flush. */
  flush(): TraceAggregatorOutput {
    const now = this.clock.now();
    this.waiting.expire(now, this.closed);
    this.pairClosed();
    const output = this.output(now);
    this.forgetIdleBuckets(now);
    return output;
  }

  /** Pairs every waiting trace now, whatever its wait (drain before shutdown, tests), then flushes. */
  settle(): TraceAggregatorOutput {
    this.waiting.settle(this.closed);
    return this.flush();
  }

  private pairClosed(): void {
    const now = this.clock.now();
    for (const trace of this.closed) this.pair(trace, now);
    this.closed.length = 0;
  }

  private pair(trace: PendingTrace, nowMs: number): void {
    this.counters.inc('traces_paired', 1, trace.closeReason ?? 'idle');
    const pairing = pairTrace(trace.spans);
    if (pairing.orphans > 0) this.counters.inc('spans_orphaned', pairing.orphans);
    if (pairing.unpaired > 0) this.counters.inc('spans_unpaired', pairing.unpaired);
    if (pairing.duplicates > 0) this.counters.inc('spans_duplicated', pairing.duplicates);
    if (pairing.calls.length === 0) return;
    const scope = this.scope(trace.scope);
    const fallbackMs = traceStartMs(trace) ?? trace.openedMs;
    for (const call of pairing.calls) this.count(call, scope, trace.scope, fallbackMs, nowMs);
  }

  private count(call: TraceCall, scope: ScopeState, scopeName: string, fallbackMs: number, nowMs: number): void {
    this.counters.inc(call.callee === undefined ? 'calls_virtual' : 'calls_paired');
    const atMs = call.startUs > 0 ? call.startUs / 1000 : fallbackMs;
    const bucketStartMs = Math.floor(atMs / this.config.bucketMs) * this.config.bucketMs;
    if (scope.forgotten.has(bucketStartMs)) {
      this.counters.inc('calls_late');
      return;
    }
    if (call.peer !== undefined) this.seenPeer(call.peer, atMs);
    let bucket = scope.buckets.get(bucketStartMs);
    if (bucket === undefined) {
      bucket = new BucketState();
      scope.buckets.set(bucketStartMs, bucket);
    }
    bucket.lastChangedMs = nowMs;
    const durationMs = call.durationUs / 1000;
    const latencyBucket = latencyBucketOf(durationMs);
    for (let g = 0; g < GRANULARITIES.length; g++) {
      const granularity = GRANULARITIES[g] as Granularity;
      const totals = this.totals(bucket, g, granularity, callSource(call, granularity), callTarget(call, granularity), bucketStartMs, scopeName);
      totals.calls++;
      if (call.error) totals.errors++;
      totals.latencySumUs += call.durationUs;
      totals.latencyCounts[latencyBucket] = (totals.latencyCounts[latencyBucket] as number) + 1;
      this.countOperation(totals, call.operation);
      if (atMs < totals.firstSeenMs) totals.firstSeenMs = atMs;
      const endMs = atMs + durationMs;
      if (endMs > totals.lastSeenMs) totals.lastSeenMs = endMs;
      if (!totals.changed) {
        totals.changed = true;
        this.changedTotals.push(totals);
      }
    }
  }

  private totals(bucket: BucketState, g: number, granularity: Granularity, src: NodeId, dst: NodeId, bucketStartMs: number, scope: string): EdgeBucketTotals {
    const bySrc = bucket.edges[g] as Map<NodeId, Map<NodeId, EdgeBucketTotals>>;
    let byDst = bySrc.get(src);
    if (byDst === undefined) {
      byDst = new Map();
      bySrc.set(src, byDst);
    }
    let totals = byDst.get(dst);
    if (totals === undefined) {
      totals = new EdgeBucketTotals(granularity, src, dst, bucketStartMs, scope);
      byDst.set(dst, totals);
    }
    return totals;
  }

  private countOperation(totals: EdgeBucketTotals, operation: string): void {
    const ops = totals.operations;
    const known = ops.get(operation);
    if (known !== undefined) ops.set(operation, known + 1);
    // Names beyond the limit share one more entry, so a row never grows past maxOperations + 1.
    else if (ops.size < this.config.maxOperations) ops.set(operation, 1);
    else ops.set(OTHER_OPERATIONS, (ops.get(OTHER_OPERATIONS) ?? 0) + 1);
  }

  private scope(name: string): ScopeState {
    let scope = this.scopes.get(name);
    if (scope === undefined) {
      scope = new ScopeState();
      this.scopes.set(name, scope);
    }
    return scope;
  }

  private seen(process: ServiceProcess, atMs: number): void {
    if (atMs < process.firstSeenMs) process.firstSeenMs = atMs;
    if (atMs > process.lastSeenMs) process.lastSeenMs = atMs;
    if (!process.changed) {
      process.changed = true;
      this.changedProcesses.push(process);
    }
  }

  private seenPeer(peer: VirtualPeer, atMs: number): void {
    if (atMs < peer.firstSeenMs) peer.firstSeenMs = atMs;
    if (atMs > peer.lastSeenMs) peer.lastSeenMs = atMs;
    if (!peer.changed) {
      peer.changed = true;
      this.changedPeers.push(peer);
    }
  }

  private nextVersion(nowMs: number): number {
    // Later writes must win even across restarts of a writer with a stable scope: derive from the clock.
    this.lastVersion = Math.max(this.lastVersion + 1, nowMs * 1000);
    return this.lastVersion;
  }

  private output(nowMs: number): TraceAggregatorOutput {
    const buckets: RequestEdgeBucket[] = [];
    if (this.changedTotals.length > 0) {
      const version = this.nextVersion(nowMs);
      for (const t of this.changedTotals) {
        t.changed = false;
        buckets.push({
          granularity: t.granularity,
          src: t.src,
          dst: t.dst,
          bucketStartMs: t.bucketStartMs,
          scope: t.scope,
          version,
          calls: t.calls,
          errors: t.errors,
          latencyCounts: [...t.latencyCounts],
          latencySumUs: t.latencySumUs,
          operations: Object.fromEntries(t.operations),
          firstSeenMs: Math.floor(t.firstSeenMs),
          lastSeenMs: Math.ceil(t.lastSeenMs),
        });
      }
      this.changedTotals.length = 0;
    }
    const nodes: RequestNode[] = [];
    for (const p of this.changedProcesses) {
      p.changed = false;
      const seen = { firstSeenMs: Math.floor(p.firstSeenMs), lastSeenMs: Math.ceil(p.lastSeenMs) };
      const region = p.region === undefined ? {} : { region: p.region };
      nodes.push({ id: p.appNode, kind: 'app', granularity: 'app', displayName: p.service, app: p.service, ...region, ...seen });
      nodes.push({ id: p.clusterNode, kind: 'cluster', granularity: 'cluster', displayName: p.cluster, app: p.service, cluster: p.cluster, ...region, ...seen });
    }
    for (const peer of this.changedPeers) {
      peer.changed = false;
      const seen = { firstSeenMs: Math.floor(peer.firstSeenMs), lastSeenMs: Math.ceil(peer.lastSeenMs) };
      nodes.push(
        peer.source === 'service'
          ? { id: peer.node, kind: 'app', granularity: 'app', displayName: peer.name, app: peer.name, ...seen }
          : { id: peer.node, kind: 'external', displayName: peer.name, ...seen },
      );
    }
    this.changedProcesses = [];
    this.changedPeers = [];
    const spans = this.received;
    this.received = [];
    return { buckets, nodes, spans };
  }

  private forgetIdleBuckets(nowMs: number): void {
    for (const scope of this.scopes.values()) {
      for (const [start, bucket] of scope.buckets) {
        if (nowMs - bucket.lastChangedMs < this.config.bucketIdleMs) continue;
        scope.buckets.delete(start);
        scope.forgotten.add(start);
        // Oldest first (buckets are forgotten roughly in time order): a month of minutes is plenty.
        if (scope.forgotten.size > MAX_FORGOTTEN_BUCKETS) scope.forgotten.delete(scope.forgotten.values().next().value as number);
      }
    }
  }
}

function traceStartMs(trace: PendingTrace): number | undefined {
  let min = Number.POSITIVE_INFINITY;
  for (const span of trace.spans) if (span.startUs > 0 && span.startUs < min) min = span.startUs;
  return min === Number.POSITIVE_INFINITY ? undefined : min / 1000;
}
