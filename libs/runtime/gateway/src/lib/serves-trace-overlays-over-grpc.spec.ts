import { status } from '@grpc/grpc-js';
import { edgeKey, EdgeRecord, Granularity, nodeId, NodeRecord } from '@topology/model';
import { InMemoryLayerReader, TopologyQueryService, TracePathAnswer, TracePathReader } from '@topology/query';
import { createGatewayMicroservice, GatewayMicroservice } from './gateway-microservice';
import { createTopologyClient, TopologyClient } from './topology-client';

const T0 = Date.UTC(2025, 0, 1);
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const START_US = (T0 + 250) * 1000 + 17;

const web = nodeId('app', 'web');
const api = nodeId('app', 'api');

function app(name: string, context: Partial<NodeRecord> = {}): NodeRecord {
  return { id: nodeId('app', name), kind: 'app', granularity: 'app', displayName: name, app: name, health: 'healthy', firstSeenMs: T0, lastSeenMs: T0 + 60_000, ...context };
}

const requestEdge: EdgeRecord = {
  key: edgeKey(web, api),
  src: web,
  dst: api,
  granularity: 'app',
  layers: ['request'],
  props: { request: { calls: 42, errors: 1, latencyP50Ms: 12, latencyP99Ms: 80, operations: ['GET /api/cart'] } },
  firstSeenMs: T0,
  lastSeenMs: T0 + 60_000,
};

const index: TracePathReader = {
  async tracePath(traceId: string, granularity: Granularity): Promise<TracePathAnswer | undefined> {
    if (traceId !== TRACE || granularity !== 'app') return undefined;
    return {
      traceId,
      nodes: [api, web],
      hops: [{ src: web, dst: api, operation: 'GET /api/cart', kind: 'client', startUs: START_US, durationUs: 12_500, error: true, spanId: '00f067aa0ba902b7', parentSpanId: '' }],
      startUs: START_US - 17,
      durationUs: 20_000,
    };
  },
};

describe('TraceOverlay over gRPC', () => {
  let gateway: GatewayMicroservice;
  let client: TopologyClient;

  beforeAll(async () => {
    const service = new TopologyQueryService(
      [{ layer: 'request', reader: new InMemoryLayerReader('request', [app('web', { owner: 'team-web' }), app('api')], [requestEdge]) }],
      {},
      { traces: index },
    );
    gateway = await createGatewayMicroservice({ url: '127.0.0.1:0', service });
    client = createTopologyClient(gateway.address);
  });

  afterAll(async () => {
    client?.close();
    await gateway?.close();
  });

  it('answers a trace’s path as topology nodes, edges and timed hops', async () => {
    const overlay = await client.traceOverlay({ traceId: TRACE, granularity: 'GRANULARITY_APP' });
    expect(overlay).toMatchObject({ traceId: TRACE, found: true, startMs: T0 + 250, durationMs: 20 });
    expect(overlay.hops).toEqual([
      { src: 'app:web', dst: 'app:api', operation: 'GET /api/cart', kind: 'client', startUnixNano: START_US * 1000, durationMs: 12.5, error: true, spanId: '00f067aa0ba902b7', parentSpanId: '' },
    ]);
    expect(overlay.nodes.map((n) => [n.id, n.owner, n.distance, n.layers])).toEqual([
      ['app:web', 'team-web', 0, ['LAYER_REQUEST']],
      ['app:api', '', 1, ['LAYER_REQUEST']],
    ]);
    expect(overlay.edges).toHaveLength(1);
    expect(overlay.edges[0]).toMatchObject({ src: 'app:web', dst: 'app:api', layers: ['LAYER_REQUEST'], request: { calls: 42, errors: 1, operations: ['GET /api/cart'] } });
    expect(overlay.layerStatus.map((s) => s.state)).toEqual(['STATE_OK']);
  });

  it('says found: false for a trace it does not hold, and INVALID_ARGUMENT for a malformed id', async () => {
    expect(await client.traceOverlay({ traceId: 'a'.repeat(32) })).toMatchObject({ found: false, hops: [], nodes: [], edges: [] });
    await expect(client.traceOverlay({ traceId: 'not-a-trace' })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});
