import { DEFAULT_HEALTH_THRESHOLDS, DEFAULT_IPC_INGESTOR_CONFIG, DEFAULT_PEER_NAMING, validateIpcIngestorConfig, type IpcIngestorConfig } from '@topology/ipc-ingest';
import { ConfigError, EnvReader, readStageAppConfig, stageAppConfigProblems, type StageAppConfig } from '@topology/runtime-pipeline';

export interface IpcIngestorAppConfig extends StageAppConfig {
  /** Folder of the embedded application store (`application.sqlite`), shared with the query gateway on this machine. */
  dataDir: string;
  /** History older than this is deleted from the store, milliseconds. */
  retentionMs: number;
  /** The ingestor's settings; its `bucketMs` is TOPOLOGY_BUCKET_MS, the store's bucket width. */
  ipc: IpcIngestorConfig;
}

const INITIAL_CUMULATIVE = ['auto', 'count', 'drop'] as const;

/** A fraction in [0, 1] (an error rate); a wrong value goes to the reader's problems. */
function rate(r: EnvReader, name: string, fallback: number): number {
  const v = r.optionalString(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) {
    r.problems.push(`${name}=${JSON.stringify(v)}: expected a number in [0, 1]`);
    return fallback;
  }
  return n;
}

/** `host=name` pairs, comma separated (`.stripe.com=payments-psp`): hosts of services outside the fleet and their node names. */
function externalHosts(r: EnvReader, name: string): Record<string, string> {
  const hosts: Record<string, string> = { ...DEFAULT_PEER_NAMING.externalHosts };
  for (const pair of r.list(name, [])) {
    const eq = pair.indexOf('=');
    const host = pair.slice(0, eq).trim();
    const node = pair.slice(eq + 1).trim();
    if (eq <= 0 || node.length === 0 || /\s/.test(node)) r.problems.push(`${name}: ${JSON.stringify(pair)} is not host=name`);
    else hosts[host] = node;
  }
  return hosts;
}

/**
 * Reads and checks the ipc-ingestor's environment; throws a ConfigError listing every wrong value.
 * Besides the stage apps' common settings: TOPOLOGY_DATA_DIR, TOPOLOGY_RETENTION_MS and the
 * TOPOLOGY_IPC_* settings of the ingestor (lateness, cumulative series, peer naming, health).
 */
export function loadIpcIngestorConfig(env: NodeJS.ProcessEnv = process.env): IpcIngestorAppConfig {
  const r = new EnvReader(env);
  const base = readStageAppConfig(r, 'ipc-ingestor', '0.0.0.0:4385');
  const dataDir = r.string('TOPOLOGY_DATA_DIR', '.data/application');
  const retentionMs = r.int('TOPOLOGY_RETENTION_MS', 7 * 24 * 3_600_000, { min: 60_000 });
  const d = DEFAULT_IPC_INGESTOR_CONFIG;
  const h = DEFAULT_HEALTH_THRESHOLDS;
  const ipc: IpcIngestorConfig = {
    bucketMs: base.network.bucketMs,
    allowedLatenessMs: r.int('TOPOLOGY_IPC_ALLOWED_LATENESS_MS', d.allowedLatenessMs, { min: 1 }),
    maxFutureMs: r.int('TOPOLOGY_IPC_MAX_FUTURE_MS', d.maxFutureMs, { min: 1 }),
    initialCumulative: r.oneOf('TOPOLOGY_IPC_INITIAL_CUMULATIVE', INITIAL_CUMULATIVE, d.initialCumulative),
    seriesTtlMs: r.int('TOPOLOGY_IPC_SERIES_TTL_MS', d.seriesTtlMs, { min: 1 }),
    peers: {
      internalHostSuffixes: r.list('TOPOLOGY_IPC_INTERNAL_HOST_SUFFIXES', DEFAULT_PEER_NAMING.internalHostSuffixes),
      externalHosts: externalHosts(r, 'TOPOLOGY_IPC_EXTERNAL_HOSTS'),
    },
    health: {
      windowMs: r.int('TOPOLOGY_IPC_HEALTH_WINDOW_MS', h.windowMs, { min: 1 }),
      minCalls: r.int('TOPOLOGY_IPC_HEALTH_MIN_CALLS', h.minCalls),
      degradedErrorRate: rate(r, 'TOPOLOGY_IPC_DEGRADED_ERROR_RATE', h.degradedErrorRate),
      unhealthyErrorRate: rate(r, 'TOPOLOGY_IPC_UNHEALTHY_ERROR_RATE', h.unhealthyErrorRate),
      degradedP99Ms: r.int('TOPOLOGY_IPC_DEGRADED_P99_MS', h.degradedP99Ms, { min: 1 }),
      unhealthyP99Ms: r.int('TOPOLOGY_IPC_UNHEALTHY_P99_MS', h.unhealthyP99Ms, { min: 1 }),
      eventTtlMs: r.int('TOPOLOGY_IPC_HEALTH_EVENT_TTL_MS', h.eventTtlMs, { min: 1 }),
    },
  };
  const problems = [...r.problems];
  if (problems.length === 0) problems.push(...stageAppConfigProblems(base), ...validateIpcIngestorConfig(ipc).map((p) => `ipc-ingestor: ${p}`));
  if (retentionMs < base.network.bucketMs) problems.push(`TOPOLOGY_RETENTION_MS (${retentionMs}) must be at least TOPOLOGY_BUCKET_MS (${base.network.bucketMs})`);
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...base, dataDir, retentionMs, ipc };
}
