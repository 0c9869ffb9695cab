import type { Clock } from '@topology/model';

/**
 * A clock that stops while an input makes no progress. Stage state that waits in processing time
 * (stage 1 holds a flow back until its remote owner's evidence is read) would otherwise give up
 * while a broker is down or a consumer rejoins: evidence cannot arrive, yet the wait runs out.
 * Inputs that report activity (a fetch answered, a batch handled) are tracked; when the least
 * recently active one has been silent for `stallMs`, time stands still until it is active again.
 */
export class ProgressClock implements Clock {
  private readonly lastActivity = new Map<string, number>();
  private pausedMs = 0;
  private pausedSince: number | undefined;

  constructor(
    private readonly base: Clock,
    private readonly stallMs: number,
  ) {}

  /** An input fetched or handled something. */
  activity(input: string): void {
    const t = this.base.now();
    this.settle(t);
    this.lastActivity.set(input, t);
    this.settle(t);
  }

  /** The input no longer exists here (revoked, closed). */
  forget(input: string): void {
    const t = this.base.now();
    this.settle(t);
    this.lastActivity.delete(input);
    this.settle(t);
  }

  now(): number {
    const t = this.base.now();
    this.settle(t);
    return (this.pausedSince ?? t) - this.pausedMs;
  }

  /** Milliseconds the clock has stood still so far. */
  stoodStillMs(): number {
    const t = this.base.now();
    this.settle(t);
    return this.pausedMs + (this.pausedSince === undefined ? 0 : t - this.pausedSince);
  }

  /** Starts a pause where the least recently active input went silent too long; ends it at `t` once none is. */
  private settle(t: number): void {
    let oldest = Number.POSITIVE_INFINITY;
    for (const at of this.lastActivity.values()) if (at < oldest) oldest = at;
    const stalledFrom = oldest + this.stallMs;
    const stalled = t > stalledFrom;
    if (stalled && this.pausedSince === undefined) this.pausedSince = stalledFrom;
    else if (!stalled && this.pausedSince !== undefined) {
      this.pausedMs += Math.max(0, t - this.pausedSince);
      this.pausedSince = undefined;
    }
  }
}
