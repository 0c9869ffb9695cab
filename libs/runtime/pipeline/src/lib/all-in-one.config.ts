import { DEFAULT_NETWORK_ENRICHER_CONFIG, validateNetworkEnricherConfig, type NetworkEnricherConfig } from '@topology/enrich';
import { DEFAULT_FLOW_INGESTOR_CONFIG, validateFlowIngestorConfig, type FlowIngestorConfig } from '@topology/flow-ingest';
import { DEFAULT_INTERMEDIARY_RESOLVER_CONFIG, validateIntermediaryResolverConfig, type IntermediaryResolverConfig } from '@topology/intermediary';
import { ConfigError, EnvReader } from './env';

/**
 * Configuration of the all-in-one process. Every field has its unit in its name or comment; all
 * defaults are here; `loadAllInOneConfig` rejects values that cannot work, all at once.
 */
export interface AllInOneConfig {
  /** Folder of the embedded stores (one SQLite file per graph layer). */
  dataDir: string;
  /** HTTP listen address for intake, probes and metrics, `host:port`. */
  httpAddress: string;
  /** gRPC listen address of the query API, `host:port`. */
  grpcAddress: string;
  /** OTLP/HTTP receiver (`/v1/metrics`, `/v1/traces`), `host:port`; port 0 picks a free one. */
  otlpHttpAddress: string;
  /** OTLP/gRPC receiver (MetricsService and TraceService Export), `host:port`; port 0 picks a free one. */
  otlpGrpcAddress: string;
  /** Region name given to records that arrive without one. */
  region: string;
  /** Feed the built-in simulated fleet in real time. */
  simulate: boolean;
  /** Seed of the simulated fleet (same seed, same fleet). */
  simulationSeed: number;
  /** Number of apps of the simulated fleet. */
  simulationApps: number;
  /** Optional JSON-lines file of metadata events loaded at start. */
  metadataFile?: string;
  /** Milliseconds between stage flushes; bounds freshness. */
  flushIntervalMs: number;
  /** Event-time window of stages 1 and 2, milliseconds. */
  windowMs: number;
  /** History bucket width of the stores, milliseconds; a multiple of windowMs. */
  bucketMs: number;
  /** Out-of-orderness tolerated before the watermark passes, milliseconds. */
  maxOutOfOrderMs: number;
  /** How long after the watermark passes a window still accepts records, milliseconds. */
  allowedLatenessMs: number;
  /** How long a flow waits for its remote address's owner to become known, milliseconds. */
  holdBackMs: number;
  /** Edges not seen for this long leave the live view, milliseconds. */
  liveTtlMs: number;
  /** History older than this is deleted, milliseconds. */
  retentionMs: number;
}

export function loadAllInOneConfig(env: NodeJS.ProcessEnv = process.env): AllInOneConfig {
  const r = new EnvReader(env);
  const config: AllInOneConfig = {
    dataDir: r.string('TOPOLOGY_DATA_DIR', '.data/all-in-one'),
    httpAddress: r.address('TOPOLOGY_HTTP_ADDRESS', '0.0.0.0:4380'),
    grpcAddress: r.address('TOPOLOGY_GRPC_ADDRESS', '0.0.0.0:50051'),
    otlpHttpAddress: r.address('TOPOLOGY_OTLP_HTTP_ADDRESS', '0.0.0.0:4318'),
    otlpGrpcAddress: r.address('TOPOLOGY_OTLP_GRPC_ADDRESS', '0.0.0.0:4317'),
    region: r.string('TOPOLOGY_REGION', 'local'),
    simulate: r.bool('TOPOLOGY_SIMULATE', true),
    simulationSeed: r.int('TOPOLOGY_SIMULATION_SEED', 42),
    simulationApps: r.int('TOPOLOGY_SIMULATION_APPS', 220, { min: 10, max: 100_000 }),
    metadataFile: r.optionalString('TOPOLOGY_METADATA_FILE'),
    flushIntervalMs: r.int('TOPOLOGY_FLUSH_INTERVAL_MS', 250, { min: 10, max: 60_000 }),
    windowMs: r.int('TOPOLOGY_WINDOW_MS', 10_000, { min: 1_000 }),
    bucketMs: r.int('TOPOLOGY_BUCKET_MS', 60_000, { min: 1_000 }),
    maxOutOfOrderMs: r.int('TOPOLOGY_MAX_OUT_OF_ORDER_MS', DEFAULT_FLOW_INGESTOR_CONFIG.maxOutOfOrderMs),
    allowedLatenessMs: r.int('TOPOLOGY_ALLOWED_LATENESS_MS', DEFAULT_FLOW_INGESTOR_CONFIG.allowedLatenessMs),
    holdBackMs: r.int('TOPOLOGY_HOLD_BACK_MS', DEFAULT_FLOW_INGESTOR_CONFIG.holdBackMs),
    liveTtlMs: r.int('TOPOLOGY_LIVE_TTL_MS', 15 * 60_000, { min: 1_000 }),
    retentionMs: r.int('TOPOLOGY_RETENTION_MS', 7 * 24 * 3_600_000, { min: 60_000 }),
  };
  const problems = [...r.problems];
  if (config.bucketMs % config.windowMs !== 0) {
    problems.push(`TOPOLOGY_BUCKET_MS (${config.bucketMs}) must be a multiple of TOPOLOGY_WINDOW_MS (${config.windowMs})`);
  }
  if (config.retentionMs < config.liveTtlMs) {
    problems.push(`TOPOLOGY_RETENTION_MS (${config.retentionMs}) must be at least TOPOLOGY_LIVE_TTL_MS (${config.liveTtlMs})`);
  }
  if (config.httpAddress.split(':')[1] === config.grpcAddress.split(':')[1]) {
    problems.push(`TOPOLOGY_HTTP_ADDRESS and TOPOLOGY_GRPC_ADDRESS use the same port`);
  }
  const listeners: [string, string][] = [
    ['TOPOLOGY_HTTP_ADDRESS', config.httpAddress],
    ['TOPOLOGY_GRPC_ADDRESS', config.grpcAddress],
    ['TOPOLOGY_OTLP_HTTP_ADDRESS', config.otlpHttpAddress],
    ['TOPOLOGY_OTLP_GRPC_ADDRESS', config.otlpGrpcAddress],
  ];
  for (const [name, address] of listeners.slice(2)) {
    const port = address.split(':').pop();
    const clash = listeners.find(([other, a]) => other !== name && port !== '0' && a.split(':').pop() === port);
    if (clash) problems.push(`${name} and ${clash[0]} use the same port ${port}`);
  }
  if (problems.length === 0) {
    const stages = networkStageConfigs(config);
    problems.push(
      ...validateFlowIngestorConfig(stages.ingestor).map((p) => `flow-ingestor: ${p}`),
      ...validateIntermediaryResolverConfig(stages.resolver).map((p) => `intermediary-resolver: ${p}`),
      ...validateNetworkEnricherConfig(stages.enricher).map((p) => `enricher: ${p}`),
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The three network stages' settings, derived from one set of pipeline settings so they agree. */
export function networkStageConfigs(c: Pick<AllInOneConfig, 'windowMs' | 'bucketMs' | 'maxOutOfOrderMs' | 'allowedLatenessMs' | 'holdBackMs'>): {
  ingestor: FlowIngestorConfig;
  resolver: IntermediaryResolverConfig;
  enricher: NetworkEnricherConfig;
} {
  // A window's state must outlive its lateness in every stage, or a late update would be taken for new data.
  const windowLifeMs = c.windowMs + c.maxOutOfOrderMs + c.allowedLatenessMs + c.holdBackMs;
  return {
    ingestor: { ...DEFAULT_FLOW_INGESTOR_CONFIG, windowMs: c.windowMs, maxOutOfOrderMs: c.maxOutOfOrderMs, allowedLatenessMs: c.allowedLatenessMs, holdBackMs: c.holdBackMs },
    resolver: { ...DEFAULT_INTERMEDIARY_RESOLVER_CONFIG, retentionMs: Math.max(DEFAULT_INTERMEDIARY_RESOLVER_CONFIG.retentionMs, 2 * windowLifeMs) },
    enricher: {
      ...DEFAULT_NETWORK_ENRICHER_CONFIG,
      windowMs: c.windowMs,
      bucketMs: c.bucketMs,
      retentionMs: Math.max(DEFAULT_NETWORK_ENRICHER_CONFIG.retentionMs, 2 * windowLifeMs + c.bucketMs),
    },
  };
}
