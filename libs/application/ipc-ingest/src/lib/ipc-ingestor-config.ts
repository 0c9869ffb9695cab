import { DEFAULT_PEER_NAMING, type PeerNamingConfig } from './peer-naming';

/** Thresholds that turn a node's IPC error rate and latency into a health state. */
export interface HealthThresholds {
  /** Event-time milliseconds of calls a node's health is judged on, ending at its latest call. */
  windowMs: number;
  /** Fewer calls than this in the window say nothing: the node's health stays `unknown`. */
  minCalls: number;
  /** Error rate (0..1) from which a node is `degraded`. */
  degradedErrorRate: number;
  /** Error rate (0..1) from which a node is `unhealthy`. */
  unhealthyErrorRate: number;
  /** p99 latency in milliseconds from which a node is `degraded`. */
  degradedP99Ms: number;
  /** p99 latency in milliseconds from which a node is `unhealthy`. */
  unhealthyP99Ms: number;
  /** A health event stops overriding the derived health this many milliseconds after its time. */
  eventTtlMs: number;
}

export interface IpcIngestorConfig {
  /** Width of the application layer's history buckets, milliseconds (the store's `bucketMs`). */
  bucketMs: number;
  /**
   * Event-time milliseconds a bucket stays open after the latest call time seen has passed its end;
   * calls for a bucket closed longer than this are rejected `too-late`, and its state is dropped.
   */
  allowedLatenessMs: number;
  /** Calls dated more than this many milliseconds after the clock are rejected `invalid-time`. */
  maxFutureMs: number;
  /**
   * What the first point of a cumulative series (OTLP cumulative temporality, Prometheus counters)
   * counts for: `auto` counts it when the series started after this ingestor (its start time is
   * known and later), else only primes the series; `count` always counts it; `drop` never does.
   */
  initialCumulative: 'auto' | 'count' | 'drop';
  /**
   * Cumulative series whose latest point is this many milliseconds older than the latest call time
   * seen are forgotten (event time, so that a restart reading the same points forgets the same series).
   */
  seriesTtlMs: number;
  peers: PeerNamingConfig;
  health: HealthThresholds;
}

export const DEFAULT_HEALTH_THRESHOLDS: Readonly<HealthThresholds> = {
  windowMs: 300_000,
  minCalls: 10,
  degradedErrorRate: 0.05,
  unhealthyErrorRate: 0.25,
  degradedP99Ms: 2_000,
  unhealthyP99Ms: 10_000,
  eventTtlMs: 900_000,
};

export const DEFAULT_IPC_INGESTOR_CONFIG: Readonly<IpcIngestorConfig> = {
  bucketMs: 60_000,
  allowedLatenessMs: 600_000,
  maxFutureMs: 300_000,
  initialCumulative: 'auto',
  seriesTtlMs: 3_600_000,
  peers: DEFAULT_PEER_NAMING,
  health: DEFAULT_HEALTH_THRESHOLDS,
};

function isPositiveInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function isRate(v: unknown): v is number {
  return typeof v === 'number' && v >= 0 && v <= 1;
}

/** Every reason the configuration cannot work; empty when it can. */
export function validateIpcIngestorConfig(c: IpcIngestorConfig): string[] {
  const problems: string[] = [];
  for (const field of ['bucketMs', 'allowedLatenessMs', 'maxFutureMs', 'seriesTtlMs'] as const) {
    if (!isPositiveInteger(c[field])) problems.push(`${field} must be a positive whole number of milliseconds, got ${String(c[field])}`);
  }
  if (!['auto', 'count', 'drop'].includes(c.initialCumulative)) problems.push(`initialCumulative must be auto, count or drop, got ${String(c.initialCumulative)}`);
  const h = c.health;
  if (!isPositiveInteger(h.windowMs)) problems.push(`health.windowMs must be a positive whole number of milliseconds, got ${String(h.windowMs)}`);
  if (!isPositiveInteger(h.eventTtlMs)) problems.push(`health.eventTtlMs must be a positive whole number of milliseconds, got ${String(h.eventTtlMs)}`);
  if (!(Number.isInteger(h.minCalls) && h.minCalls >= 0)) problems.push(`health.minCalls must be a non-negative integer, got ${String(h.minCalls)}`);
  if (!isRate(h.degradedErrorRate) || !isRate(h.unhealthyErrorRate)) problems.push('health error rates must be within [0, 1]');
  else if (h.degradedErrorRate > h.unhealthyErrorRate) problems.push('health.degradedErrorRate must not exceed health.unhealthyErrorRate');
  if (!(h.degradedP99Ms > 0 && h.unhealthyP99Ms > 0)) problems.push('health latency thresholds must be positive');
  else if (h.degradedP99Ms > h.unhealthyP99Ms) problems.push('health.degradedP99Ms must not exceed health.unhealthyP99Ms');
  if (isPositiveInteger(h.windowMs) && isPositiveInteger(c.bucketMs) && h.windowMs < c.bucketMs) {
    problems.push(`health.windowMs (${h.windowMs}) must be at least bucketMs (${c.bucketMs}): health is judged on whole buckets`);
  }
  return problems;
}
