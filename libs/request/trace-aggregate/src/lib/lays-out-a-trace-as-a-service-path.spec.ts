import { TraceBuilder } from './testdata/span-builder';
import { tracePath } from './trace-path';

describe('a trace laid out as a service path', () => {
  const t = new TraceBuilder('ab'.repeat(16), undefined, 1_700_000_000_000_000);
  const root = t.span('web', 'server', { cluster: 'web-prod-v001', atUs: 0, durationUs: 10_000 });
  const toOrders = t.span('web', 'client', { parent: root, cluster: 'web-prod-v001', atUs: 1_000, durationUs: 6_000 });
  const orders = t.span('orders', 'server', { parent: toOrders, cluster: 'orders-prod-v002', atUs: 1_200, durationUs: 5_500, name: 'GET /orders', error: true });
  const toDb = t.span('orders', 'client', { parent: orders, cluster: 'orders-prod-v002', atUs: 1_500, durationUs: 3_000, name: 'SELECT', peer: t.directory.peer('ordersdb', 'service') });
  const spans = [toDb, orders, root, toOrders];

  it('gives the hops in start order with their timing, errors and span ids, at cluster granularity', () => {
    const path = tracePath(t.traceId, spans, 'cluster');
    expect(path.nodes).toEqual(['app:ordersdb', 'cluster:orders-prod-v002', 'cluster:web-prod-v001']);
    expect(path.hops).toEqual([
      { src: 'cluster:web-prod-v001', dst: 'cluster:orders-prod-v002', operation: 'GET /orders', kind: 'client', startUs: toOrders.startUs, durationUs: 6_000, error: true, spanId: orders.spanId, parentSpanId: toOrders.spanId },
      { src: 'cluster:orders-prod-v002', dst: 'app:ordersdb', operation: 'SELECT', kind: 'client', startUs: toDb.startUs, durationUs: 3_000, error: false, spanId: toDb.spanId, parentSpanId: orders.spanId },
    ]);
    expect([path.startUs, path.durationUs]).toEqual([root.startUs, 10_000]);
  });

  it('names app nodes at app granularity', () => {
    const path = tracePath(t.traceId, spans, 'app');
    expect(path.hops.map((h) => `${h.src} -> ${h.dst}`)).toEqual(['app:web -> app:orders', 'app:orders -> app:ordersdb']);
    expect(path.nodes).toEqual(['app:orders', 'app:ordersdb', 'app:web']);
  });
});
