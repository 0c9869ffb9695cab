import type { DeadLetterReason, Rejection } from '@topology/contracts';
import type { CallOutcome, Side } from './call-outcome';
import type { PeerNaming } from './peer-naming';

/** The formats IPC metrics arrive in. Their order is the preference between views of equal size. */
export const IPC_FORMATS = ['otlp', 'spectator', 'istio'] as const;
export type IpcFormat = (typeof IPC_FORMATS)[number];

/**
 * Calls one reporter saw over one interval, with one outcome, on one endpoint of one peer: what
 * every reader turns its input into. Readers fill one reused instance per data point, so the
 * aggregator must copy what it keeps.
 */
export interface CallSample {
  format: IpcFormat;
  side: Side;
  /** App of the reporting service. */
  reporter: string;
  /** The other end as the reporter named it (for a server: the caller), if it did. */
  peerNaming: PeerNaming | undefined;
  peer: string | undefined;
  protocol: string;
  endpoint: string;
  outcome: CallOutcome;
  calls: number;
  /** The interval the calls fall in, epoch milliseconds: (startMs, timeMs]. */
  startMs: number;
  timeMs: number;
  /** Dense latency buckets: `latencyCounts[i]` for `latencyBoundsMs[i]`, one more above the last bound. */
  latencyBoundsMs: readonly number[] | undefined;
  latencyCounts: ArrayLike<number> | undefined;
  /** A single latency bucket (Spectator's percentile counters): its upper bound and count. */
  latencyBucketMs: number | undefined;
  /** The upper bound of the bucket below it (the reporter's scheme), when known. */
  latencyBucketLowerMs: number | undefined;
  latencyBucketCount: number;
  /**
   * For an increase of a cumulative series, where its baseline (the series' previous point) was
   * read, when that is tracked: a restart must read that message again to take the increase again.
   */
  baselineSource: string | undefined;
  baselineOffset: number;
}

export function newCallSample(format: IpcFormat): CallSample {
  return {
    format,
    side: 'client',
    reporter: '',
    peerNaming: undefined,
    peer: undefined,
    protocol: '',
    endpoint: '',
    outcome: { error: false, statusClass: undefined },
    calls: 0,
    startMs: 0,
    timeMs: 0,
    latencyBoundsMs: undefined,
    latencyCounts: undefined,
    latencyBucketMs: undefined,
    latencyBucketLowerMs: undefined,
    latencyBucketCount: 0,
    baselineSource: undefined,
    baselineOffset: 0,
  };
}

/** Where readers put samples; returns why a sample was refused, or undefined when it was taken. */
export interface CallSink {
  accept(sample: CallSample): DeadLetterReason | undefined;
}

/**
 * Rejections of one input message, one per distinct problem with how many data points it hit, so a
 * message with a million bad points dead-letters once, not a million times.
 */
export class RejectionTally {
  private readonly byProblem = new Map<string, { reason: DeadLetterReason; message: string; count: number }>();

  add(reason: DeadLetterReason, message: string): void {
    const key = `${reason} ${message}`;
    const known = this.byProblem.get(key);
    if (known) known.count++;
    else this.byProblem.set(key, { reason, message, count: 1 });
  }

  get size(): number {
    return this.byProblem.size;
  }

  rejections(raw: string | Uint8Array): Rejection[] {
    return [...this.byProblem.values()].map((p) => ({ reason: p.reason, message: p.count > 1 ? `${p.message} (${p.count} data points)` : p.message, raw }));
  }
}
