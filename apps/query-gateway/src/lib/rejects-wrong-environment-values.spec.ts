import { ConfigError } from '@topology/runtime-pipeline';
import { loadQueryGatewayConfig } from './query-gateway.config';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadQueryGatewayConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('query gateway configuration from the environment', () => {
  it('serves gRPC on 50051 and probes on 4384 by default, reading the stores the enricher and the ipc-ingestor write', () => {
    const config = loadQueryGatewayConfig({});
    expect({ grpc: config.grpcAddress, http: config.httpAddress, dataDir: config.dataDir, applicationDataDir: config.applicationDataDir }).toEqual({
      grpc: '0.0.0.0:50051',
      http: '0.0.0.0:4384',
      dataDir: '.data/network',
      applicationDataDir: '.data/application',
    });
    expect(loadQueryGatewayConfig({ TOPOLOGY_APPLICATION_LAYER: 'false' }).applicationDataDir).toBeUndefined();
    expect(config.request).toBeUndefined();
  });

  it('reads the request layer from the ClickHouse server the trace-aggregator writes, when one is named', () => {
    expect(loadQueryGatewayConfig({ TOPOLOGY_CLICKHOUSE_URL: 'http://clickhouse:8123', TOPOLOGY_CLICKHOUSE_DATABASE: 'topology', TOPOLOGY_REQUEST_REFRESH_MS: '2000' }).request).toEqual({
      url: 'http://clickhouse:8123',
      database: 'topology',
      refreshIntervalMs: 2000,
      memoryHorizonMs: 2 * 3_600_000,
    });
    expect(problemsOf({ TOPOLOGY_CLICKHOUSE_URL: 'clickhouse:8123' })).toEqual(['TOPOLOGY_CLICKHOUSE_URL="clickhouse:8123": expected http(s)://host:port']);
    expect(problemsOf({ TOPOLOGY_CLICKHOUSE_DATABASE: 'topology' })).toEqual(['TOPOLOGY_CLICKHOUSE_DATABASE is set without TOPOLOGY_CLICKHOUSE_URL']);
  });

  it('reports every wrong value at once, and two listeners on one port', () => {
    expect(problemsOf({ TOPOLOGY_GRPC_ADDRESS: 'nowhere', TOPOLOGY_LIVE_TTL_MS: '-1' })).toEqual([
      'TOPOLOGY_GRPC_ADDRESS="nowhere": expected host:port',
      'TOPOLOGY_LIVE_TTL_MS="-1": expected an integer in [1000, 9007199254740991]',
    ]);
    expect(problemsOf({ TOPOLOGY_GRPC_ADDRESS: '0.0.0.0:9000', TOPOLOGY_HTTP_ADDRESS: '127.0.0.1:9000' })).toEqual(['TOPOLOGY_GRPC_ADDRESS and TOPOLOGY_HTTP_ADDRESS use the same port']);
  });
});
