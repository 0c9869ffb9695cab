import { ManualClock } from '@topology/model';
import { TraceBuilder } from './testdata/span-builder';
import { TraceAggregator } from './trace-aggregator';
import { DEFAULT_TRACE_AGGREGATOR_CONFIG } from './trace-aggregator.config';

const MINUTE = 60_000;
const T0_US = 1_700_000_040_000_000; // a minute boundary
const CONFIG = { ...DEFAULT_TRACE_AGGREGATOR_CONFIG, traceIdleMs: 1_000, maxTraceLifeMs: 5_000, bucketIdleMs: 10_000 };
const P0 = 'w/otlp_spans/0';
const P1 = 'w/otlp_spans/1';

/** A client span in web and its server span in orders, `minute` minutes after T0. */
function call(n: number, minute: number) {
  const t = new TraceBuilder(n.toString(16).padStart(32, '0'), undefined, T0_US);
  const client = t.span('web', 'client', { atUs: minute * MINUTE * 1000, cluster: 'web-prod-v001' });
  const server = t.span('orders', 'server', { parent: client, atUs: minute * MINUTE * 1000 + 100, cluster: 'orders-prod-v007' });
  return { client, server };
}

describe('the aggregator says from where a source must be read again to rebuild its memory', () => {
  it('holds the first position of a waiting trace, then of the bucket it was counted in, until that bucket leaves memory', () => {
    const clock = new ManualClock(0);
    const aggregator = new TraceAggregator(CONFIG, clock);
    const a = call(1, 0);
    const b = call(2, 1);
    aggregator.accept([a.client], P0, 10);
    aggregator.accept([b.client], P0, 11);
    aggregator.accept([a.server, b.server], P0, 12);
    expect(aggregator.oldestHeldPosition(P0)).toBe(10);

    clock.advance(1_000);
    aggregator.flush();
    expect(aggregator.waitingSpans).toBe(0);
    // Both traces were counted; their buckets are rewritten whole at each change, so both stay needed.
    expect(aggregator.oldestHeldPosition(P0)).toBe(10);

    clock.advance(5_000);
    const c = call(3, 1);
    aggregator.accept([c.client], P0, 13);
    aggregator.accept([c.server], P0, 14);
    clock.advance(1_000);
    aggregator.flush();
    expect(aggregator.oldestHeldPosition(P0)).toBe(10);

    // The first minute's bucket goes idle and leaves memory; the second changed later and stays.
    clock.advance(CONFIG.bucketIdleMs - 1_000);
    aggregator.flush();
    expect(aggregator.oldestHeldPosition(P0)).toBe(11);
    clock.advance(5_000);
    aggregator.flush();
    expect(aggregator.oldestHeldPosition(P0)).toBeUndefined();
    expect(aggregator.oldestHeldPosition(P1)).toBeUndefined();
  });

  it('holds every source a trace was read from', () => {
    const clock = new ManualClock(0);
    const aggregator = new TraceAggregator(CONFIG, clock);
    const a = call(1, 0);
    aggregator.accept([a.client], P0, 5);
    aggregator.accept([a.server], P1, 40);
    expect([aggregator.oldestHeldPosition(P0), aggregator.oldestHeldPosition(P1)]).toEqual([5, 40]);
    clock.advance(1_000);
    const rows = aggregator.flush().buckets;
    expect(rows.map((r) => r.scope)).toEqual([P0, P0]);
    expect([aggregator.oldestHeldPosition(P0), aggregator.oldestHeldPosition(P1)]).toEqual([5, 40]);
  });

  it('holds nothing when given no positions', () => {
    const clock = new ManualClock(0);
    const aggregator = new TraceAggregator(CONFIG, clock);
    const a = call(1, 0);
    aggregator.accept([a.client, a.server], P0);
    clock.advance(1_000);
    expect(aggregator.flush().buckets).toHaveLength(2);
    expect(aggregator.oldestHeldPosition(P0)).toBeUndefined();
  });

  it('resumes a scope knowing the buckets already written whole, so a re-read part of them is dropped, not written', () => {
    const clock = new ManualClock(0);
    const first = new TraceAggregator(CONFIG, clock);
    for (const [n, minute] of [
      [1, 0],
      [2, 2],
      [3, 3],
      [4, 5],
    ] as const) {
      const c = call(n, minute);
      first.accept([c.client, c.server], P0, n);
    }
    expect(first.resumeState(P0)).toBe('');
    clock.advance(1_000);
    first.flush();
    clock.advance(CONFIG.bucketIdleMs);
    first.flush();
    const state = first.resumeState(P0);
    const index = (minute: number) => ((T0_US / 1000 + minute * MINUTE) / MINUTE).toString(36);
    expect(state).toBe(`b${MINUTE.toString(36)}:${index(0)},${index(2)}-${index(3)},${index(5)}`);
    expect(first.resumeState(P1)).toBe('');

    const second = new TraceAggregator(CONFIG, clock);
    expect(second.resumeScope(P0, state)).toBe(true);
    const again = call(2, 2);
    const fresh = call(5, 4);
    second.accept([again.client, again.server, fresh.client, fresh.server], P0, 2);
    clock.advance(1_000);
    const rows = second.flush().buckets;
    expect(rows.map((r) => [r.granularity, (r.bucketStartMs - T0_US / 1000) / MINUTE, r.calls])).toEqual([
      ['cluster', 4, 1],
      ['app', 4, 1],
    ]);
    expect(second.counters.get('calls_late')).toBe(1);
    expect(second.resumeState(P0)).toBe(state);
  });

  it('refuses a resume state made for another bucket width, or unreadable', () => {
    const aggregator = new TraceAggregator(CONFIG, new ManualClock(0));
    expect(aggregator.resumeScope(P0, `b${(2 * MINUTE).toString(36)}:1-2`)).toBe(false);
    expect(aggregator.resumeScope(P0, 'v9 something')).toBe(false);
    expect(aggregator.resumeScope(P0, `b${MINUTE.toString(36)}:5-2`)).toBe(false);
    expect(aggregator.resumeScope(P0, '')).toBe(true);
    expect(aggregator.resumeState(P0)).toBe('');
  });

  it('keeps the newest runs when the state would be too long for Kafka commit metadata', () => {
    const clock = new ManualClock(0);
    const aggregator = new TraceAggregator(CONFIG, clock);
    // Every other minute: one run per bucket.
    for (let n = 0; n < 800; n++) {
      const c = call(n + 1, 2 * n);
      aggregator.accept([c.client, c.server], P0, n);
    }
    clock.advance(1_000);
    aggregator.flush();
    clock.advance(CONFIG.bucketIdleMs);
    aggregator.flush();
    const state = aggregator.resumeState(P0);
    expect(state.length).toBeLessThanOrEqual(3_000);
    expect(state.endsWith(((T0_US / 1000 + 1_598 * MINUTE) / MINUTE).toString(36))).toBe(true);
    expect(state.includes(`:${(T0_US / 1000 / MINUTE).toString(36)},`)).toBe(false);
  });

  it('drops what it held of a source that moved to another instance: its waiting traces and its totals', () => {
    const clock = new ManualClock(0);
    const aggregator = new TraceAggregator(CONFIG, clock);
    const mine = call(1, 0);
    const moved = call(2, 0);
    aggregator.accept([mine.client, mine.server], P0, 1);
    aggregator.accept([moved.client, moved.server], P1, 1);
    clock.advance(1_000);
    expect(aggregator.flush().buckets.map((r) => r.scope)).toEqual([P0, P0, P1, P1]);
    aggregator.accept([call(3, 0).client], P1, 2);
    aggregator.accept([call(4, 0).client, call(4, 0).server], P0, 2);

    aggregator.forgetScope(P1);
    expect(aggregator.counters.get('traces_moved')).toBe(1);
    expect(aggregator.waitingSpans).toBe(2);
    expect(aggregator.oldestHeldPosition(P1)).toBeUndefined();
    expect(aggregator.oldestHeldPosition(P0)).toBe(1);
    clock.advance(1_000);
    expect(aggregator.flush().buckets.map((r) => [r.scope, r.granularity, r.calls])).toEqual([
      [P0, 'cluster', 2],
      [P0, 'app', 2],
    ]);

    // Should the source come back, it is read again from its checkpoint: nothing of before is added to.
    aggregator.accept([call(5, 0).client, call(5, 0).server], P1, 7);
    clock.advance(1_000);
    expect(aggregator.flush().buckets.map((r) => [r.scope, r.calls])).toEqual([
      [P1, 1],
      [P1, 1],
    ]);
  });
});
