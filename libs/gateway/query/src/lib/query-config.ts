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
}

export const DEFAULT_QUERY_CONFIG: Readonly<QueryConfig> = {
  maxDepth: 6,
  defaultPageSize: 100,
  maxPageSize: 1000,
  maxVisited: 5000,
  layerTimeoutMs: 2000,
  liveTtlMs: 15 * 60 * 1000,
};

/** Fills defaults and rejects, at boot, every combination that cannot work (all problems at once). */
export function resolveQueryConfig(given: Partial<QueryConfig> = {}): QueryConfig {
  const config: QueryConfig = { ...DEFAULT_QUERY_CONFIG };
  for (const key of Object.keys(DEFAULT_QUERY_CONFIG) as (keyof QueryConfig)[]) {
    const value = given[key];
    if (value !== undefined) config[key] = value;
  }
  const problems: string[] = [];
  for (const key of Object.keys(config) as (keyof QueryConfig)[]) {
    const value = config[key];
    if (!Number.isSafeInteger(value) || value < 1) problems.push(`${key} must be a positive integer, got ${value}`);
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
