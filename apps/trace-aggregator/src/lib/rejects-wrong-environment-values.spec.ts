import { ConfigError, traceAggregatorConfig } from '@topology/runtime-pipeline';
import { loadTraceAggregatorConfig, requestDataDir } from './trace-aggregator.config';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadTraceAggregatorConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('trace-aggregator configuration from the environment', () => {
  it('writes the embedded engine under the data folder by default, a week of history, group trace-aggregator', () => {
    const config = loadTraceAggregatorConfig({ TOPOLOGY_DATA_DIR: '/var/lib/topology' });
    expect({ store: requestDataDir(config), url: config.request.clickhouseUrl, retentionMs: config.retentionMs, groupId: config.groupId, http: config.httpAddress }).toEqual({
      store: '/var/lib/topology/request',
      url: undefined,
      retentionMs: 604_800_000,
      groupId: 'trace-aggregator',
      http: '0.0.0.0:4386',
    });
  });

  it('writes to a ClickHouse server when one is named, and reads the trace waits', () => {
    const config = loadTraceAggregatorConfig({
      TOPOLOGY_CLICKHOUSE_URL: 'http://clickhouse:8123',
      TOPOLOGY_CLICKHOUSE_DATABASE: 'topology',
      TOPOLOGY_TRACE_IDLE_MS: '2000',
      TOPOLOGY_TRACE_MAX_LIFE_MS: '4000',
      TOPOLOGY_TRACE_BUCKET_IDLE_MS: '20000',
      TOPOLOGY_TOPIC_PREFIX: 'eu.',
    });
    expect([config.request.clickhouseUrl, config.request.clickhouseDatabase, config.groupId, config.topics.otlpSpans]).toEqual(['http://clickhouse:8123', 'topology', 'eu.trace-aggregator', 'eu.otlp_spans']);
    expect(traceAggregatorConfig(config.request, config.network.bucketMs)).toMatchObject({ traceIdleMs: 2_000, maxTraceLifeMs: 4_000, bucketIdleMs: 20_000, bucketMs: 60_000 });
    // Without its own setting, buckets stay in memory ten minutes.
    expect(traceAggregatorConfig(loadTraceAggregatorConfig({}).request, 60_000).bucketIdleMs).toBe(600_000);
  });

  it('rejects every value that cannot work, at once', () => {
    expect(
      problemsOf({
        TOPOLOGY_RETENTION_MS: '7d',
        TOPOLOGY_CLICKHOUSE_URL: 'clickhouse:8123',
        TOPOLOGY_TRACE_MAX_LIFE_MS: '60000',
        TOPOLOGY_TRACE_BUCKET_IDLE_MS: '30000',
        TOPOLOGY_KAFKA_BROKERS: 'kafka',
      }),
    ).toEqual([
      'TOPOLOGY_KAFKA_BROKERS="kafka": "kafka" is not host:port',
      'TOPOLOGY_RETENTION_MS="7d": expected an integer in [60000, 9007199254740991]',
      'TOPOLOGY_CLICKHOUSE_URL="clickhouse:8123": expected http(s)://host:port',
      'trace-aggregator: bucketIdleMs (30000) must cover maxTraceLifeMs + traceIdleMs (65000), or calls of a long trace would find their bucket gone',
    ]);
  });

  it('rejects a retention shorter than a bucket', () => {
    expect(problemsOf({ TOPOLOGY_RETENTION_MS: '60000', TOPOLOGY_BUCKET_MS: '120000', TOPOLOGY_WINDOW_MS: '10000' })).toEqual(['TOPOLOGY_RETENTION_MS (60000) must be at least TOPOLOGY_BUCKET_MS (120000)']);
  });
});
