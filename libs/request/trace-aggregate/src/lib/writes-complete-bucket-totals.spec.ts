import { ManualClock } from '@topology/model';
import { LATENCY_BOUNDS_MS, latencyBucketOf, latencyQuantileMs } from './latency-histogram';
import { addToFold, emptyRequestEdgeFold, requestEdgeProps } from './request-layer';
import { TraceBuilder } from './testdata/span-builder';
import { TraceAggregator } from './trace-aggregator';
import { DEFAULT_TRACE_AGGREGATOR_CONFIG } from './trace-aggregator.config';

const MINUTE = 60_000;
const T0_US = 1_700_000_040_000_000; // 2023-11-14T22:14:00Z, a minute boundary
const CONFIG = { ...DEFAULT_TRACE_AGGREGATOR_CONFIG, traceIdleMs: 1_000, maxTraceLifeMs: 5_000, bucketIdleMs: 10_000, maxOperations: 2 };

function call(n: number, atUs: number, options: { durationUs?: number; error?: boolean; operation?: string } = {}) {
  const t = new TraceBuilder(n.toString(16).padStart(32, '0'), undefined, T0_US);
  const client = t.span('web', 'client', { atUs, durationUs: options.durationUs ?? 2_000, cluster: 'web-prod-v001' });
  const server = t.span('orders', 'server', { parent: client, atUs: atUs + 100, name: options.operation ?? 'GET /orders', error: options.error ?? false, cluster: 'orders-prod-v007' });
  return [client, server];
}

describe('the aggregator writes complete totals per edge and bucket', () => {
  it('rewrites a bucket with its whole total and a higher version, at both granularities', () => {
    const clock = new ManualClock(0);
    const aggregator = new TraceAggregator(CONFIG, clock);
    aggregator.accept([...call(1, 0), ...call(2, 1_000_000, { error: true })], 'w/otlp_spans/0');
    clock.advance(1_000);
    const first = aggregator.flush().buckets;
    aggregator.accept(call(3, 2_000_000, { durationUs: 40_000 }), 'w/otlp_spans/0');
    clock.advance(1_000);
    const second = aggregator.flush().buckets;

    expect(first.map((r) => [r.granularity, r.src, r.dst, r.calls, r.errors])).toEqual([
      ['cluster', 'cluster:web-prod-v001', 'cluster:orders-prod-v007', 2, 1],
      ['app', 'app:web', 'app:orders', 2, 1],
    ]);
    expect(second.map((r) => [r.granularity, r.calls, r.errors, r.latencySumUs])).toEqual([
      ['cluster', 3, 1, 44_000],
      ['app', 3, 1, 44_000],
    ]);
    const [row] = second;
    expect(row?.bucketStartMs).toBe(T0_US / 1000);
    expect(row?.version).toBeGreaterThan(first[0]?.version ?? Infinity);
    expect(row?.latencyCounts[latencyBucketOf(2)]).toBe(2);
    expect(row?.latencyCounts[latencyBucketOf(40)]).toBe(1);
    expect(row?.operations).toEqual({ 'GET /orders': 3 });
    expect([row?.firstSeenMs, row?.lastSeenMs]).toEqual([T0_US / 1000, T0_US / 1000 + 2_000 + 40]);
    expect(aggregator.flush().buckets).toEqual([]);
  });

  it('keeps buckets, and sources (scopes), apart', () => {
    const clock = new ManualClock(0);
    const aggregator = new TraceAggregator(CONFIG, clock);
    aggregator.accept([...call(1, 0), ...call(2, 61_000_000)], 'w/otlp_spans/0');
    aggregator.accept(call(3, 0), 'w/spans.zipkin.v1/0');
    clock.advance(1_000);
    const rows = aggregator.flush().buckets.filter((r) => r.granularity === 'app');
    expect(rows.map((r) => [r.scope, r.bucketStartMs - T0_US / 1000, r.calls])).toEqual([
      ['w/otlp_spans/0', 0, 1],
      ['w/otlp_spans/0', MINUTE, 1],
      ['w/spans.zipkin.v1/0', 0, 1],
    ]);
  });

  it('drops calls for a bucket that was written and left memory, instead of overwriting its total with a part', () => {
    const clock = new ManualClock(0);
    const aggregator = new TraceAggregator(CONFIG, clock);
    aggregator.accept(call(1, 0), 's');
    clock.advance(1_000);
    expect(aggregator.flush().buckets).toHaveLength(2);
    clock.advance(CONFIG.bucketIdleMs);
    aggregator.flush();
    aggregator.accept([...call(2, 5_000_000), ...call(3, 70_000_000)], 's');
    clock.advance(1_000);
    const rows = aggregator.flush().buckets;
    expect(rows.map((r) => [r.bucketStartMs - T0_US / 1000, r.calls])).toEqual([
      [MINUTE, 1],
      [MINUTE, 1],
    ]);
    expect(aggregator.counters.get('calls_late')).toBe(1);
  });

  it('reports the nodes seen, the peers called and every span received', () => {
    const clock = new ManualClock(0);
    const aggregator = new TraceAggregator(CONFIG, clock);
    const t = new TraceBuilder('f'.repeat(32), undefined, T0_US);
    const root = t.span('web', 'server', { cluster: 'web-prod-v001' });
    const toDb = t.span('web', 'client', { parent: root, atUs: 500, cluster: 'web-prod-v001', peer: t.directory.peer('pg.internal', 'address') });
    aggregator.accept([root, toDb], 's');
    clock.advance(1_000);
    const { nodes, spans } = aggregator.flush();
    expect(spans).toEqual([root, toDb]);
    expect(nodes).toEqual([
      { id: 'app:web', kind: 'app', granularity: 'app', displayName: 'web', app: 'web', firstSeenMs: T0_US / 1000, lastSeenMs: T0_US / 1000 + 1 },
      { id: 'cluster:web-prod-v001', kind: 'cluster', granularity: 'cluster', displayName: 'web-prod-v001', app: 'web', cluster: 'web-prod-v001', firstSeenMs: T0_US / 1000, lastSeenMs: T0_US / 1000 + 1 },
      { id: 'external:pg.internal', kind: 'external', displayName: 'pg.internal', firstSeenMs: T0_US / 1000, lastSeenMs: T0_US / 1000 + 1 },
    ]);
  });

  it('keeps maxOperations names per row and counts the rest as (other); the API shows names by calls', () => {
    const clock = new ManualClock(0);
    const aggregator = new TraceAggregator(CONFIG, clock);
    aggregator.accept(
      ['a', 'b', 'b', 'c', 'd'].flatMap((operation, i) => call(i + 1, i * 1_000, { operation })),
      's',
    );
    clock.advance(1_000);
    const [row] = aggregator.flush().buckets;
    expect(row?.operations).toEqual({ a: 1, b: 2, '(other)': 2 });
    const fold = emptyRequestEdgeFold();
    if (row) addToFold(fold, row);
    expect(requestEdgeProps(fold).operations).toEqual(['b', 'a']);
  });
});

describe('latency histograms', () => {
  it('add up and give percentiles within the bucket a duration fell in', () => {
    const counts = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
    for (let i = 0; i < 98; i++) counts[latencyBucketOf(4)]++;
    counts[latencyBucketOf(400)]++;
    counts[latencyBucketOf(120_000)]++;
    const p50 = latencyQuantileMs(counts, 0.5) ?? NaN;
    expect(p50).toBeGreaterThan(3);
    expect(p50).toBeLessThanOrEqual(5);
    expect(latencyQuantileMs(counts, 0.99)).toBeGreaterThan(300);
    expect(latencyQuantileMs(counts, 0.99)).toBeLessThanOrEqual(500);
    expect(latencyQuantileMs(counts, 1)).toBe(60_000);
    expect(latencyQuantileMs(new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0), 0.5)).toBeUndefined();
  });
});
