import { Granularity } from '@topology/model';
import { QueryError } from './query-error';
import { app, edge, id, netEdge, T0 } from './testing/fixtures';
import { InMemoryLayerReader } from './testing/in-memory-layer-reader';
import { TopologyQueryService } from './topology-query-service';
import { TracePathAnswer, TracePathReader } from './trace-overlay';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const START_US = (T0 + 1_000) * 1000;

/** A span index holding one trace: web → orders → ordersdb (an uninstrumented peer). */
class OneTraceIndex implements TracePathReader {
  readonly asked: [string, Granularity][] = [];
  constructor(private readonly failure?: Error) {}
  async tracePath(traceId: string, granularity: Granularity): Promise<TracePathAnswer | undefined> {
    this.asked.push([traceId, granularity]);
    if (this.failure) throw this.failure;
    if (traceId !== TRACE) return undefined;
    return {
      traceId,
      nodes: [id('orders'), id('ordersdb'), id('web')],
      hops: [
        { src: id('web'), dst: id('orders'), operation: 'GET /orders', kind: 'client', startUs: START_US, durationUs: 8_000, error: false, spanId: 'b7ad6b7169203331', parentSpanId: '00f067aa0ba902b7' },
        { src: id('orders'), dst: id('ordersdb'), operation: 'SELECT', kind: 'client', startUs: START_US + 1_000, durationUs: 3_000, error: true, spanId: 'c7ad6b7169203331', parentSpanId: 'b7ad6b7169203331' },
      ],
      startUs: START_US,
      durationUs: 9_000,
    };
  }
}

function service(traces?: TracePathReader): TopologyQueryService {
  const network = new InMemoryLayerReader(
    'network',
    [app('web', { owner: 'team-web', tier: 'tier-1' }), app('orders', { owner: 'team-orders' }), app('ordersdb'), app('unrelated')],
    [netEdge(id('web'), id('orders')), netEdge(id('orders'), id('ordersdb')), netEdge(id('web'), id('unrelated'))],
  );
  const request = new InMemoryLayerReader(
    'request',
    [app('web'), app('orders')],
    [edge('request', id('web'), id('orders'), { request: { calls: 120, errors: 3, latencyP50Ms: 7, latencyP99Ms: 30, operations: ['GET /orders'] } })],
  );
  return new TopologyQueryService(
    [
      { layer: 'network', reader: network },
      { layer: 'request', reader: request },
    ],
    {},
    traces === undefined ? {} : { traces },
  );
}

describe('a trace laid over the topology', () => {
  it('gives the hops with timing and errors, the nodes with their context, and the edges with each layer’s properties', async () => {
    const index = new OneTraceIndex();
    const overlay = await service(index).traceOverlay({ traceId: TRACE.toUpperCase(), granularity: 'app' });

    expect(index.asked).toEqual([[TRACE, 'app']]);
    expect(overlay).toMatchObject({ traceId: TRACE, found: true, startMs: T0 + 1_000, durationMs: 9 });
    expect(overlay.hops).toEqual([
      { src: 'app:web', dst: 'app:orders', operation: 'GET /orders', kind: 'client', startUnixNano: START_US * 1000, durationMs: 8, error: false, spanId: 'b7ad6b7169203331', parentSpanId: '00f067aa0ba902b7' },
      { src: 'app:orders', dst: 'app:ordersdb', operation: 'SELECT', kind: 'client', startUnixNano: (START_US + 1_000) * 1000, durationMs: 3, error: true, spanId: 'c7ad6b7169203331', parentSpanId: 'b7ad6b7169203331' },
    ]);
    expect(overlay.nodes.map((n) => [n.id, n.distance, n.owner ?? '', n.layers])).toEqual([
      ['app:web', 0, 'team-web', ['network', 'request']],
      ['app:orders', 1, 'team-orders', ['network', 'request']],
      ['app:ordersdb', 2, '', ['network']],
    ]);
    const [toOrders, toDb] = overlay.edges;
    // Seen by both layers: one edge with both property sets.
    expect(toOrders).toMatchObject({ src: 'app:web', dst: 'app:orders', layers: ['network', 'request'], props: { request: { calls: 120 } } });
    expect(toOrders?.props.network?.bytesSent).toBe(1000);
    // Known to the network layer alone: its record as it is.
    expect(toDb).toMatchObject({ src: 'app:orders', dst: 'app:ordersdb', layers: ['network'] });
    // Only the edges the trace crosses.
    expect(overlay.edges).toHaveLength(2);
    expect(overlay.layerStatus.map((s) => [s.layer, s.state])).toEqual([
      ['network', 'ok'],
      ['request', 'ok'],
    ]);
  });

  it('makes an edge of the trace’s own hops where no layer knows the pair', async () => {
    const lonely = new TopologyQueryService([{ layer: 'request', reader: new InMemoryLayerReader('request', [], []) }], {}, { traces: new OneTraceIndex() });
    const overlay = await lonely.traceOverlay({ traceId: TRACE });
    expect(overlay.edges.map((e) => [e.src, e.dst, e.layers, e.props.request?.calls, e.props.request?.errors, e.props.request?.operations])).toEqual([
      ['app:web', 'app:orders', ['request'], 1, 0, ['GET /orders']],
      ['app:orders', 'app:ordersdb', ['request'], 1, 1, ['SELECT']],
    ]);
    expect(overlay.nodes.map((n) => [n.id, n.kind, n.layers])).toEqual([
      ['app:web', 'app', []],
      ['app:orders', 'app', []],
      ['app:ordersdb', 'app', []],
    ]);
  });

  it('answers a trace the index does not hold as not found, not as an error', async () => {
    const overlay = await service(new OneTraceIndex()).traceOverlay({ traceId: 'ffffffffffffffff' });
    expect(overlay).toEqual({ traceId: 'ffffffffffffffff', found: false, nodes: [], edges: [], hops: [], startMs: 0, durationMs: 0, layerStatus: [] });
  });

  it('rejects a malformed trace id, and is unavailable without a span index or when it fails', async () => {
    await expect(service(new OneTraceIndex()).traceOverlay({ traceId: 'xyz' })).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(service().traceOverlay({ traceId: TRACE })).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/no trace index/) });
    const failing = service(new OneTraceIndex(new Error('connection refused')));
    await expect(failing.traceOverlay({ traceId: TRACE })).rejects.toBeInstanceOf(QueryError);
    await expect(failing.traceOverlay({ traceId: TRACE })).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/connection refused/) });
    expect(failing.counters.get('rejected_queries', 'unavailable')).toBe(2);
  });

  it('reads cluster-level ids when asked', async () => {
    const index = new OneTraceIndex();
    await service(index).traceOverlay({ traceId: TRACE, granularity: 'cluster' });
    expect(index.asked).toEqual([[TRACE, 'cluster']]);
  });
});
