import * as os from 'os';
import { DEFAULT_REQUEST_STORE_CONFIG } from '@topology/clickhouse-store';
import { ConfigError, EnvReader } from '@topology/runtime-pipeline';

/** Where the request layer is read: the ClickHouse server the trace-aggregator writes. */
export interface RequestLayerSource {
  /** `http(s)://host:port` of the server. */
  url: string;
  /** Database on the server; the server's default when absent. */
  database?: string;
  /** Milliseconds between reads of the rows the trace-aggregator wrote since the last read. */
  refreshIntervalMs: number;
  /** Recent edge history held in memory for traversals, milliseconds back from the newest bucket. */
  memoryHorizonMs: number;
}

export interface QueryGatewayAppConfig {
  /** Unique per process start (traces). */
  instanceId: string;
  /** Folder of the embedded network store the enricher writes (`network.sqlite`), opened read-only. */
  dataDir: string;
  /**
   * Folder of the embedded application store the ipc-ingestor writes (`application.sqlite`), opened
   * read-only once it exists; undefined when this deployment serves no application layer.
   */
  applicationDataDir: string | undefined;
  /**
   * The request layer on a ClickHouse server (`TOPOLOGY_CLICKHOUSE_URL`); undefined when this
   * deployment serves none. The embedded engine holds its directory for one process, so a gateway
   * of its own reads the request layer only from a server.
   */
  request: RequestLayerSource | undefined;
  /** History bucket width of the store, milliseconds; the one the enricher writes with. */
  bucketMs: number;
  /** gRPC listen address of `topology.v1.TopologyService`, `host:port`. */
  grpcAddress: string;
  /** Listen address of probes and metrics, `host:port`. */
  httpAddress: string;
  /** Width of the live view (a request without a time range), milliseconds back from now. */
  liveTtlMs: number;
  /** Milliseconds between attempts to open a store its writer has not created yet. */
  storeRetryMs: number;
  /** Export the gateway's own traces over OTLP (`OTEL_EXPORTER_OTLP_ENDPOINT`). */
  tracing: boolean;
}

/** Reads and checks the query gateway's environment; throws a ConfigError listing every wrong value. */
export function loadQueryGatewayConfig(env: NodeJS.ProcessEnv = process.env): QueryGatewayAppConfig {
  const r = new EnvReader(env);
  const application = r.bool('TOPOLOGY_APPLICATION_LAYER', true);
  const applicationDataDir = r.string('TOPOLOGY_APPLICATION_DATA_DIR', '.data/application');
  const config: QueryGatewayAppConfig = {
    instanceId: r.name('TOPOLOGY_INSTANCE_ID', `${os.hostname().replace(/[^A-Za-z0-9._-]/g, '-')}-${process.pid}`),
    dataDir: r.string('TOPOLOGY_DATA_DIR', '.data/network'),
    applicationDataDir: application ? applicationDataDir : undefined,
    request: undefined,
    bucketMs: r.int('TOPOLOGY_BUCKET_MS', 60_000, { min: 1_000 }),
    grpcAddress: r.address('TOPOLOGY_GRPC_ADDRESS', '0.0.0.0:50051'),
    httpAddress: r.address('TOPOLOGY_HTTP_ADDRESS', '0.0.0.0:4384'),
    liveTtlMs: r.int('TOPOLOGY_LIVE_TTL_MS', 15 * 60_000, { min: 1_000 }),
    storeRetryMs: r.int('TOPOLOGY_STORE_RETRY_MS', 500, { min: 10, max: 60_000 }),
    tracing: r.bool('TOPOLOGY_TRACING', false),
  };
  const clickhouseUrl = r.optionalString('TOPOLOGY_CLICKHOUSE_URL');
  const clickhouseDatabase = r.optionalString('TOPOLOGY_CLICKHOUSE_DATABASE');
  const refreshIntervalMs = r.int('TOPOLOGY_REQUEST_REFRESH_MS', DEFAULT_REQUEST_STORE_CONFIG.refreshIntervalMs, { min: 100, max: 3_600_000 });
  const memoryHorizonMs = r.int('TOPOLOGY_REQUEST_MEMORY_HORIZON_MS', DEFAULT_REQUEST_STORE_CONFIG.memoryHorizonMs, { min: 60_000 });
  const problems = [...r.problems];
  if (clickhouseUrl !== undefined) {
    if (/^https?:\/\/[^/]/.test(clickhouseUrl)) config.request = { url: clickhouseUrl, ...(clickhouseDatabase === undefined ? {} : { database: clickhouseDatabase }), refreshIntervalMs, memoryHorizonMs };
    else problems.push(`TOPOLOGY_CLICKHOUSE_URL=${JSON.stringify(clickhouseUrl)}: expected http(s)://host:port`);
  } else if (clickhouseDatabase !== undefined) {
    problems.push('TOPOLOGY_CLICKHOUSE_DATABASE is set without TOPOLOGY_CLICKHOUSE_URL');
  }
  const port = (address: string) => address.slice(address.lastIndexOf(':') + 1);
  if (problems.length === 0 && port(config.grpcAddress) === port(config.httpAddress) && port(config.grpcAddress) !== '0') {
    problems.push('TOPOLOGY_GRPC_ADDRESS and TOPOLOGY_HTTP_ADDRESS use the same port');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
