import * as path from 'path';
import { ConfigError, EnvReader, loadRequestLayerConfig, readStageAppConfig, stageAppConfigProblems, type RequestLayerConfig, type StageAppConfig } from '@topology/runtime-pipeline';

export interface TraceAggregatorAppConfig extends StageAppConfig {
  /** Folder of the embedded ClickHouse engine's data (`<dataDir>/request`) when no server is named. */
  dataDir: string;
  /** Edge buckets and nodes older than this (event time) are deleted by ClickHouse TTL, milliseconds. */
  retentionMs: number;
  /** The request layer's settings: the ClickHouse server if any, the trace waits, span retention. */
  request: RequestLayerConfig;
}

/** Where the embedded engine keeps the request layer; one process at a time may open it. */
export function requestDataDir(config: Pick<TraceAggregatorAppConfig, 'dataDir'>): string {
  return path.join(config.dataDir, 'request');
}

/** Reads and checks the trace-aggregator's environment; throws a ConfigError listing every wrong value. */
export function loadTraceAggregatorConfig(env: NodeJS.ProcessEnv = process.env): TraceAggregatorAppConfig {
  const r = new EnvReader(env);
  const base = readStageAppConfig(r, 'trace-aggregator', '0.0.0.0:4386');
  const dataDir = r.string('TOPOLOGY_DATA_DIR', '.data');
  const retentionMs = r.int('TOPOLOGY_RETENTION_MS', 7 * 24 * 3_600_000, { min: 60_000 });
  const problems = [...r.problems];
  let request: RequestLayerConfig | undefined;
  try {
    request = loadRequestLayerConfig(env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
  }
  if (problems.length === 0) problems.push(...stageAppConfigProblems(base));
  if (retentionMs < base.network.bucketMs) problems.push(`TOPOLOGY_RETENTION_MS (${retentionMs}) must be at least TOPOLOGY_BUCKET_MS (${base.network.bucketMs})`);
  if (problems.length > 0 || request === undefined) throw new ConfigError(problems);
  return { ...base, dataDir, retentionMs, request };
}
