import * as path from 'path';
import { Client, credentials, Metadata, ServiceError, status } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';
import { edgeKey, EdgeRecord, Layer, NetworkEdgeProps, nodeId, NodeRecord, TraversalResult } from '@topology/model';
import { InMemoryLayerReader, LayerReader, TopologyQueryService, TraverseResponse } from '@topology/query';
import { createGatewayMicroservice, GatewayMicroservice } from './gateway-microservice';
import { createTopologyClient, TopologyClient } from './topology-client';

const T0 = Date.UTC(2025, 0, 1);
const range = { fromMs: T0, toMs: T0 + 3_600_000 };

function app(name: string, context: Partial<NodeRecord> = {}): NodeRecord {
  return { id: nodeId('app', name), kind: 'app', granularity: 'app', displayName: name, app: name, health: 'healthy', firstSeenMs: T0, lastSeenMs: T0 + 60_000, ...context };
}

const network: NetworkEdgeProps = {
  bytesSent: 1200,
  bytesReceived: 800,
  packetsSent: 10,
  packetsReceived: 8,
  connections: 2,
  retransmits: 0,
  ports: [{ port: 8443, protocol: 'tcp' }],
  paths: [{ via: [nodeId('intermediary', 'lb-1')], bytes: 2000, confidence: 0.5 }],
  confidence: 0.5,
  hop: false,
};

function netEdge(src: string, dst: string): EdgeRecord {
  const s = nodeId('app', src);
  const d = nodeId('app', dst);
  return { key: edgeKey(s, d), src: s, dst: d, granularity: 'app', layers: ['network'], props: { network }, firstSeenMs: T0, lastSeenMs: T0 + 60_000 };
}

const stalled: LayerReader = {
  traverse: () => new Promise<TraversalResult>(() => undefined),
  getNodes: () => new Promise<NodeRecord[]>(() => undefined),
  listEdges: () => new Promise<EdgeRecord[]>(() => undefined),
};

function fleet(): { layer: Layer; reader: LayerReader }[] {
  return [
    {
      layer: 'network',
      reader: new InMemoryLayerReader(
        'network',
        [app('web', { owner: 'team-web', tier: 'tier-1' }), app('api', { owner: 'team-api', tier: 'tier-0' }), app('db', { owner: 'team-data' })],
        [netEdge('web', 'api'), netEdge('api', 'db')],
      ),
    },
    // The application layer hangs: every answer is partial, and says so.
    { layer: 'application', reader: stalled },
  ];
}

/** One unary call on a raw grpc-js client, from a proto-loader method definition. */
function unary<Res>(client: Client, definition: protoLoader.MethodDefinition<object, object>, request: object): Promise<Res> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      definition.path,
      (value: object) => definition.requestSerialize(value),
      (bytes: Buffer) => definition.responseDeserialize(bytes) as Res,
      request,
      new Metadata(),
      { deadline: Date.now() + 5000 },
      (error: ServiceError | null, response?: Res) => (error || response === undefined ? reject(error) : resolve(response)),
    ),
  );
}

function methodOf(service: unknown, name: string): protoLoader.MethodDefinition<object, object> {
  const definition = (service as Record<string, protoLoader.MethodDefinition<object, object> | undefined>)[name];
  if (definition === undefined) throw new Error(`no method ${name}`);
  return definition;
}

async function callError(call: Promise<unknown>): Promise<ServiceError> {
  return call.then(
    () => {
      throw new Error('the call succeeded');
    },
    (error: ServiceError) => error,
  );
}

describe('the query gateway over gRPC', () => {
  let gateway: GatewayMicroservice;
  let client: TopologyClient;

  beforeAll(async () => {
    const service = new TopologyQueryService(fleet(), { maxDepth: 4, layerTimeoutMs: 5 });
    gateway = await createGatewayMicroservice({ url: '127.0.0.1:0', service });
    client = createTopologyClient(gateway.address);
  });

  afterAll(async () => {
    client.close();
    await gateway.close();
  });

  it('traverses, merging layers and mapping every field and enum to topology.v1', async () => {
    const answer = await client.traverse({ roots: ['web'], direction: 'DIRECTION_DOWN', depth: 2, granularity: 'GRANULARITY_APP', range });
    expect(answer.nodes.map((n) => [n.id, n.distance, n.owner, n.layers])).toEqual([
      ['app:web', 0, 'team-web', ['LAYER_NETWORK']],
      ['app:api', 1, 'team-api', ['LAYER_NETWORK']],
      ['app:db', 2, 'team-data', ['LAYER_NETWORK']],
    ]);
    expect(answer.nodes[0]).toMatchObject({ kind: 'app', granularity: 'app', health: 'healthy', tier: 'tier-1', firstSeenMs: T0, lastSeenMs: T0 + 60_000, unknownReason: '' });
    expect(answer.edges).toHaveLength(2);
    expect(answer.edges[0]).toMatchObject({
      src: 'app:web',
      dst: 'app:api',
      granularity: 'app',
      layers: ['LAYER_NETWORK'],
      network: { ...network, rttMeanUs: 0 },
      application: null,
      firstSeenMs: T0,
    });
    expect(answer.layerStatus.map((s) => [s.layer, s.state])).toEqual([
      ['LAYER_NETWORK', 'STATE_OK'],
      ['LAYER_APPLICATION', 'STATE_TIMED_OUT'],
    ]);
    expect(answer.layerStatus[1]?.message).toMatch(/did not answer within 5 ms/);
    expect(answer).toMatchObject({ nextPageToken: '', truncated: false, truncatedReason: '' });
  });

  it('pages with the token it hands out', async () => {
    const first = await client.traverse({ roots: ['web'], depth: 2, range, pageSize: 2 });
    const second = await client.traverse({ roots: ['web'], depth: 2, range, pageSize: 2, pageToken: first.nextPageToken });
    expect(first.nodes.map((n) => n.id)).toEqual(['app:web', 'app:api']);
    expect(second.nodes.map((n) => n.id)).toEqual(['app:db']);
    expect([...first.edges, ...second.edges].map((e) => `${e.src}>${e.dst}`)).toEqual(['app:web>app:api', 'app:api>app:db']);
  });

  it('serves node details and blast radius', async () => {
    const node = await client.getNode({ id: 'app:api', range });
    expect(node.node).toMatchObject({ id: 'app:api', owner: 'team-api' });
    expect(node.upstream).toEqual([{ id: 'app:web', displayName: 'web', layers: ['LAYER_NETWORK'] }]);
    expect(node.downstream).toEqual([{ id: 'app:db', displayName: 'db', layers: ['LAYER_NETWORK'] }]);

    const blast = await client.blastRadius({ root: 'db', range });
    expect(blast.root?.id).toBe('app:db');
    expect(blast.impacted.map((i) => [i.node?.id, i.distance, i.tier, i.owner])).toEqual([
      ['app:api', 1, 'tier-0', 'team-api'],
      ['app:web', 2, 'tier-1', 'team-web'],
    ]);
    expect(blast.teams).toEqual([
      { owner: 'team-api', nodeCount: 1, minDistance: 1, nodeIds: ['app:api'] },
      { owner: 'team-web', nodeCount: 1, minDistance: 2, nodeIds: ['app:web'] },
    ]);
  });

  it.each<[string, Parameters<TopologyClient['traverse']>[0]]>([
    ['a depth beyond the maximum', { roots: ['web'], depth: 5, range }],
    ['no roots', { roots: [], range }],
    ['an unspecified layer', { roots: ['web'], layers: ['LAYER_UNSPECIFIED'], range }],
    ['a page token of another request', { roots: ['api'], range, pageToken: Buffer.from('p1.2.0.abc').toString('base64url') }],
  ])('answers %s with INVALID_ARGUMENT', async (_, request) => {
    const error = await callError(client.traverse(request));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details.length).toBeGreaterThan(0);
  });

  it('answers a node no layer knows with NOT_FOUND, or UNAVAILABLE while a layer is silent', async () => {
    const onlyNetwork = await callError(client.getNode({ id: 'app:nowhere', layers: ['LAYER_NETWORK'], range }));
    expect(onlyNetwork.code).toBe(status.NOT_FOUND);
    const withStalled = await callError(client.getNode({ id: 'app:nowhere', range }));
    expect(withStalled.code).toBe(status.UNAVAILABLE);
  });

  it('reports SERVING on the standard health service, for the server and for the topology service', async () => {
    const health = new Client(gateway.address, credentials.createInsecure());
    try {
      const check = methodOf(healthService, 'Check');
      expect(await unary(health, check, { service: '' })).toEqual({ status: 'SERVING' });
      expect(await unary(health, check, { service: 'topology.v1.TopologyService' })).toEqual({ status: 'SERVING' });
      const unknown = await callError(unary(health, check, { service: 'no.such.Service' }));
      expect(unknown.code).toBe(status.NOT_FOUND);
    } finally {
      health.close();
    }
  });

  it('lists its services through server reflection, as grpcurl does', async () => {
    const reflectionProto = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto/grpc/reflection/v1/reflection.proto');
    const definition = protoLoader.loadSync(reflectionProto, { oneofs: true });
    const info = methodOf(definition['grpc.reflection.v1.ServerReflection'], 'ServerReflectionInfo');
    const reflection = new Client(gateway.address, credentials.createInsecure());
    try {
      const names = await new Promise<string[]>((resolve, reject) => {
        const stream = reflection.makeBidiStreamRequest(
          info.path,
          (value: object) => info.requestSerialize(value),
          (bytes: Buffer) => info.responseDeserialize(bytes),
          new Metadata(),
          { deadline: Date.now() + 5000 },
        );
        stream.on('data', (response: { listServicesResponse?: { service: { name: string }[] } }) => {
          resolve((response.listServicesResponse?.service ?? []).map((s) => s.name));
          stream.end();
        });
        stream.on('error', reject);
        stream.write({ listServices: '*' });
      });
      expect(names).toEqual(expect.arrayContaining(['topology.v1.TopologyService', 'grpc.health.v1.Health']));
    } finally {
      reflection.close();
    }
  });
});

describe('the per-call deadline', () => {
  /** A service whose traversal never settles, as if merging had hung: only the call deadline ends it. */
  class HungQueryService extends TopologyQueryService {
    override traverse(): Promise<TraverseResponse> {
      return new Promise(() => undefined);
    }
  }

  it('answers DEADLINE_EXCEEDED once the layer timeout plus the margin has passed', async () => {
    const service = new HungQueryService(fleet(), { layerTimeoutMs: 5 });
    const gateway = await createGatewayMicroservice({ url: '127.0.0.1:0', service, deadlineMarginMs: 10 });
    const client = createTopologyClient(gateway.address);
    try {
      const error = await callError(client.traverse({ roots: ['web'], range }));
      expect(error.code).toBe(status.DEADLINE_EXCEEDED);
      expect(error.details).toBe('Traverse did not finish within 15 ms');
    } finally {
      client.close();
      await gateway.close();
    }
  });
});

