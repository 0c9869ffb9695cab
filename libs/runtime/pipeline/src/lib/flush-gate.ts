/**
 * Lets bus handlers wait for the next flush of a stage, so that offsets are committed only once
 * what the records produced has been published or persisted. A flush runs every `intervalMs`, or
 * sooner once `maxPending` records wait for one.
 */
export class FlushGate {
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private pending = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly flush: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly maxPending: number,
    private readonly onError: (e: unknown) => void,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Resolves after a flush that began after this call has completed. */
  waitForFlush(records: number): Promise<void> {
    this.pending += records;
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.pending >= this.maxPending) void this.flushNow();
    return p;
  }

  /** Runs a flush now (or waits for the running one and runs another). */
  async flushNow(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
    const waiters = this.waiters;
    this.waiters = [];
    this.pending = 0;
    this.running = this.flush()
      .then(() => waiters.forEach((w) => w.resolve()))
      .catch((e: unknown) => {
        this.onError(e);
        waiters.forEach((w) => w.reject(e));
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.flushNow();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.flushNow().finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }
}
