import { DEFAULT_REQUEST_STORE_CONFIG, type RequestStoreConfig } from '@topology/clickhouse-store';
import { DEFAULT_TRACE_AGGREGATOR_CONFIG, validateTraceAggregatorConfig, type TraceAggregatorConfig } from '@topology/trace-aggregate';
import { ConfigError, EnvReader } from './env';

/**
 * Configuration of the request layer (trace-aggregator and its ClickHouse store) in a process. Every
 * default is here; `loadRequestLayerConfig` rejects values that cannot work, all at once.
 */
export interface RequestLayerConfig {
  /**
   * Zipkin v2 receiver (`POST /api/v2/spans`), `host:port`. Default `0.0.0.0:9411`, a Zipkin
   * server's port; a process whose HTTP intake asks for a free port (port 0, as tests do) gets a free
   * one here too, unless this is set.
   */
  zipkinAddress: string;
  /** A ClickHouse server (`http://host:8123`); absent: the embedded engine (chdb) in `<dataDir>/request`. */
  clickhouseUrl?: string;
  /** Database on that server. */
  clickhouseDatabase?: string;
  /** A trace is paired once no span of it has arrived for this long, milliseconds. */
  traceIdleMs: number;
  /** A trace still receiving spans is paired anyway after this long, milliseconds. */
  maxTraceLifeMs: number;
  /** Spans waiting for their trace at once, over all traces. */
  maxWaitingSpans: number;
  /**
   * Edge totals of a bucket stay in memory this long after their last change, milliseconds; later
   * calls for it are dropped as late. On Kafka it also bounds how far back a restart reads spans
   * again. Absent: 10 minutes, or twice `maxTraceLifeMs` + `traceIdleMs` if longer.
   */
  bucketIdleMs?: number;
  /** Spans are kept for overlays this long after they arrive, milliseconds. */
  spanRetentionMs: number;
  /** Recent edge history held in memory for traversals, milliseconds back from the newest bucket. */
  memoryHorizonMs: number;
}

export function loadRequestLayerConfig(env: NodeJS.ProcessEnv = process.env, ports: { httpAddress?: string } = {}): RequestLayerConfig {
  const r = new EnvReader(env);
  const ephemeral = ports.httpAddress !== undefined && ports.httpAddress.endsWith(':0');
  const httpHost = ports.httpAddress?.slice(0, ports.httpAddress.lastIndexOf(':')) || '0.0.0.0';
  const config: RequestLayerConfig = {
    zipkinAddress: r.address('TOPOLOGY_ZIPKIN_ADDRESS', ephemeral ? `${httpHost}:0` : '0.0.0.0:9411'),
    clickhouseUrl: r.optionalString('TOPOLOGY_CLICKHOUSE_URL'),
    clickhouseDatabase: r.optionalString('TOPOLOGY_CLICKHOUSE_DATABASE'),
    traceIdleMs: r.int('TOPOLOGY_TRACE_IDLE_MS', DEFAULT_TRACE_AGGREGATOR_CONFIG.traceIdleMs, { min: 100 }),
    maxTraceLifeMs: r.int('TOPOLOGY_TRACE_MAX_LIFE_MS', DEFAULT_TRACE_AGGREGATOR_CONFIG.maxTraceLifeMs, { min: 100 }),
    maxWaitingSpans: r.int('TOPOLOGY_TRACE_MAX_WAITING_SPANS', DEFAULT_TRACE_AGGREGATOR_CONFIG.maxSpans, { min: 1_000 }),
    bucketIdleMs: optionalInt(r, 'TOPOLOGY_TRACE_BUCKET_IDLE_MS', { min: 1_000 }),
    spanRetentionMs: r.int('TOPOLOGY_SPAN_RETENTION_MS', DEFAULT_REQUEST_STORE_CONFIG.spanRetentionMs, { min: 60_000 }),
    memoryHorizonMs: r.int('TOPOLOGY_REQUEST_MEMORY_HORIZON_MS', DEFAULT_REQUEST_STORE_CONFIG.memoryHorizonMs, { min: 60_000 }),
  };
  const problems = [...r.problems];
  if (config.clickhouseDatabase !== undefined && config.clickhouseUrl === undefined) problems.push('TOPOLOGY_CLICKHOUSE_DATABASE is set without TOPOLOGY_CLICKHOUSE_URL');
  if (config.clickhouseUrl !== undefined && !/^https?:\/\//.test(config.clickhouseUrl)) problems.push(`TOPOLOGY_CLICKHOUSE_URL=${JSON.stringify(config.clickhouseUrl)}: expected http(s)://host:port`);
  problems.push(...validateTraceAggregatorConfig(traceAggregatorConfig(config, DEFAULT_TRACE_AGGREGATOR_CONFIG.bucketMs)).map((p) => `trace-aggregator: ${p}`));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The aggregator's settings: its buckets are the pipeline's history buckets. */
export function traceAggregatorConfig(c: RequestLayerConfig, bucketMs: number): TraceAggregatorConfig {
  return {
    ...DEFAULT_TRACE_AGGREGATOR_CONFIG,
    bucketMs,
    traceIdleMs: c.traceIdleMs,
    maxTraceLifeMs: c.maxTraceLifeMs,
    maxSpans: c.maxWaitingSpans,
    maxSpansPerTrace: Math.min(DEFAULT_TRACE_AGGREGATOR_CONFIG.maxSpansPerTrace, c.maxWaitingSpans),
    bucketIdleMs: c.bucketIdleMs ?? Math.max(DEFAULT_TRACE_AGGREGATOR_CONFIG.bucketIdleMs, 2 * (c.maxTraceLifeMs + c.traceIdleMs)),
  };
}

function optionalInt(r: EnvReader, name: string, bounds: { min?: number; max?: number }): number | undefined {
  const value = r.int(name, -1, bounds);
  return value === -1 ? undefined : value;
}

/** The store's settings: edge history is kept as long as the other layers' (`retentionMs`). */
export function requestStoreConfig(c: RequestLayerConfig, pipeline: { bucketMs: number; retentionMs: number }): Partial<RequestStoreConfig> {
  return {
    bucketMs: pipeline.bucketMs,
    retentionMs: pipeline.retentionMs,
    spanRetentionMs: c.spanRetentionMs,
    memoryHorizonMs: c.memoryHorizonMs,
    // In one process the store sees its own writes; a server may have other writers.
    refreshIntervalMs: c.clickhouseUrl === undefined ? 0 : DEFAULT_REQUEST_STORE_CONFIG.refreshIntervalMs,
  };
}
