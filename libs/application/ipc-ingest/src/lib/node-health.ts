import type { Health, LatencyHistogram } from '@topology/model';
import type { HealthThresholds } from './ipc-ingestor-config';
import { quantileMs } from './latency-histogram';

/** What a node's calls looked like over the health window. */
export interface CallSignal {
  calls: number;
  errors: number;
  latency: LatencyHistogram | undefined;
}

/**
 * The health IPC metrics give a node: `unknown` below `minCalls`; `unhealthy` or `degraded` when
 * the error rate or the p99 latency reaches its threshold; `healthy` otherwise.
 */
export function healthFromCalls(signal: CallSignal, t: HealthThresholds): Health {
  if (signal.calls < Math.max(1, t.minCalls)) return 'unknown';
  const errorRate = signal.errors / signal.calls;
  const p99 = signal.latency ? quantileMs(signal.latency, 0.99) : undefined;
  if (errorRate >= t.unhealthyErrorRate || (p99 !== undefined && p99 >= t.unhealthyP99Ms)) return 'unhealthy';
  if (errorRate >= t.degradedErrorRate || (p99 !== undefined && p99 >= t.degradedP99Ms)) return 'degraded';
  return 'healthy';
}
