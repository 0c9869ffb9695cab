import { ManualClock } from '@topology/model';
import { TraceBuilder } from './testdata/span-builder';
import { TraceAggregator } from './trace-aggregator';
import { DEFAULT_TRACE_AGGREGATOR_CONFIG, TraceAggregatorConfig, validateTraceAggregatorConfig } from './trace-aggregator.config';
import { PendingTrace, TraceWaitStore } from './trace-wait-store';

const LIMITS = { traceIdleMs: 1_000, maxTraceLifeMs: 10_000, maxTraces: 3, maxSpans: 8, maxSpansPerTrace: 4 };

function trace(n: number) {
  return new TraceBuilder(n.toString(16).padStart(32, '0'));
}

describe('the wait store of spans', () => {
  it('closes a trace once no span of it arrived for traceIdleMs, and keeps a busy one', () => {
    const store = new TraceWaitStore(LIMITS);
    const closed: PendingTrace[] = [];
    const quiet = trace(1);
    const busy = trace(2);
    store.add(quiet.span('a', 'client'), 's', 0, closed);
    store.add(busy.span('b', 'client'), 's', 0, closed);
    store.add(busy.span('c', 'server'), 's', 600, closed);

    store.expire(999, closed);
    expect(closed).toEqual([]);
    store.expire(1_000, closed);
    expect(closed.map((t) => [t.traceId, t.closeReason, t.spans.length])).toEqual([[quiet.traceId, 'idle', 1]]);
    store.expire(1_599, closed);
    expect(closed).toHaveLength(1);
    store.expire(1_600, closed);
    expect(closed.map((t) => t.traceId)).toEqual([quiet.traceId, busy.traceId]);
    expect([store.size, store.spans]).toEqual([0, 0]);
  });

  it('pairs the least recently active trace early when the store holds maxTraces traces or maxSpans spans', () => {
    const store = new TraceWaitStore(LIMITS);
    const closed: PendingTrace[] = [];
    const [t1, t2, t3, t4] = [trace(1), trace(2), trace(3), trace(4)];
    store.add(t1.span('a', 'client'), 's', 0, closed);
    store.add(t2.span('a', 'client'), 's', 1, closed);
    store.add(t3.span('a', 'client'), 's', 2, closed);
    store.add(t1.span('b', 'server'), 's', 3, closed); // t1 is now the most recently active
    store.add(t4.span('a', 'client'), 's', 4, closed);
    expect(closed.map((t) => [t.traceId, t.closeReason])).toEqual([[t2.traceId, 'evicted']]);

    for (let i = 0; i < 3; i++) store.add(t4.span('x', 'internal'), 's', 5, closed);
    expect(store.spans).toBe(7);
    store.add(t1.span('c', 'internal'), 's', 6, closed);
    expect(store.spans).toBe(8);
    store.add(t1.span('d', 'internal'), 's', 7, closed);
    // At maxSpans the least recently active other trace (t3) made room.
    expect(closed.map((t) => t.traceId)).toEqual([t2.traceId, t3.traceId]);
  });

  it('drops spans beyond maxSpansPerTrace, and cuts a trace that keeps receiving spans at maxTraceLifeMs', () => {
    const store = new TraceWaitStore(LIMITS);
    const closed: PendingTrace[] = [];
    const t = trace(9);
    const results = [0, 1, 2, 3, 4].map((i) => store.add(t.span('a', 'internal'), 's', i * 900, closed));
    expect(results).toEqual([true, true, true, true, false]);

    store.add(t.span('a', 'internal'), 's', 10_000, closed);
    expect(closed.map((c) => [c.closeReason, c.spans.length])).toEqual([['life', 4]]);
    expect(store.spans).toBe(1);
  });

  it('closes everything on settle', () => {
    const store = new TraceWaitStore(LIMITS);
    const closed: PendingTrace[] = [];
    store.add(trace(1).span('a', 'client'), 's', 0, closed);
    store.add(trace(2).span('a', 'client'), 's', 0, closed);
    store.settle(closed);
    expect(closed.map((t) => t.closeReason)).toEqual(['settled', 'settled']);
  });
});

describe('the trace aggregator counts what the wait does', () => {
  it('counts dropped spans, traces paired by reason, orphans and unpaired clients', () => {
    const config: TraceAggregatorConfig = { ...DEFAULT_TRACE_AGGREGATOR_CONFIG, traceIdleMs: 1_000, maxTraceLifeMs: 10_000, maxSpansPerTrace: 3, maxTraces: 2 };
    const clock = new ManualClock(0);
    const aggregator = new TraceAggregator(config, clock);
    const t1 = trace(1);
    const client = t1.span('web', 'client');
    aggregator.accept([client, t1.span('orders', 'server', { parent: client }), t1.span('orders', 'internal', { parent: '00000000000000ff' }), t1.span('orders', 'internal')], 's');
    aggregator.accept([trace(2).span('web', 'client')], 's');
    aggregator.accept([trace(3).span('web', 'client')], 's');
    clock.advance(1_000);
    aggregator.flush();

    const c = aggregator.counters;
    expect(c.get('spans_received')).toBe(5);
    expect(c.get('spans_dropped')).toBe(1);
    expect(c.get('traces_paired', 'evicted')).toBe(1);
    expect(c.get('traces_paired', 'idle')).toBe(2);
    expect(c.get('calls_paired')).toBe(1);
    expect(c.get('spans_orphaned')).toBe(1);
    expect(c.get('spans_unpaired')).toBe(2);
    expect(aggregator.waitingSpans).toBe(0);
  });

  it('refuses settings that cannot work, all at once', () => {
    expect(validateTraceAggregatorConfig({ ...DEFAULT_TRACE_AGGREGATOR_CONFIG, bucketMs: 0, maxTraceLifeMs: 100, traceIdleMs: 200 })).toEqual([
      'bucketMs must be a positive integer, got 0',
      'maxTraceLifeMs (100) must be at least traceIdleMs (200)',
    ]);
    expect(() => new TraceAggregator({ ...DEFAULT_TRACE_AGGREGATOR_CONFIG, maxSpansPerTrace: 10, maxSpans: 5 }, new ManualClock())).toThrow('maxSpansPerTrace (10) exceeds maxSpans (5)');
  });
});
