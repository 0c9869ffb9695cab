import { Granularity, NodeId } from '@topology/model';
import { isCallerKind, peerIsOwnService, processNode, ServiceProcess, SpanKind, TraceSpan, VirtualPeer } from './span';

/** One call between two services that a trace shows. */
export interface TraceCall {
  /** The span that made the call: a client or producer span, or the parent span across the boundary. */
  readonly caller: TraceSpan;
  /** The first span of the call in the callee; absent when the peer never reported (a virtual call). */
  readonly callee: TraceSpan | undefined;
  /** For a virtual call: the peer its caller's attributes name. */
  readonly peer: VirtualPeer | undefined;
  /** `client`/`producer` for calls made by such spans, otherwise the callee's kind. */
  readonly kind: SpanKind;
  /** Epoch microseconds; as the caller measured it when the caller is a client or producer. */
  readonly startUs: number;
  readonly durationUs: number;
  readonly error: boolean;
  /** The callee's span name (its operation); the caller's for a virtual call. */
  readonly operation: string;
}

export interface TracePairing {
  /** Ordered by start, then callee (or caller) span id. */
  calls: TraceCall[];
  /** Spans naming a parent that is not in the trace (not sampled, lost, or later than the wait). */
  orphans: number;
  /** Client and producer spans whose peer never reported and whose attributes name no peer: no edge. */
  unpaired: number;
  /** Spans delivered more than once (same id, process and kind), or id collisions that cannot be read. */
  duplicates: number;
}

export function callSource(call: TraceCall, granularity: Granularity): NodeId {
  return processNode(call.caller.process, granularity);
}

export function callTarget(call: TraceCall, granularity: Granularity): NodeId {
  if (call.callee !== undefined) return processNode(call.callee.process, granularity);
  if (call.peer !== undefined) return call.peer.node;
  throw new Error('a call has neither a callee nor a peer');
}

/** The process a paired call reaches; undefined for a virtual call. */
export function calleeProcess(call: TraceCall): ServiceProcess | undefined {
  return call.callee?.process;
}

const FRAGMENT_KIND_RANK: Readonly<Record<SpanKind, number>> = { server: 0, consumer: 0, client: 1, producer: 1, internal: 2 };

/**
 * One span reported twice or in parts by the same process: the most telling kind (a part without
 * kind is `internal`; a server half beats its own client half, a self call), the widest time, the
 * first name and peer, an error if any part had one.
 */
function mergeFragments(a: TraceSpan, b: TraceSpan): TraceSpan {
  const kind = FRAGMENT_KIND_RANK[b.kind] < FRAGMENT_KIND_RANK[a.kind] ? b.kind : a.kind;
  const start = a.startUs === 0 ? b.startUs : b.startUs === 0 ? a.startUs : Math.min(a.startUs, b.startUs);
  const end = Math.max(a.startUs + a.durationUs, b.startUs + b.durationUs);
  return {
    traceId: a.traceId,
    spanId: a.spanId,
    parentSpanId: a.parentSpanId !== '' ? a.parentSpanId : b.parentSpanId,
    process: a.process,
    kind,
    name: a.name !== '' ? a.name : b.name,
    startUs: start,
    durationUs: start === 0 ? Math.max(a.durationUs, b.durationUs) : end - start,
    error: a.error || b.error,
    peer: a.peer ?? b.peer,
    sharedServer: a.sharedServer || b.sharedServer,
  };
}

const CALLEE_RANK: Readonly<Record<SpanKind, number>> = { server: 0, consumer: 0, internal: 1, client: 2, producer: 2 };

/** When a client span has several children in one other process, the one that received the call counts. */
function betterCallee(a: TraceSpan, b: TraceSpan): boolean {
  const byKind = CALLEE_RANK[a.kind] - CALLEE_RANK[b.kind];
  if (byKind !== 0) return byKind < 0;
  if (a.startUs !== b.startUs) return a.startUs < b.startUs;
  return a.spanId < b.spanId;
}

function pairedCall(caller: TraceSpan, callee: TraceSpan): TraceCall {
  const byCaller = isCallerKind(caller.kind);
  const timing = byCaller ? caller : callee;
  const other = byCaller ? callee : caller;
  return {
    caller,
    callee,
    peer: undefined,
    kind: byCaller ? caller.kind : callee.kind,
    startUs: timing.startUs !== 0 ? timing.startUs : other.startUs,
    durationUs: timing.durationUs !== 0 ? timing.durationUs : other.durationUs,
    error: callee.error || (byCaller && caller.error),
    operation: callee.name !== '' ? callee.name : caller.name,
  };
}

function virtualCall(caller: TraceSpan, peer: VirtualPeer): TraceCall {
  return { caller, callee: undefined, peer, kind: caller.kind, startUs: caller.startUs, durationUs: caller.durationUs, error: caller.error, operation: caller.name };
}

function byStart(a: TraceCall, b: TraceCall): number {
  if (a.startUs !== b.startUs) return a.startUs - b.startUs;
  const ia = (a.callee ?? a.caller).spanId;
  const ib = (b.callee ?? b.caller).spanId;
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}

/**
 * The calls between services that one trace's spans show, whatever order they arrived in:
 * - a span whose parent is in another process is the callee of a call from that parent's process
 *   (client → server, producer → consumer, and any parent → child across a service boundary);
 * - a client or producer span counts one call per process it reaches, however many of its children
 *   are there;
 * - a client or producer span that reached no other process, and did not hand the call to a nested
 *   client span of its own, is a call to the virtual peer its attributes name (none named: unpaired).
 *
 * Zipkin's shared span ids are read as they are meant: the server half (`shared`, or a server span
 * reusing a client span's id from another process) is the child of the client half, and spans
 * naming that id as parent are children of the server half when they run in its process.
 */
export function pairTrace(spans: readonly TraceSpan[]): TracePairing {
  // Per span id, one span per process: Zipkin reports a span in fragments (a late part without
  // kind or timestamp, retried server halves), and replays deliver spans twice; both fold into one.
  const byId = new Map<string, TraceSpan | TraceSpan[]>();
  let duplicates = 0;
  for (const span of spans) {
    const known = byId.get(span.spanId);
    if (known === undefined) {
      byId.set(span.spanId, span);
    } else if (!Array.isArray(known)) {
      if (known.process === span.process) {
        byId.set(span.spanId, mergeFragments(known, span));
        duplicates++;
      } else {
        byId.set(span.spanId, [known, span]);
      }
    } else {
      const at = known.findIndex((s) => s.process === span.process);
      if (at < 0) known.push(span);
      else {
        known[at] = mergeFragments(known[at] as TraceSpan, span);
        duplicates++;
      }
    }
  }

  // An id shared by several processes is one call: the client half is the span, the others are
  // server halves (`shared`, or a server span reusing the client's id), children of the client half.
  const primary = new Map<string, TraceSpan>();
  const serverHalves = new Map<string, TraceSpan[]>();
  const unique: TraceSpan[] = [];
  for (const [id, entry] of byId) {
    if (!Array.isArray(entry)) {
      primary.set(id, entry);
      unique.push(entry);
      continue;
    }
    const callers = entry.filter((s) => isCallerKind(s.kind) && !s.sharedServer);
    if (callers.length !== 1) {
      // Unrelated spans that collide on an id cannot be told apart: keep the first.
      const [first] = entry;
      if (first !== undefined) {
        primary.set(id, first);
        unique.push(first);
      }
      duplicates += entry.length - 1;
      continue;
    }
    const client = callers[0] as TraceSpan;
    primary.set(id, client);
    unique.push(client);
    const halves = entry.filter((s) => s !== client);
    serverHalves.set(id, halves);
    for (const half of halves) unique.push(half);
  }

  const resolve = (parentId: string, child: TraceSpan): TraceSpan | undefined => {
    if (parentId === '') return undefined;
    const other = primary.get(parentId);
    const halves = serverHalves.get(parentId);
    if (halves === undefined) return other;
    // A child runs in the process of the half it belongs to.
    for (const half of halves) if (half.process === child.process) return half;
    return other?.process === child.process ? other : (halves[0] ?? other);
  };

  const calls: TraceCall[] = [];
  const callsByCaller = new Map<TraceSpan, TraceCall[]>();
  const delegating = new Set<TraceSpan>();
  let orphans = 0;
  for (const span of unique) {
    const client = primary.get(span.spanId);
    const parent = client !== undefined && client !== span ? client : resolve(span.parentSpanId, span);
    if (parent === undefined) {
      if (span.parentSpanId !== '') orphans++;
      continue;
    }
    if (parent.process === span.process) {
      if (isCallerKind(parent.kind) && isCallerKind(span.kind)) delegating.add(parent);
      continue;
    }
    if (!isCallerKind(parent.kind)) {
      calls.push(pairedCall(parent, span));
      continue;
    }
    const made = callsByCaller.get(parent);
    if (made === undefined) {
      callsByCaller.set(parent, [pairedCall(parent, span)]);
      continue;
    }
    const at = made.findIndex((c) => c.callee?.process === span.process);
    if (at < 0) made.push(pairedCall(parent, span));
    else if (betterCallee(span, made[at]?.callee as TraceSpan)) made[at] = pairedCall(parent, span);
  }
  for (const made of callsByCaller.values()) for (const call of made) calls.push(call);

  let unpaired = 0;
  for (const span of unique) {
    if (!isCallerKind(span.kind) || callsByCaller.has(span) || delegating.has(span)) continue;
    if (span.peer !== undefined && !peerIsOwnService(span.peer, span.process)) calls.push(virtualCall(span, span.peer));
    else unpaired++;
  }
  calls.sort(byStart);
  return { calls, orphans, unpaired, duplicates };
}
