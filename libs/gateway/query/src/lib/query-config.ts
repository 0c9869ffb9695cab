/**
 * When a dependency (or the diagnosed service itself) counts as failing, and how suspects are
 * ranked. See docs/adr/015-is-it-me-or-upstream.md for the scoring these feed.
 */
export interface DiagnosisConfig {
  /** Hops of dependencies examined when a request gives no depth (at most `maxDepth`). */
  defaultDepth: number;
  /** Error rate (0..1) of the calls a service serves at or above which it is failing. */
  errorRateThreshold: number;
  /** Calls in the range below which a service's error rate is too thin to judge (health decides instead). */
  minCalls: number;
  /** p99 latency, in milliseconds, at or above which a service counts as slow. */
  latencyP99ThresholdMs: number;
  /** Share (0..1) of retransmitted packets on the connections to a service at or above which the network is in trouble. */
  retransmitShareThreshold: number;
  /** Factor (0..1] applied per hop beyond the first: a dependency two hops away weighs this much less than a direct one. */
  nearnessDecay: number;
  /**
   * Share (0..1) of a service's failure that the failing calls it makes itself must account for
   * before its failure counts as passed on from its dependencies rather than its own.
   */
  explainedShare: number;
  /** Suspects returned, highest score first. */
  maxSuspects: number;
}

/** Guards and timing of the query service. Every default lives here. */
export interface QueryConfig {
  /** Largest traversal depth a request may ask for, in hops; deeper requests are rejected. */
  maxDepth: number;
  /** Nodes per page when a request gives no page size. */
  defaultPageSize: number;
  /** Largest page, in nodes; larger page sizes are clamped to it. */
  maxPageSize: number;
  /** Nodes one traversal may visit (per layer and after merging); beyond it the answer is `truncated`. */
  maxVisited: number;
  /** How long each layer may take to answer, in milliseconds, before it counts as timed out. */
  layerTimeoutMs: number;
  /** Width of the live view (a request whose range is 0/0), in milliseconds back from now. */
  liveTtlMs: number;
  diagnosis: DiagnosisConfig;
}

/** What a deployment may override: any top-level field, and any field of `diagnosis`. */
export type QueryConfigOverrides = Partial<Omit<QueryConfig, 'diagnosis'>> & { diagnosis?: Partial<DiagnosisConfig> };

export const DEFAULT_DIAGNOSIS_CONFIG: Readonly<DiagnosisConfig> = {
  defaultDepth: 3,
  errorRateThreshold: 0.05,
  minCalls: 20,
  latencyP99ThresholdMs: 1000,
  retransmitShareThreshold: 0.02,
  nearnessDecay: 0.7,
  explainedShare: 0.5,
  maxSuspects: 20,
};

export const DEFAULT_QUERY_CONFIG: Readonly<QueryConfig> = {
  maxDepth: 6,
  defaultPageSize: 100,
  maxPageSize: 1000,
  maxVisited: 5000,
  layerTimeoutMs: 2000,
  liveTtlMs: 15 * 60 * 1000,
  diagnosis: DEFAULT_DIAGNOSIS_CONFIG,
};

const INTEGER_FIELDS = ['maxDepth', 'defaultPageSize', 'maxPageSize', 'maxVisited', 'layerTimeoutMs', 'liveTtlMs'] as const;
const DIAGNOSIS_INTEGER_FIELDS = ['defaultDepth', 'minCalls', 'latencyP99ThresholdMs', 'maxSuspects'] as const;
/** Fractions in (0, 1]. */
const DIAGNOSIS_SHARE_FIELDS = ['errorRateThreshold', 'retransmitShareThreshold', 'nearnessDecay', 'explainedShare'] as const;

/** Fills defaults and rejects, at boot, every combination that cannot work (all problems at once). */
export function resolveQueryConfig(given: QueryConfigOverrides = {}): QueryConfig {
  const config: QueryConfig = { ...DEFAULT_QUERY_CONFIG, diagnosis: { ...DEFAULT_DIAGNOSIS_CONFIG } };
  for (const key of INTEGER_FIELDS) {
    const value = given[key];
    if (value !== undefined) config[key] = value;
  }
  for (const key of Object.keys(DEFAULT_DIAGNOSIS_CONFIG) as (keyof DiagnosisConfig)[]) {
    const value = given.diagnosis?.[key];
    if (value !== undefined) config.diagnosis[key] = value;
  }
  const problems: string[] = [];
  for (const key of INTEGER_FIELDS) {
    const value = config[key];
    if (!Number.isSafeInteger(value) || value < 1) problems.push(`${key} must be a positive integer, got ${value}`);
  }
  for (const key of DIAGNOSIS_INTEGER_FIELDS) {
    const value = config.diagnosis[key];
    if (!Number.isSafeInteger(value) || value < 1) problems.push(`diagnosis.${key} must be a positive integer, got ${value}`);
  }
  for (const key of DIAGNOSIS_SHARE_FIELDS) {
    const value = config.diagnosis[key];
    if (!(value > 0 && value <= 1)) problems.push(`diagnosis.${key} must be within (0, 1], got ${value}`);
  }
  if (config.defaultPageSize > config.maxPageSize) {
    problems.push(`defaultPageSize (${config.defaultPageSize}) exceeds maxPageSize (${config.maxPageSize})`);
  }
  if (config.maxPageSize > config.maxVisited) {
    problems.push(`maxPageSize (${config.maxPageSize}) exceeds maxVisited (${config.maxVisited}): no traversal could fill a page`);
  }
  if (problems.length > 0) throw new Error(`invalid query config: ${problems.join('; ')}`);
  return config;
}
