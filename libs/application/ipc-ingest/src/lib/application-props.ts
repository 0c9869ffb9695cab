import type { ApplicationEdgeProps, BucketMerger, EndpointStats, LatencyHistogram } from '@topology/model';
import { mergeHistograms, quantileMs } from './latency-histogram';

/**
 * The application layer's bucket payload is `ApplicationEdgeProps` whose endpoints keep their
 * latency histograms (`EndpointStats.latency`): percentiles are derived from the histogram after
 * every fold, never averaged, so a percentile over any time range is exact to the bucket.
 */

function endpointKey(e: EndpointStats): string {
  return `${e.protocol} ${e.endpoint}`;
}

function addCounts(into: Record<string, number>, from: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = { ...into };
  for (const [status, n] of Object.entries(from)) out[status] = (out[status] ?? 0) + n;
  return out;
}

/** Sets the percentiles of an endpoint from its histogram (removes them when it has none). */
export function withPercentiles(e: EndpointStats): EndpointStats {
  const out: EndpointStats = {
    endpoint: e.endpoint,
    protocol: e.protocol,
    calls: e.calls,
    errors: e.errors,
    errorsByStatus: e.errorsByStatus,
  };
  if (e.latency !== undefined) {
    const p50 = quantileMs(e.latency, 0.5);
    const p90 = quantileMs(e.latency, 0.9);
    const p99 = quantileMs(e.latency, 0.99);
    if (p50 !== undefined) out.latencyP50Ms = roundMs(p50);
    if (p90 !== undefined) out.latencyP90Ms = roundMs(p90);
    if (p99 !== undefined) out.latencyP99Ms = roundMs(p99);
  }
  if (e.serverReportedOnly) out.serverReportedOnly = true;
  if (e.latency !== undefined) out.latency = e.latency;
  return out;
}

/** Microsecond precision: enough for any bucket scheme, and stable across folds. */
function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function mergeEndpoint(a: EndpointStats, b: EndpointStats): EndpointStats {
  let latency: LatencyHistogram | undefined;
  if (a.latency && b.latency) latency = mergeHistograms(a.latency, b.latency);
  else latency = a.latency ?? b.latency;
  return withPercentiles({
    endpoint: a.endpoint,
    protocol: a.protocol,
    calls: a.calls + b.calls,
    errors: a.errors + b.errors,
    errorsByStatus: addCounts(a.errorsByStatus, b.errorsByStatus),
    // Only calls no client reported in any bucket of the fold are "server reported only".
    serverReportedOnly: a.serverReportedOnly === true && b.serverReportedOnly === true,
    ...(latency ? { latency } : {}),
  });
}

/** Busiest endpoints first, then by protocol and name, so equal payloads serialise equally. */
export function compareEndpoints(x: EndpointStats, y: EndpointStats): number {
  return y.calls - x.calls || (x.protocol < y.protocol ? -1 : x.protocol > y.protocol ? 1 : 0) || (x.endpoint < y.endpoint ? -1 : x.endpoint > y.endpoint ? 1 : 0);
}

/** Fold two payloads of one edge: calls and errors add, endpoints match by protocol and name. */
export function mergeApplicationProps(a: ApplicationEdgeProps, b: ApplicationEdgeProps): ApplicationEdgeProps {
  const byKey = new Map<string, EndpointStats>();
  for (const e of a.endpoints) byKey.set(endpointKey(e), e);
  for (const e of b.endpoints) {
    const key = endpointKey(e);
    const known = byKey.get(key);
    byKey.set(key, known === undefined ? e : mergeEndpoint(known, e));
  }
  const merged: ApplicationEdgeProps = { calls: a.calls + b.calls, errors: a.errors + b.errors, endpoints: [...byKey.values()].sort(compareEndpoints) };
  if (a.serverReported === true || b.serverReported === true) merged.serverReported = true;
  return merged;
}

export function emptyApplicationProps(): ApplicationEdgeProps {
  return { calls: 0, errors: 0, endpoints: [] };
}

export const applicationBucketMerger: BucketMerger<ApplicationEdgeProps> = {
  layer: 'application',
  merge: mergeApplicationProps,
  // IPC metrics name the app that served a call: there are no raw hops at this layer.
  isHop: () => false,
};
