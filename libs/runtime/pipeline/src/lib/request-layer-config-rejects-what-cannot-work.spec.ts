import { ConfigError } from './env';
import { loadRequestLayerConfig, requestStoreConfig, traceAggregatorConfig } from './request-layer.config';

describe('the request layer configuration', () => {
  it('listens for Zipkin on 9411 by default, and on a free port when the HTTP intake asks for one', () => {
    expect(loadRequestLayerConfig({}).zipkinAddress).toBe('0.0.0.0:9411');
    expect(loadRequestLayerConfig({}, { httpAddress: '127.0.0.1:0' }).zipkinAddress).toBe('127.0.0.1:0');
    expect(loadRequestLayerConfig({ TOPOLOGY_ZIPKIN_ADDRESS: '0.0.0.0:19411' }, { httpAddress: '127.0.0.1:0' }).zipkinAddress).toBe('0.0.0.0:19411');
  });

  it('uses the embedded engine unless a server is named, and polls a server for other writers', () => {
    const embedded = loadRequestLayerConfig({});
    expect(embedded.clickhouseUrl).toBeUndefined();
    expect(requestStoreConfig(embedded, { bucketMs: 60_000, retentionMs: 86_400_000 })).toMatchObject({ bucketMs: 60_000, retentionMs: 86_400_000, refreshIntervalMs: 0 });
    const server = loadRequestLayerConfig({ TOPOLOGY_CLICKHOUSE_URL: 'http://clickhouse:8123', TOPOLOGY_CLICKHOUSE_DATABASE: 'topology' });
    expect(requestStoreConfig(server, { bucketMs: 60_000, retentionMs: 86_400_000 }).refreshIntervalMs).toBeGreaterThan(0);
    expect(traceAggregatorConfig(server, 30_000)).toMatchObject({ bucketMs: 30_000, traceIdleMs: 5_000 });
  });

  it('rejects every value that cannot work, at once', () => {
    let error: unknown;
    try {
      loadRequestLayerConfig({
        TOPOLOGY_ZIPKIN_ADDRESS: 'zipkin',
        TOPOLOGY_CLICKHOUSE_DATABASE: 'topology',
        TOPOLOGY_TRACE_IDLE_MS: '90000',
        TOPOLOGY_TRACE_MAX_LIFE_MS: '60000',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'TOPOLOGY_ZIPKIN_ADDRESS="zipkin": expected host:port',
      'TOPOLOGY_CLICKHOUSE_DATABASE is set without TOPOLOGY_CLICKHOUSE_URL',
      'trace-aggregator: maxTraceLifeMs (60000) must be at least traceIdleMs (90000)',
    ]);
  });
});
