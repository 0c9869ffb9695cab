import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EmbeddedGraphStore } from '@topology/graph-store-embedded';
import { applicationBucketMerger } from '@topology/ipc-ingest';
import { emptyNetworkProps, networkBucketMerger, nodeId, type ApplicationEdgeProps, type NetworkEdgeProps } from '@topology/model';
import { createTopologyClient } from '@topology/runtime-gateway';
import { loadQueryGatewayConfig } from './query-gateway.config';
import { startQueryGateway, type QueryGatewayApp } from './query-gateway-app';

const T0 = Date.UTC(2026, 0, 1);
const web = nodeId('app', 'web');
const api = nodeId('app', 'api');
const range = { fromMs: T0, toMs: T0 + 120_000 };

describe('the query gateway process', () => {
  let dir: string;
  let gateway: QueryGatewayApp | undefined;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-gateway-'));
    const network = await EmbeddedGraphStore.open<NetworkEdgeProps>({ dir: path.join(dir, 'network'), layer: 'network', bucketMs: 60_000 }, networkBucketMerger);
    await network.putEdgeBuckets([{ src: web, dst: api, granularity: 'app', bucketStartMs: T0, firstSeenMs: T0, lastSeenMs: T0 + 1, props: { ...emptyNetworkProps(), bytesSent: 10, hop: false } }]);
    await network.close();
  });

  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function start(env: Record<string, string> = {}): Promise<QueryGatewayApp> {
    const config = loadQueryGatewayConfig({
      TOPOLOGY_DATA_DIR: path.join(dir, 'network'),
      TOPOLOGY_APPLICATION_DATA_DIR: path.join(dir, 'application'),
      TOPOLOGY_GRPC_ADDRESS: '127.0.0.1:0',
      TOPOLOGY_HTTP_ADDRESS: '127.0.0.1:0',
      TOPOLOGY_STORE_RETRY_MS: '20',
      ...env,
    });
    return startQueryGateway(config, () => undefined);
  }

  async function traverse(address: string) {
    const client = createTopologyClient(address);
    try {
      return await client.traverse({ roots: [web], direction: 'DIRECTION_DOWN', depth: 1, granularity: 'GRANULARITY_APP', layers: ['LAYER_NETWORK', 'LAYER_APPLICATION'], range, pageSize: 100, pageToken: '' });
    } finally {
      client.close();
    }
  }

  it('serves the network layer while the ipc-ingestor has not created the application store, then both layers', async () => {
    gateway = await start();
    const before = await traverse(gateway.grpcAddress);
    expect(before.edges.map((e) => [e.src, e.dst, e.layers])).toEqual([[web, api, ['LAYER_NETWORK']]]);
    expect(before.layerStatus.map((s) => [s.layer, s.state])).toEqual([
      ['LAYER_NETWORK', 'STATE_OK'],
      ['LAYER_APPLICATION', 'STATE_FAILED'],
    ]);
    expect(before.layerStatus[1]?.message).toContain('application.sqlite: waiting for the ipc-ingestor');

    const writer = await EmbeddedGraphStore.open<ApplicationEdgeProps>({ dir: path.join(dir, 'application'), layer: 'application', bucketMs: 60_000 }, applicationBucketMerger);
    try {
      await writer.putEdgeBuckets([{ src: web, dst: api, granularity: 'app', bucketStartMs: T0, firstSeenMs: T0, lastSeenMs: T0 + 1, props: { calls: 7, errors: 1, endpoints: [] } }]);
      await gateway.applicationOpened;
      const after = await traverse(gateway.grpcAddress);
      expect(after.edges.map((e) => [e.src, e.dst, e.layers, e.application?.calls])).toEqual([[web, api, ['LAYER_NETWORK', 'LAYER_APPLICATION'], 7]]);
      expect(after.layerStatus.every((s) => s.state === 'STATE_OK')).toBe(true);
    } finally {
      await writer.close();
    }
  });

  it('serves no application layer when told so', async () => {
    gateway = await start({ TOPOLOGY_APPLICATION_LAYER: 'false' });
    const answer = await traverse(gateway.grpcAddress);
    expect(answer.layerStatus[1]).toMatchObject({ layer: 'LAYER_APPLICATION', state: 'STATE_FAILED', message: 'the application layer is not served by this gateway' });
  });
});
