import { Client, credentials, Metadata, ServiceError, status } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ApplicationEdgeProps, edgeKey, EdgeRecord, Layer, NetworkEdgeProps, nodeId, NodeRecord } from '@topology/model';
import { InMemoryLayerReader, TopologyQueryService } from '@topology/query';
import { apiPackageDefinition, TOPOLOGY_SERVICE } from './api-proto';
import { createGatewayMicroservice, GatewayMicroservice } from './gateway-microservice';
import { createTopologyClient, TopologyClient } from './topology-client';

const T0 = Date.UTC(2025, 0, 1);
const range = { fromMs: T0, toMs: T0 + 3_600_000 };

function app(name: string, context: Partial<NodeRecord> = {}): NodeRecord {
  return { id: nodeId('app', name), kind: 'app', granularity: 'app', displayName: name, app: name, health: 'unknown', firstSeenMs: T0, lastSeenMs: T0 + 60_000, ...context };
}

function edge(layer: Layer, src: string, dst: string, props: EdgeRecord['props']): EdgeRecord {
  const s = nodeId('app', src);
  const d = nodeId('app', dst);
  return { key: edgeKey(s, d), src: s, dst: d, granularity: 'app', layers: [layer], props, firstSeenMs: T0, lastSeenMs: T0 + 60_000 };
}

const bytes = (n: number): NetworkEdgeProps => ({
  bytesSent: n,
  bytesReceived: 0,
  packetsSent: 10,
  packetsReceived: 10,
  connections: 1,
  retransmits: 0,
  ports: [{ port: 8080, protocol: 'tcp' }],
  paths: [{ via: [], bytes: n, confidence: 1 }],
  confidence: 1,
  hop: false,
});

function calls(n: number, errors: number, p99 = 80): ApplicationEdgeProps {
  return {
    calls: n,
    errors,
    endpoints: [{ endpoint: 'GET /v1/stock', protocol: 'http', calls: n, errors, errorsByStatus: errors > 0 ? { '503': errors } : {}, latencyP50Ms: 10, latencyP90Ms: 40, latencyP99Ms: p99 }],
  };
}

/** web → api → stock, where stock fails; legacy is on the network only (not instrumented). */
function layers(): { layer: Layer; reader: InMemoryLayerReader }[] {
  const nodes = ['web', 'api', 'stock', 'legacy'].map((n) => app(n, { owner: `team-${n}` }));
  return [
    {
      layer: 'network',
      reader: new InMemoryLayerReader('network', nodes, [
        edge('network', 'web', 'api', { network: bytes(5000) }),
        edge('network', 'api', 'stock', { network: bytes(3000) }),
        edge('network', 'web', 'legacy', { network: bytes(100) }),
      ]),
    },
    {
      layer: 'application',
      reader: new InMemoryLayerReader('application', nodes.slice(0, 3), [
        edge('application', 'web', 'api', { application: calls(1000, 0) }),
        edge('application', 'api', 'stock', { application: calls(1000, 400, 950) }),
      ]),
    },
  ];
}

describe('diagnosis and coverage over gRPC', () => {
  let gateway: GatewayMicroservice;
  let client: TopologyClient;

  beforeAll(async () => {
    gateway = await createGatewayMicroservice({ url: '127.0.0.1:0', service: new TopologyQueryService(layers(), { maxDepth: 4 }) });
    client = createTopologyClient(gateway.address);
  });

  afterAll(async () => {
    client.close();
    await gateway.close();
  });

  it('diagnoses a service, naming the failing dependency with its path and evidence', async () => {
    const d = await client.diagnose({ id: 'web', depth: 3, granularity: 'GRANULARITY_APP', range });
    expect(d).toMatchObject({ verdict: 'VERDICT_DEPENDENCY', likelyCulprit: 'app:stock', ownErrorRate: 0 });
    expect(d.node).toMatchObject({ id: 'app:web', owner: 'team-web', layers: ['LAYER_NETWORK', 'LAYER_APPLICATION'] });
    expect(d.suspects).toHaveLength(1);
    expect(d.suspects[0]).toEqual({
      node: expect.objectContaining({ id: 'app:stock', owner: 'team-stock', distance: 2 }),
      distance: 2,
      path: ['app:web', 'app:api', 'app:stock'],
      // web's calls to legacy are not instrumented, so web's traffic is shared out by bytes.
      dependence: 5000 / 5100,
      score: expect.closeTo(0.4 * (5000 / 5100) * 0.7, 10),
      errorRate: 0.4,
      latencyP99Ms: 950,
      health: 'unknown',
      evidenceLayers: ['LAYER_APPLICATION'],
      evidence: ['errors 40% of 1.0k calls served (application layer)', 'GET /v1/stock: errors 40% of 1.0k calls (503 400), p99 950 ms (application layer)'],
    });
    expect(d.explanation).toMatch(/^app:stock is the likeliest cause/);
    expect(d.layerStatus.map((s) => s.state)).toEqual(['STATE_OK', 'STATE_OK']);
  });

  it('says self for the failing service itself', async () => {
    const d = await client.diagnose({ id: 'app:stock', range });
    expect(d).toMatchObject({ verdict: 'VERDICT_SELF', likelyCulprit: '', ownErrorRate: 0.4, suspects: [] });
  });

  it('answers a bad request with INVALID_ARGUMENT and an unknown service with NOT_FOUND', async () => {
    await expect(client.diagnose({ id: 'web', depth: 9, range })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(client.diagnose({ id: 'app:nowhere', range })).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('reports coverage, page by page', async () => {
    const first = await client.coverage({ granularity: 'GRANULARITY_APP', range, pageSize: 1 });
    expect(first.networkOnly.map((n) => [n.id, n.owner, n.layers])).toEqual([['app:legacy', 'team-legacy', ['LAYER_NETWORK']]]);
    expect(first).toMatchObject({ applicationOnly: [], networkOnlyCount: 2, applicationOnlyCount: 0, bothCount: 2 });
    // stock reports nothing itself: only api's client metrics describe it.
    const second = await client.coverage({ granularity: 'GRANULARITY_APP', range, pageSize: 1, pageToken: first.nextPageToken });
    expect(second.networkOnly.map((n) => [n.id, n.layers])).toEqual([['app:stock', ['LAYER_NETWORK', 'LAYER_APPLICATION']]]);
    expect(second.nextPageToken).toBe('');
    await expect(client.coverage({ range, pageToken: 'nonsense' })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it('answers TraceOverlay UNAVAILABLE when the gateway serves no trace index', async () => {
    const service = apiPackageDefinition()[TOPOLOGY_SERVICE] as Record<string, protoLoader.MethodDefinition<object, object>>;
    const overlay = service['TraceOverlay'];
    if (overlay === undefined) throw new Error('TraceOverlay is not in the API schema');
    const raw = new Client(gateway.address, credentials.createInsecure());
    try {
      const error = await new Promise<ServiceError | null>((resolve) =>
        raw.makeUnaryRequest(
          overlay.path,
          (value: object) => overlay.requestSerialize(value),
          (b: Buffer) => overlay.responseDeserialize(b),
          { traceId: '0af7651916cd43dd8448eb211c80319c' },
          new Metadata(),
          { deadline: Date.now() + 5000 },
          (e: ServiceError | null) => resolve(e),
        ),
      );
      expect(error?.code).toBe(status.UNAVAILABLE);
    } finally {
      raw.close();
    }
  });
});

describe('coverage without an application layer', () => {
  it('is UNAVAILABLE', async () => {
    const [network] = layers();
    if (network === undefined) throw new Error('no network layer');
    const gateway = await createGatewayMicroservice({ url: '127.0.0.1:0', service: new TopologyQueryService([network]) });
    const client = createTopologyClient(gateway.address);
    try {
      await expect(client.coverage({ range })).rejects.toMatchObject({ code: status.UNAVAILABLE, details: expect.stringMatching(/application layer is not served/) });
    } finally {
      client.close();
      await gateway.close();
    }
  });
});
