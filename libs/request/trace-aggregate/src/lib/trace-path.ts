import { Granularity, NodeId } from '@topology/model';
import { processNode, SpanKind, TraceSpan } from './span';
import { callSource, callTarget, pairTrace } from './trace-pairing';

/** One service-to-service call of a trace, in topology node ids. */
export interface TracePathHop {
  src: NodeId;
  dst: NodeId;
  operation: string;
  kind: SpanKind;
  /** Epoch microseconds. */
  startUs: number;
  durationUs: number;
  error: boolean;
  /** The callee's span (the caller's for a call to a virtual peer). */
  spanId: string;
  /** The caller's span (its parent for a call to a virtual peer). */
  parentSpanId: string;
}

/** A trace's service path at one granularity: what an overlay draws over the map. */
export interface TracePath {
  traceId: string;
  /** Every service that reported a span, and every virtual peer called, ordered by id. */
  nodes: NodeId[];
  /** Ordered by start. */
  hops: TracePathHop[];
  /** Epoch microseconds of the earliest span start; 0 when no span said. */
  startUs: number;
  /** From the earliest start to the latest end, microseconds. */
  durationUs: number;
}

/** Pairs one trace's spans (as stored in the span index) the way the aggregator does, and lays them out as a path. */
export function tracePath(traceId: string, spans: readonly TraceSpan[], granularity: Granularity): TracePath {
  const pairing = pairTrace(spans);
  const nodes = new Set<NodeId>();
  let startUs = Number.POSITIVE_INFINITY;
  let endUs = Number.NEGATIVE_INFINITY;
  for (const span of spans) {
    nodes.add(processNode(span.process, granularity));
    if (span.startUs > 0) {
      if (span.startUs < startUs) startUs = span.startUs;
      if (span.startUs + span.durationUs > endUs) endUs = span.startUs + span.durationUs;
    }
  }
  const hops = pairing.calls.map((call): TracePathHop => {
    const dst = callTarget(call, granularity);
    nodes.add(dst);
    return {
      src: callSource(call, granularity),
      dst,
      operation: call.operation,
      kind: call.kind,
      startUs: call.startUs,
      durationUs: call.durationUs,
      error: call.error,
      spanId: (call.callee ?? call.caller).spanId,
      parentSpanId: call.callee === undefined ? call.caller.parentSpanId : call.caller.spanId,
    };
  });
  const known = startUs !== Number.POSITIVE_INFINITY;
  return { traceId, nodes: [...nodes].sort(), hops, startUs: known ? startUs : 0, durationUs: known ? endUs - startUs : 0 };
}
