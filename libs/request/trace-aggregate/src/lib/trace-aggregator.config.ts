/** Settings of the trace aggregator. Every default is here; `validateTraceAggregatorConfig` lists what cannot work. */
export interface TraceAggregatorConfig {
  /** Width of the edge time buckets, milliseconds (event time). */
  bucketMs: number;
  /** A trace is paired once no span of it has arrived for this long, milliseconds (processing time). */
  traceIdleMs: number;
  /** A trace still receiving spans is paired anyway after this long, and a new wait starts, milliseconds. */
  maxTraceLifeMs: number;
  /** Traces waiting at once; beyond it the least recently active is paired early. */
  maxTraces: number;
  /** Spans waiting at once, over all traces; beyond it the least recently active trace is paired early. */
  maxSpans: number;
  /** Spans one trace may hold; later ones are dropped (and counted). */
  maxSpansPerTrace: number;
  /** Totals of a bucket stay in memory this long after their last change, milliseconds (processing time); calls for it after that are dropped as late. */
  bucketIdleMs: number;
  /** Distinct operation names kept per edge and bucket; the rest count under `(other)`. */
  maxOperations: number;
}

export const DEFAULT_TRACE_AGGREGATOR_CONFIG: Readonly<TraceAggregatorConfig> = {
  bucketMs: 60_000,
  traceIdleMs: 5_000,
  maxTraceLifeMs: 60_000,
  maxTraces: 200_000,
  maxSpans: 2_000_000,
  maxSpansPerTrace: 20_000,
  bucketIdleMs: 10 * 60_000,
  maxOperations: 32,
};

export function validateTraceAggregatorConfig(c: TraceAggregatorConfig): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(DEFAULT_TRACE_AGGREGATOR_CONFIG) as (keyof TraceAggregatorConfig)[]) {
    const value = c[key];
    if (!Number.isSafeInteger(value) || value < 1) problems.push(`${key} must be a positive integer, got ${value}`);
  }
  if (c.maxTraceLifeMs < c.traceIdleMs) problems.push(`maxTraceLifeMs (${c.maxTraceLifeMs}) must be at least traceIdleMs (${c.traceIdleMs})`);
  if (c.maxSpansPerTrace > c.maxSpans) problems.push(`maxSpansPerTrace (${c.maxSpansPerTrace}) exceeds maxSpans (${c.maxSpans})`);
  if (c.bucketIdleMs < c.maxTraceLifeMs + c.traceIdleMs) {
    problems.push(`bucketIdleMs (${c.bucketIdleMs}) must cover maxTraceLifeMs + traceIdleMs (${c.maxTraceLifeMs + c.traceIdleMs}), or calls of a long trace would find their bucket gone`);
  }
  return problems;
}
