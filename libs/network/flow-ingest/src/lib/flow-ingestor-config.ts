/** Settings of stage 1. Times are milliseconds; "event time" is the flows' own clock. */
export interface FlowIngestorConfig {
  /** Tumbling window length, event time. Stage 3's history bucket must be a multiple of it. */
  windowMs: number;
  /** The watermark of a scope trails the newest flow start seen in it by this much, event time. */
  maxOutOfOrderMs: number;
  /** A window stays open this long after the watermark passed its end; later records are rejected `too-late`. */
  allowedLatenessMs: number;
  /** How long a flow with an end of unknown owner waits for the owner, processing time. */
  holdBackMs: number;
  /** Flows held at once; beyond it the oldest are attributed at once (to Unknown if still unowned). */
  maxHeldFlows: number;
  /** How long past an ownership range's last evidence its owner still answers, event time. */
  ownershipGraceMs: number;
  /**
   * How long before an ownership range's first evidence its owner already answers, event time: the
   * clock skew between the hosts that report the two ends of one connection.
   */
  ownershipLeadMs: number;
  /** An extended ownership range is published again at most this often, processing time. */
  ownershipPublishIntervalMs: number;
  /** Ownership ranges and IP assignments are forgotten this long after their end, event time. */
  ownershipRetentionMs: number;
  /** Ownership ranges kept per address; beyond it the oldest is forgotten. */
  maxOwnershipRangesPerIp: number;
  /** A flow starting further than this ahead of the processing clock is rejected `invalid-time`. */
  maxFutureSkewMs: number;
}

export const DEFAULT_FLOW_INGESTOR_CONFIG: Readonly<FlowIngestorConfig> = Object.freeze({
  windowMs: 10_000,
  maxOutOfOrderMs: 5_000,
  allowedLatenessMs: 30_000,
  holdBackMs: 15_000,
  maxHeldFlows: 200_000,
  ownershipGraceMs: 15_000,
  ownershipLeadMs: 1_000,
  ownershipPublishIntervalMs: 5_000,
  ownershipRetentionMs: 15 * 60_000,
  maxOwnershipRangesPerIp: 16,
  maxFutureSkewMs: 5 * 60_000,
});

/** Every problem of a configuration; empty when it can work. */
export function validateFlowIngestorConfig(config: FlowIngestorConfig): string[] {
  const problems: string[] = [];
  const positive: (keyof FlowIngestorConfig)[] = ['windowMs', 'holdBackMs', 'maxHeldFlows', 'ownershipPublishIntervalMs', 'ownershipRetentionMs', 'maxOwnershipRangesPerIp'];
  const nonNegative: (keyof FlowIngestorConfig)[] = ['maxOutOfOrderMs', 'allowedLatenessMs', 'ownershipGraceMs', 'ownershipLeadMs', 'maxFutureSkewMs'];
  for (const field of positive) {
    const value = config[field];
    if (!Number.isFinite(value) || value <= 0) problems.push(`${field} must be a positive number (got ${value})`);
  }
  for (const field of nonNegative) {
    const value = config[field];
    if (!Number.isFinite(value) || value < 0) problems.push(`${field} must be zero or more (got ${value})`);
  }
  if (!Number.isInteger(config.maxHeldFlows)) problems.push(`maxHeldFlows must be an integer (got ${config.maxHeldFlows})`);
  if (!Number.isInteger(config.maxOwnershipRangesPerIp)) problems.push(`maxOwnershipRangesPerIp must be an integer (got ${config.maxOwnershipRangesPerIp})`);
  if (problems.length > 0) return problems;

  if (config.holdBackMs > config.maxOutOfOrderMs + config.allowedLatenessMs) {
    problems.push(
      `holdBackMs (${config.holdBackMs}) exceeds maxOutOfOrderMs + allowedLatenessMs (${config.maxOutOfOrderMs + config.allowedLatenessMs}): ` +
        'flows released at the end of their hold-back would find their window closed',
    );
  }
  if (config.ownershipPublishIntervalMs >= config.holdBackMs) {
    problems.push(
      `ownershipPublishIntervalMs (${config.ownershipPublishIntervalMs}) must be below holdBackMs (${config.holdBackMs}): ` +
        'other instances would expire flows before the extended ranges reach them',
    );
  }
  const needed = config.windowMs + config.maxOutOfOrderMs + config.allowedLatenessMs + config.ownershipGraceMs;
  if (config.ownershipRetentionMs < needed) {
    problems.push(
      `ownershipRetentionMs (${config.ownershipRetentionMs}) must cover a window, its lateness and the grace (${needed}): ` +
        'ranges would be forgotten while records of their time are still accepted',
    );
  }
  return problems;
}
