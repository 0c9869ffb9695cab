/** Settings of the intermediary resolver (stage 2). */
export interface IntermediaryResolverConfig {
  /**
   * Most intermediaries one resolved path may pass through (the length of its `via`), counted
   * from the first. When a chain would go deeper, the path stops at the intermediary where it
   * reaches this depth and that intermediary becomes the edge's target. At least 1.
   */
  maxChainDepth: number;
  /**
   * Milliseconds of processing time a window's state is kept after its end, or after its last
   * update when that is later. Must exceed the time stage 1 keeps a window open (allowed lateness
   * plus out-of-order slack) plus a few flush intervals per chain hop.
   */
  retentionMs: number;
}

export const DEFAULT_INTERMEDIARY_RESOLVER_CONFIG: Readonly<IntermediaryResolverConfig> = {
  maxChainDepth: 4,
  retentionMs: 300_000,
};

/** Problems that make the configuration unusable; empty when it can run. */
export function validateIntermediaryResolverConfig(config: IntermediaryResolverConfig): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(config.maxChainDepth) || config.maxChainDepth < 1 || config.maxChainDepth > 32) {
    problems.push(`maxChainDepth must be an integer from 1 to 32, got ${config.maxChainDepth}`);
  }
  if (!Number.isFinite(config.retentionMs) || config.retentionMs <= 0) {
    problems.push(`retentionMs must be a positive number of milliseconds, got ${config.retentionMs}`);
  }
  return problems;
}
