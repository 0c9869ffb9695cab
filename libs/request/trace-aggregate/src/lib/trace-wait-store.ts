import { TraceSpan } from './span';

export const TRACE_CLOSE_REASONS = [
  /** No span arrived for `traceIdleMs`. */
  'idle',
  /** The store was full; the least recently active trace made room. */
  'evicted',
  /** The trace had been waiting `maxTraceLifeMs`; what came later waits as a new part. */
  'life',
  /** Everything was closed on request (drain, shutdown). */
  'settled',
] as const;
export type TraceCloseReason = (typeof TRACE_CLOSE_REASONS)[number];

/** Where a trace's spans were read from: a source (scope) and the position of the first of them there. */
export interface TraceOrigin {
  readonly scope: string;
  readonly position: number;
}

/** Spans of one trace waiting for their peers. */
export interface PendingTrace {
  readonly traceId: string;
  /** The writer scope of the first span; the trace's calls are counted there. */
  readonly scope: string;
  readonly spans: TraceSpan[];
  /** Processing time, epoch milliseconds. */
  readonly openedMs: number;
  lastSpanMs: number;
  closeReason?: TraceCloseReason;
  /** Per source its spans came from, the position of the first; absent when the caller gives no positions. */
  origins?: TraceOrigin[];
}

/** The traces waiting for spans of one source, in the order of their first position there. */
class OriginQueue {
  traces: PendingTrace[] = [];
  positions: number[] = [];
  head = 0;

  push(trace: PendingTrace, position: number): void {
    this.traces.push(trace);
    this.positions.push(position);
  }
}

export interface TraceWaitLimits {
  traceIdleMs: number;
  maxTraceLifeMs: number;
  maxTraces: number;
  maxSpans: number;
  maxSpansPerTrace: number;
}

/**
 * Spans keyed by trace id, held until their trace goes quiet, bounded in time (idle and lifetime
 * limits) and in size (traces, spans, spans per trace). Closed traces are handed back to the caller
 * with the reason they closed. The map is kept in order of last activity, so expiry and eviction
 * read from its front.
 */
export class TraceWaitStore {
  private readonly traces = new Map<string, PendingTrace>();
  private readonly origins = new Map<string, OriginQueue>();
  private spanCount = 0;
  private nextLifeCheckMs = 0;

  constructor(private readonly limits: TraceWaitLimits) {}

  get size(): number {
    return this.traces.size;
  }

  get spans(): number {
    return this.spanCount;
  }

  /**
   * Adds a span; traces closed to make room, or for their age, are pushed to `closed`. Returns false
   * when the span was dropped because its trace already holds `maxSpansPerTrace` spans. `position`
   * (≥ 0) is where the span was read in its source (`scope`), for `oldestPosition`.
   */
  add(span: TraceSpan, scope: string, nowMs: number, closed: PendingTrace[], position = -1): boolean {
    let trace = this.traces.get(span.traceId);
    if (trace !== undefined && nowMs - trace.openedMs >= this.limits.maxTraceLifeMs) {
      this.close(trace, 'life', closed);
      trace = undefined;
    }
    if (trace === undefined) {
      while (this.traces.size > 0 && (this.traces.size >= this.limits.maxTraces || this.spanCount >= this.limits.maxSpans)) this.evictOldest(closed);
      trace = { traceId: span.traceId, scope, spans: [span], openedMs: nowMs, lastSpanMs: nowMs };
      this.traces.set(span.traceId, trace);
      this.spanCount++;
      if (position >= 0) this.addOrigin(trace, scope, position);
      return true;
    }
    if (trace.spans.length >= this.limits.maxSpansPerTrace) return false;
    if (position >= 0) {
      const origins = trace.origins;
      // Nearly always the trace's spans come from one source: one comparison per span.
      if (origins === undefined || (origins[origins.length - 1] as TraceOrigin).scope !== scope) {
        if (origins === undefined || !origins.some((o) => o.scope === scope)) this.addOrigin(trace, scope, position);
      }
    }
    while (this.spanCount >= this.limits.maxSpans && this.traces.size > 1) {
      const oldest = this.traces.values().next().value as PendingTrace;
      if (oldest === trace) break;
      this.evictOldest(closed);
    }
    trace.spans.push(span);
    this.spanCount++;
    if (trace.lastSpanMs !== nowMs) {
      trace.lastSpanMs = nowMs;
      // Re-inserting moves the trace to the back: the map stays ordered by last activity.
      this.traces.delete(span.traceId);
      this.traces.set(span.traceId, trace);
    }
    return true;
  }

  /** Closes every trace quiet for `traceIdleMs` or older than `maxTraceLifeMs`. */
  expire(nowMs: number, closed: PendingTrace[]): void {
    for (const trace of this.traces.values()) {
      if (nowMs - trace.lastSpanMs < this.limits.traceIdleMs) break;
      this.close(trace, 'idle', closed);
    }
    // A busy trace is never at the front; its age is checked when its next span arrives, and here
    // (a whole scan, so at most once per idle interval).
    if (this.traces.size === 0 || nowMs < this.nextLifeCheckMs) return;
    this.nextLifeCheckMs = nowMs + this.limits.traceIdleMs;
    for (const trace of this.traces.values()) if (nowMs - trace.openedMs >= this.limits.maxTraceLifeMs) this.close(trace, 'life', closed);
  }

  /** Closes every waiting trace. */
  settle(closed: PendingTrace[]): void {
    for (const trace of this.traces.values()) this.close(trace, 'settled', closed);
  }

  /**
   * The first position in `scope` of a span whose trace still waits, or undefined when no trace
   * read from there waits: a source read again from that position gives every waiting trace back
   * all the spans it took from that source.
   */
  oldestPosition(scope: string): number | undefined {
    const queue = this.origins.get(scope);
    if (queue === undefined) return undefined;
    // A trace closed, dropped or cut in parts is no longer the one waiting under its id.
    while (queue.head < queue.traces.length && this.traces.get((queue.traces[queue.head] as PendingTrace).traceId) !== queue.traces[queue.head]) queue.head++;
    if (queue.head === queue.traces.length) {
      this.origins.delete(scope);
      return undefined;
    }
    if (queue.head > 1_024 && queue.head * 2 > queue.traces.length) {
      queue.traces = queue.traces.slice(queue.head);
      queue.positions = queue.positions.slice(queue.head);
      queue.head = 0;
    }
    return queue.positions[queue.head];
  }

  /** Drops, without pairing, every waiting trace whose first span came from `scope`; returns how many. */
  dropScope(scope: string): number {
    let dropped = 0;
    for (const trace of this.traces.values()) {
      if (trace.scope !== scope) continue;
      this.traces.delete(trace.traceId);
      this.spanCount -= trace.spans.length;
      dropped++;
    }
    this.origins.delete(scope);
    return dropped;
  }

  private addOrigin(trace: PendingTrace, scope: string, position: number): void {
    (trace.origins ??= []).push({ scope, position });
    let queue = this.origins.get(scope);
    if (queue === undefined) {
      queue = new OriginQueue();
      this.origins.set(scope, queue);
    }
    queue.push(trace, position);
  }

  private evictOldest(closed: PendingTrace[]): void {
    const oldest = this.traces.values().next().value as PendingTrace | undefined;
    if (oldest !== undefined) this.close(oldest, 'evicted', closed);
  }

  private close(trace: PendingTrace, reason: TraceCloseReason, closed: PendingTrace[]): void {
    this.traces.delete(trace.traceId);
    this.spanCount -= trace.spans.length;
    trace.closeReason = reason;
    closed.push(trace);
  }
}
