export interface NetworkEnricherConfig {
  /** Width of a history bucket in milliseconds; a whole multiple of `windowMs`. */
  bucketMs: number;
  /** Width of the upstream tumbling windows in milliseconds (stage 1's `windowMs`). */
  windowMs: number;
  /**
   * Milliseconds of processing time after which a bucket that received no contribution is dropped
   * from memory. Must cover the time during which upstream stages can still revise a window (stage 2's
   * retention): a contribution arriving after its bucket was dropped rewrites the bucket from what
   * is left in memory.
   */
  retentionMs: number;
}

export const DEFAULT_NETWORK_ENRICHER_CONFIG: Readonly<NetworkEnricherConfig> = {
  bucketMs: 60_000,
  windowMs: 10_000,
  retentionMs: 600_000,
};

function isPositiveInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

/** Every reason the configuration cannot work; empty when it can. */
export function validateNetworkEnricherConfig(c: NetworkEnricherConfig): string[] {
  const problems: string[] = [];
  for (const field of ['bucketMs', 'windowMs', 'retentionMs'] as const) {
    if (!isPositiveInteger(c[field])) problems.push(`${field} must be a positive whole number of milliseconds, got ${String(c[field])}`);
  }
  if (problems.length > 0) return problems;
  if (c.bucketMs % c.windowMs !== 0) {
    // A window straddling two buckets would have to be split, and its traffic cannot be apportioned in time.
    problems.push(`bucketMs (${c.bucketMs}) must be a multiple of windowMs (${c.windowMs})`);
  }
  if (c.retentionMs < c.bucketMs) {
    problems.push(`retentionMs (${c.retentionMs}) must be at least bucketMs (${c.bucketMs}), or a bucket is forgotten while its windows still arrive`);
  }
  return problems;
}
