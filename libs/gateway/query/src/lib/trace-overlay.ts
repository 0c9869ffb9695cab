import { EdgeRecord, edgeKey, Granularity, Layer, NodeId, NodeRecord, parseNodeId, RequestEdgeProps } from '@topology/model';
import { LayerAnswer } from './layer-fan-out';
import { GraphMerge } from './merge';
import { QueryError } from './query-error';
import { LayerStatus, TopologyNode } from './queries';

/** One service-to-service call of a trace, as the request layer's span index laid it out. */
export interface TracePathHop {
  src: NodeId;
  dst: NodeId;
  operation: string;
  /** client, server, producer, consumer, internal. */
  kind: string;
  /** Epoch microseconds. */
  startUs: number;
  durationUs: number;
  error: boolean;
  spanId: string;
  parentSpanId: string;
}

/** A trace's service path at one granularity. */
export interface TracePathAnswer {
  traceId: string;
  /** Every service that reported a span, and every peer called. */
  nodes: NodeId[];
  /** Ordered by start. */
  hops: TracePathHop[];
  /** Epoch microseconds; 0 when no span said. */
  startUs: number;
  durationUs: number;
}

/**
 * Where the gateway finds a trace: the request layer's span index. Undefined when no span of the
 * trace is stored (never sampled, not arrived yet, or past the span retention).
 */
export interface TracePathReader {
  tracePath(traceId: string, granularity: Granularity): Promise<TracePathAnswer | undefined>;
}

export interface TraceOverlayRequest {
  /** Hex: 32 digits (W3C, OTLP) or 16 (Zipkin's 64-bit ids). */
  traceId: string;
  /** Default `app`. */
  granularity?: Granularity;
}

export interface TraceOverlayHop {
  /** Topology node ids at the requested granularity. */
  src: NodeId;
  dst: NodeId;
  operation: string;
  kind: string;
  startUnixNano: number;
  durationMs: number;
  error: boolean;
  spanId: string;
  parentSpanId: string;
}

export interface TraceOverlayResponse {
  /** Lowercase, as stored. */
  traceId: string;
  found: boolean;
  /** The trace's services as topology nodes, with the context the layers know; `distance` counts hops from the trace's entry. */
  nodes: TopologyNode[];
  /** One edge per service pair the trace crosses, with each layer's properties where it knows the edge. */
  edges: EdgeRecord[];
  /** Ordered by start. */
  hops: TraceOverlayHop[];
  startMs: number;
  durationMs: number;
  layerStatus: LayerStatus[];
}

const TRACE_ID = /^(?:[0-9a-f]{16}){1,2}$/;

/** A trace id as the span index stores it (lowercase hex), or an invalid-argument error. */
export function resolveTraceId(traceId: string | undefined): string {
  const id = (traceId ?? '').trim().toLowerCase();
  if (!TRACE_ID.test(id)) throw new QueryError('invalid-argument', `trace_id must be 16 or 32 hex digits, got ${JSON.stringify(traceId ?? '')}`);
  return id;
}

export function notFoundOverlay(traceId: string): TraceOverlayResponse {
  return { traceId, found: false, nodes: [], edges: [], hops: [], startMs: 0, durationMs: 0, layerStatus: [] };
}

/** What the layers said about the trace's nodes and the edges between them. */
export interface OverlayContext {
  nodes: NodeRecord[];
  edges: EdgeRecord[];
}

/**
 * The overlay of a trace path on the topology: the layers' records of its nodes and of the edges
 * its hops cross (only those), merged. A hop pair no layer returned (the request layer has not
 * written its bucket yet) gets an edge made of this trace's hops alone.
 */
export function overlayOf(path: TracePathAnswer, granularity: Granularity, answers: readonly LayerAnswer<OverlayContext>[]): TraceOverlayResponse {
  const distance = hopDistances(path);
  const merge = new GraphMerge();
  const pairs = new Map<string, TracePathHop[]>();
  for (const hop of path.hops) {
    const key = edgeKey(hop.src, hop.dst);
    const list = pairs.get(key);
    if (list === undefined) pairs.set(key, [hop]);
    else list.push(hop);
  }
  const wanted = new Set(path.nodes);
  for (const { status, value } of answers) {
    if (value === undefined) continue;
    for (const node of value.nodes) if (wanted.has(node.id) && node.lastSeenMs > 0) merge.addNode(status.layer, node, distance.get(node.id) ?? 0);
    merge.addEdges(
      status.layer,
      value.edges.filter((e) => pairs.has(e.key)),
    );
  }
  const startMs = path.startUs / 1000;
  const endMs = (path.startUs + path.durationUs) / 1000;
  const nodes: TopologyNode[] = path.nodes.map((id) => merge.node(id) ?? { ...bareRecord(id, startMs, endMs), distance: distance.get(id) ?? 0, layers: [] });
  nodes.sort((a, b) => a.distance - b.distance || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  const known = new Map<string, EdgeRecord>();
  for (const edge of merge.edges()) known.set(edge.key, edge);
  const edges: EdgeRecord[] = [];
  for (const [key, hops] of pairs) edges.push(known.get(key) ?? edgeOfHops(key, granularity, hops));

  return {
    traceId: path.traceId,
    found: true,
    nodes,
    edges,
    hops: path.hops.map((h) => ({
      src: h.src,
      dst: h.dst,
      operation: h.operation,
      kind: h.kind,
      startUnixNano: h.startUs * 1000,
      durationMs: h.durationUs / 1000,
      error: h.error,
      spanId: h.spanId,
      parentSpanId: h.parentSpanId,
    })),
    startMs: Math.floor(startMs),
    durationMs: path.durationUs / 1000,
    layerStatus: answers.map((a) => a.status),
  };
}

/** Hops from the trace's entry services (those no hop calls) to each node. */
function hopDistances(path: TracePathAnswer): Map<NodeId, number> {
  const called = new Set(path.hops.map((h) => h.dst));
  const distance = new Map<NodeId, number>();
  let frontier = path.nodes.filter((id) => !called.has(id));
  for (const id of frontier) distance.set(id, 0);
  for (let d = 1; frontier.length > 0; d++) {
    const next: NodeId[] = [];
    for (const hop of path.hops) {
      if (!frontier.includes(hop.src) || distance.has(hop.dst)) continue;
      distance.set(hop.dst, d);
      next.push(hop.dst);
    }
    frontier = next;
  }
  return distance;
}

function edgeOfHops(key: string, granularity: Granularity, hops: readonly TracePathHop[]): EdgeRecord {
  const first = hops[0] as TracePathHop;
  const durations = hops.map((h) => h.durationUs / 1000).sort((a, b) => a - b);
  const quantile = (q: number) => durations[Math.min(durations.length - 1, Math.floor(q * durations.length))] ?? 0;
  const request: RequestEdgeProps = {
    calls: hops.length,
    errors: hops.filter((h) => h.error).length,
    latencyP50Ms: quantile(0.5),
    latencyP99Ms: quantile(0.99),
    operations: [...new Set(hops.map((h) => h.operation))],
  };
  let firstSeenMs = Number.POSITIVE_INFINITY;
  let lastSeenMs = Number.NEGATIVE_INFINITY;
  for (const h of hops) {
    firstSeenMs = Math.min(firstSeenMs, h.startUs / 1000);
    lastSeenMs = Math.max(lastSeenMs, (h.startUs + h.durationUs) / 1000);
  }
  return {
    key: key as EdgeRecord['key'],
    src: first.src,
    dst: first.dst,
    granularity,
    layers: ['request'] as Layer[],
    props: { request },
    firstSeenMs: Math.floor(firstSeenMs),
    lastSeenMs: Math.ceil(lastSeenMs),
  };
}

function bareRecord(id: NodeId, firstSeenMs: number, lastSeenMs: number): NodeRecord {
  const { kind, name } = parseNodeId(id);
  return { id, kind, displayName: name, health: 'unknown', firstSeenMs: Math.floor(firstSeenMs), lastSeenMs: Math.ceil(lastSeenMs) };
}
