import { ConfigError, EnvReader, readStageAppConfig, stageAppConfigProblems, type StageAppConfig } from '@topology/runtime-pipeline';

export interface EnricherAppConfig extends StageAppConfig {
  /** Folder of the embedded network store (`network.sqlite`), shared with the query gateway on this machine. */
  dataDir: string;
  /** History older than this is deleted from the store, milliseconds. */
  retentionMs: number;
}

/** Reads and checks the enricher's environment; throws a ConfigError listing every wrong value. */
export function loadEnricherConfig(env: NodeJS.ProcessEnv = process.env): EnricherAppConfig {
  const r = new EnvReader(env);
  const base = readStageAppConfig(r, 'enricher', '0.0.0.0:4383');
  const dataDir = r.string('TOPOLOGY_DATA_DIR', '.data/network');
  const retentionMs = r.int('TOPOLOGY_RETENTION_MS', 7 * 24 * 3_600_000, { min: 60_000 });
  const problems = [...r.problems];
  if (problems.length === 0) problems.push(...stageAppConfigProblems(base));
  if (retentionMs < base.network.bucketMs) problems.push(`TOPOLOGY_RETENTION_MS (${retentionMs}) must be at least TOPOLOGY_BUCKET_MS (${base.network.bucketMs})`);
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...base, dataDir, retentionMs };
}
