import { Clock, CounterSet, Granularity, NodeId } from '@topology/model';
import { emptyLatencyCounts, latencyBucketOf } from './latency-histogram';
import { OTHER_OPERATIONS, RequestEdgeBucket, RequestNode } from './request-layer';
import { ServiceProcess, TraceSpan, VirtualPeer } from './span';
import { callSource, callTarget, pairTrace, TraceCall } from './trace-pairing';
import { TraceAggregatorConfig, validateTraceAggregatorConfig } from './trace-aggregator.config';
import { PendingTrace, TraceOrigin, TraceWaitStore } from './trace-wait-store';

export const TRACE_AGGREGATOR_COUNTERS = {
  spans_received: 'Spans taken into the wait store.',
  spans_dropped: 'Spans dropped because their trace already held maxSpansPerTrace spans.',
  spans_duplicated: 'Spans received more than once (same trace, span id, service and kind); counted once.',
  spans_orphaned: 'Spans whose parent span never arrived within the wait (not sampled, lost, or later than the wait).',
  spans_unpaired: 'Client and producer spans whose peer never reported and whose attributes name no peer: no edge.',
  traces_paired: 'Traces paired, labelled by why their wait ended: idle, evicted (store full), life (waited maxTraceLifeMs), settled (drain).',
  calls_paired: 'Calls seen from both sides: a span whose parent is in another service (client→server, producer→consumer, parent→child).',
  calls_virtual: 'Calls from client or producer spans whose peer never reported, counted to a virtual node named from peer attributes.',
  calls_late: 'Calls dropped because their time bucket had already been written and left memory (bucketIdleMs), or had been before a restart.',
  traces_moved: 'Waiting traces dropped unpaired because the source (partition) they were read from moved to another instance, which reads them again.',
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
/** Longest resume state: Kafka keeps at most 4 096 bytes of commit metadata by default. */
const MAX_RESUME_STATE_CHARS = 3_000;

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
  /** Per source, the first position of the spans of the traces counted here (when the caller gives positions). */
  needs: Map<string, number> | undefined;
}

class ScopeState {
  readonly buckets = new Map<number, BucketState>();
  /** Bucket starts whose totals were written and forgotten: calls for them now would overwrite the whole with a part. */
  readonly forgotten = new Set<number>();
  /** `forgotten` as a resume state, built when asked after a change. */
  resumeState: string | undefined = '';
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
  /** Per source, the buckets in memory that hold the effect of spans read there. */
  private readonly bucketsNeeding = new Map<string, Set<BucketState>>();
  /** Buckets the trace being counted added to. */
  private readonly touched: BucketState[] = [];
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

  /**
   * Takes decoded spans from one source (`scope` names it, e.g. `<writer>/<topic>/<partition>`).
   * `position` (≥ 0) is where they were read in that source, increasing from call to call (a
   * message offset); given, `oldestHeldPosition` says from where to read the source again to
   * rebuild what memory holds.
   */
  accept(spans: readonly TraceSpan[], scope: string, position = -1): void {
    const now = this.clock.now();
    const closed = this.closed;
    let taken = 0;
    for (const span of spans) {
      if (!this.waiting.add(span, scope, now, closed, position)) {
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

  /**
   * The oldest position of `scope` whose effect is held in memory only: a span of a trace still
   * waiting, or of a trace counted in a bucket still in memory (whose total is rewritten whole at
   * each change). Undefined when memory holds nothing read there. A process that lost its memory
   * and reads every source again from this position, after `resumeScope`, writes the totals an
   * uninterrupted run would have written.
   */
  oldestHeldPosition(scope: string): number | undefined {
    let oldest = this.waiting.oldestPosition(scope);
    const buckets = this.bucketsNeeding.get(scope);
    if (buckets !== undefined) {
      for (const bucket of buckets) {
        const position = bucket.needs?.get(scope);
        if (position !== undefined && (oldest === undefined || position < oldest)) oldest = position;
      }
    }
    return oldest;
  }

  /**
   * What a process reading `scope` again from `oldestHeldPosition` must know: the buckets of the
   * scope already written whole and forgotten. Reading from there also brings back spans of traces
   * counted in those buckets; their calls must not rewrite them from a part. '' when there are none.
   */
  resumeState(scope: string): string {
    const state = this.scopes.get(scope);
    if (state === undefined) return '';
    state.resumeState ??= encodeForgotten(state.forgotten, this.config.bucketMs);
    return state.resumeState;
  }

  /** Resumes a scope from `resumeState`, before its first span; false (and nothing restored) when the state is unreadable. */
  resumeScope(scope: string, resumeState: string): boolean {
    if (resumeState === '') return true;
    const starts = decodeForgotten(resumeState, this.config.bucketMs);
    if (starts === undefined) return false;
    const state = this.scope(scope);
    for (const start of starts.slice(-MAX_FORGOTTEN_BUCKETS)) {
      state.buckets.delete(start);
      state.forgotten.add(start);
    }
    state.resumeState = undefined;
    return true;
  }

  /**
   * Drops everything held of a source that another process now reads: its waiting traces, unpaired,
   * and its bucket totals, unwritten. The other process reads the source again from the last
   * checkpoint and writes those totals whole; anything written from here after that would replace
   * them with an older view.
   */
  forgetScope(scope: string): void {
    const moved = this.waiting.dropScope(scope);
    if (moved > 0) this.counters.inc('traces_moved', moved);
    const state = this.scopes.get(scope);
    if (state !== undefined) {
      for (const bucket of state.buckets.values()) this.releaseBucket(bucket);
      this.scopes.delete(scope);
    }
    this.bucketsNeeding.delete(scope);
    let kept = 0;
    for (const totals of this.changedTotals) {
      if (totals.scope === scope) totals.changed = false;
      else this.changedTotals[kept++] = totals;
    }
    this.changedTotals.length = kept;
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
    if (trace.origins !== undefined) this.holdOrigins(trace.origins);
    this.touched.length = 0;
  }

  /** The buckets the trace was counted in now hold the effect of its spans: keep their positions. */
  private holdOrigins(origins: readonly TraceOrigin[]): void {
    for (const bucket of this.touched) {
      const needs = (bucket.needs ??= new Map());
      for (const { scope, position } of origins) {
        const known = needs.get(scope);
        if (known !== undefined && known <= position) continue;
        needs.set(scope, position);
        let index = this.bucketsNeeding.get(scope);
        if (index === undefined) {
          index = new Set();
          this.bucketsNeeding.set(scope, index);
        }
        index.add(bucket);
      }
    }
  }

  private releaseBucket(bucket: BucketState): void {
    if (bucket.needs === undefined) return;
    for (const scope of bucket.needs.keys()) this.bucketsNeeding.get(scope)?.delete(bucket);
    bucket.needs = undefined;
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
    if (!this.touched.includes(bucket)) this.touched.push(bucket);
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
        this.releaseBucket(bucket);
        scope.forgotten.add(start);
        scope.resumeState = undefined;
        // Oldest first (buckets are forgotten roughly in time order): a month of minutes is plenty.
        if (scope.forgotten.size > MAX_FORGOTTEN_BUCKETS) scope.forgotten.delete(scope.forgotten.values().next().value as number);
      }
    }
  }
}

/**
 * Forgotten bucket starts as `b<bucketMs>:<ranges>`: bucket indices (start / bucketMs) in base 36,
 * runs written `first-last`, comma-separated, oldest first. When too long, the oldest runs go: a
 * restart reads again only what the last checkpoints need, which is recent.
 */
function encodeForgotten(forgotten: ReadonlySet<number>, bucketMs: number): string {
  if (forgotten.size === 0) return '';
  const indices = [...forgotten].map((start) => Math.round(start / bucketMs)).sort((a, b) => a - b);
  const runs: string[] = [];
  let first = indices[0] as number;
  let last = first;
  const close = () => runs.push(first === last ? first.toString(36) : `${first.toString(36)}-${last.toString(36)}`);
  for (let i = 1; i < indices.length; i++) {
    const index = indices[i] as number;
    if (index === last + 1) {
      last = index;
      continue;
    }
    close();
    first = last = index;
  }
  close();
  const prefix = `b${bucketMs.toString(36)}:`;
  let length = prefix.length + runs.reduce((n, r) => n + r.length + 1, 0);
  let from = 0;
  while (length > MAX_RESUME_STATE_CHARS && from < runs.length - 1) length -= (runs[from++] as string).length + 1;
  return prefix + runs.slice(from).join(',');
}

function decodeForgotten(state: string, bucketMs: number): number[] | undefined {
  const colon = state.indexOf(':');
  if (!state.startsWith('b') || colon < 0 || parseInt(state.slice(1, colon), 36) !== bucketMs) return undefined;
  const starts: number[] = [];
  for (const run of state.slice(colon + 1).split(',')) {
    const dash = run.indexOf('-');
    const first = parseInt(dash < 0 ? run : run.slice(0, dash), 36);
    const last = dash < 0 ? first : parseInt(run.slice(dash + 1), 36);
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || last < first) return undefined;
    for (let i = Math.max(first, last - MAX_FORGOTTEN_BUCKETS); i <= last; i++) starts.push(i * bucketMs);
  }
  return starts;
}

function traceStartMs(trace: PendingTrace): number | undefined {
  let min = Number.POSITIVE_INFINITY;
  for (const span of trace.spans) if (span.startUs > 0 && span.startUs < min) min = span.startUs;
  return min === Number.POSITIVE_INFINITY ? undefined : min / 1000;
}
