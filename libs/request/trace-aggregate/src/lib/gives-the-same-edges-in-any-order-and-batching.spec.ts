import { ManualClock } from '@topology/model';
import { RequestEdgeBucket } from './request-layer';
import { ProcessDirectory, TraceSpan } from './span';
import { SpanDecoder } from './span-decoder';
import { batches, shuffled, TraceBuilder } from './testdata/span-builder';
import { readRealdata } from './testdata/realdata';
import { TraceAggregator } from './trace-aggregator';
import { DEFAULT_TRACE_AGGREGATOR_CONFIG } from './trace-aggregator.config';

const CONFIG = { ...DEFAULT_TRACE_AGGREGATOR_CONFIG, traceIdleMs: 30_000 };

/** What a store holds after the rows: the latest row per identity, summed over scopes. */
function stored(rows: RequestEdgeBucket[]): Map<string, Omit<RequestEdgeBucket, 'scope' | 'version'>> {
  const latest = new Map<string, RequestEdgeBucket>();
  for (const row of rows) {
    const id = `${row.granularity} ${row.src} ${row.dst} ${row.bucketStartMs} ${row.scope}`;
    const known = latest.get(id);
    if (known === undefined || known.version < row.version) latest.set(id, row);
  }
  const summed = new Map<string, Omit<RequestEdgeBucket, 'scope' | 'version'>>();
  for (const { scope: _scope, version: _version, ...row } of latest.values()) {
    const id = `${row.granularity} ${row.src} ${row.dst} ${row.bucketStartMs}`;
    const known = summed.get(id);
    if (known === undefined) summed.set(id, { ...row, latencyCounts: [...row.latencyCounts], operations: { ...row.operations } });
    else {
      known.calls += row.calls;
      known.errors += row.errors;
      known.latencySumUs += row.latencySumUs;
      row.latencyCounts.forEach((c, i) => (known.latencyCounts[i] = (known.latencyCounts[i] ?? 0) + c));
      for (const [name, calls] of Object.entries(row.operations)) known.operations[name] = (known.operations[name] ?? 0) + calls;
      known.firstSeenMs = Math.min(known.firstSeenMs, row.firstSeenMs);
      known.lastSeenMs = Math.max(known.lastSeenMs, row.lastSeenMs);
    }
  }
  return summed;
}

function inOneBatch(spans: TraceSpan[]): ReturnType<typeof stored> {
  const aggregator = new TraceAggregator(CONFIG, new ManualClock(0));
  aggregator.accept(spans, 'scope');
  return stored(aggregator.settle().buckets);
}

/**
 * Batches arrive 0–0.5 s apart, all within one wait (`traceIdleMs`, and `maxTraceLifeMs` in all);
 * flushes run between them, as the runtime does.
 */
function inShuffledBatches(spans: TraceSpan[], seed: number): ReturnType<typeof stored> {
  const clock = new ManualClock(0);
  const aggregator = new TraceAggregator(CONFIG, clock);
  const rows: RequestEdgeBucket[] = [];
  let i = 0;
  for (const batch of batches(shuffled(spans, seed), 37, seed)) {
    aggregator.accept(batch, 'scope');
    clock.advance((i++ * 7919) % 500);
    rows.push(...aggregator.flush().buckets);
  }
  clock.advance(CONFIG.traceIdleMs);
  rows.push(...aggregator.flush().buckets);
  expect(aggregator.waitingSpans).toBe(0);
  return stored(rows);
}

/** A few hundred traces of a small fleet: fan-out, messaging, virtual peers, errors. */
function syntheticTraces(count: number): TraceSpan[] {
  const directory = new ProcessDirectory();
  const spans: TraceSpan[] = [];
  for (let n = 0; n < count; n++) {
    const t = new TraceBuilder(n.toString(16).padStart(32, '0'), directory, 1_700_000_000_000_000 + n * 997_000);
    const root = t.span('web', 'server', { cluster: 'web-prod-v001' });
    const toOrders = t.span('web', 'client', { parent: root, atUs: 10, durationUs: 500 + (n % 7) * 100, cluster: 'web-prod-v001' });
    const orders = t.span('orders', 'server', { parent: toOrders, atUs: 20, name: n % 3 === 0 ? 'GET /orders' : 'POST /orders', cluster: n % 4 === 0 ? 'orders-prod-canary-v002' : 'orders-prod-v001' });
    const toDb = t.span('orders', 'client', { parent: orders, atUs: 30, peer: directory.peer('ordersdb', 'service'), cluster: orders.process.cluster, error: n % 11 === 0 });
    const publish = t.span('orders', 'producer', { parent: orders, atUs: 40, cluster: orders.process.cluster });
    const consume = t.span('mailer', 'consumer', { parent: publish, atUs: 900 });
    spans.push(root, toOrders, orders, toDb, publish, consume);
    if (n % 5 === 0) spans.push(t.span('mailer', 'client', { parent: consume, atUs: 950, peer: directory.peer('smtp.example', 'address') }));
  }
  return spans;
}

describe('pairing does not depend on the order or batching of spans', () => {
  const smartthings = new SpanDecoder().zipkinJson(readRealdata('zipkin/smartthings-mobile-web-install.json')).spans;
  const synthetic = syntheticTraces(300);

  it.each([1, 2, 3, 4, 5])('the SmartThings trace shuffled and split over many batches gives the same totals (seed %i)', (seed) => {
    const reference = inOneBatch(smartthings);
    expect(reference.size).toBeGreaterThan(50);
    expect(inShuffledBatches(smartthings, seed)).toEqual(reference);
  });

  it.each([11, 12, 13])('300 traces of a small fleet, shuffled together and split, give the same totals (seed %i)', (seed) => {
    const reference = inOneBatch(synthetic);
    const app = [...reference.values()].filter((r) => r.granularity === 'app').map((r) => `${r.src} -> ${r.dst}`);
    expect(new Set(app)).toEqual(new Set(['app:web -> app:orders', 'app:orders -> app:ordersdb', 'app:orders -> app:mailer', 'app:mailer -> external:smtp.example']));
    expect(inShuffledBatches(synthetic, seed)).toEqual(reference);
  });

  it('pairs duplicates delivered again (a replay) the same as once', () => {
    const reference = inOneBatch(synthetic);
    expect(inShuffledBatches([...synthetic, ...synthetic.slice(0, 400)], 21)).toEqual(reference);
  });
});
