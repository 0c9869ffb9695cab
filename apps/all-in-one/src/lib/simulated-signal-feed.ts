import type { Bus } from '@topology/bus';
import { ContentTypes, Headers, Topics } from '@topology/contracts';
import type { Clock } from '@topology/model';
import { IpcMetricsGenerator, planFleet } from '@topology/sim';

/** An interval whose exports are due, with the run it belongs to. */
interface Due {
  generator: IpcMetricsGenerator;
  index: number;
  window: { startMs: number; endMs: number };
}

export interface SimulatedIpcFeedOptions {
  bus: Bus;
  clock: Clock;
  seed: number;
  apps: number;
  /** Reporting interval of the simulated SDKs, milliseconds (the network feed's interval). */
  intervalMs?: number;
  /** Minutes of past exports published at once at start. */
  backfillMinutes?: number;
  /** Minutes of one simulated run; the same as the network feed's, so both describe one fleet. */
  runMinutes?: number;
  log?: (message: string) => void;
}

/**
 * Feeds the simulated fleet's IPC metrics in real time, as its instrumented apps' OpenTelemetry
 * SDKs behind a Collector's Kafka exporter would: each interval's exports go onto `otlp_metrics`
 * once the interval has ended on the wall clock. It plans its runs exactly as `SimulatedFleetFeed`
 * does, so the application layer describes the same fleet as the network layer.
 */
export class SimulatedIpcFeed {
  private timer: NodeJS.Timeout | undefined;
  private generator: IpcMetricsGenerator | undefined;
  private runStartMs = 0;
  private runIntervals = 0;
  private next = 0;
  private stopped = false;
  private publishing: Promise<void> = Promise.resolve();
  exports = 0;

  constructor(private readonly o: SimulatedIpcFeedOptions) {}

  start(): void {
    this.stopped = false;
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.publishing;
  }

  private newRun(startMs: number): void {
    const interval = this.o.intervalMs ?? 10_000;
    const fleet = planFleet({ seed: this.o.seed, apps: this.o.apps, startMs, minutes: this.o.runMinutes ?? 60, intervalMs: interval });
    this.generator = new IpcMetricsGenerator(fleet);
    this.runStartMs = startMs;
    this.runIntervals = fleet.intervals;
    this.next = 0;
  }

  private tick(): void {
    if (this.stopped) return;
    const interval = this.o.intervalMs ?? 10_000;
    const now = this.o.clock.now();
    if (!this.generator) this.newRun(Math.floor(now / interval) * interval - (this.o.backfillMinutes ?? 2) * 60_000);
    const due: Due[] = [];
    for (;;) {
      if (this.next >= this.runIntervals) this.newRun(this.runStartMs + this.runIntervals * interval);
      const startMs = this.runStartMs + this.next * interval;
      if (!this.generator || startMs + interval > now) break;
      due.push({ generator: this.generator, index: this.next, window: { startMs, endMs: startMs + interval } });
      this.next++;
    }
    if (due.length > 0) {
      this.publishing = this.publishing.then(() => this.publish(due)).catch((e: unknown) => this.o.log?.(`simulated IPC metrics: ${e instanceof Error ? e.message : String(e)}`));
    }
    const wait = Math.max(50, this.runStartMs + (this.next + 1) * interval - now);
    this.timer = setTimeout(() => this.tick(), wait);
    this.timer.unref();
  }

  private async publish(due: Due[]): Promise<void> {
    for (const d of due) {
      const batch = d.generator.interval(d.index, d.window);
      const headers = { [Headers.contentType]: ContentTypes.otlpProtobuf };
      await this.o.bus.publish(
        Topics.otlpMetrics,
        batch.requests.map((r) => ({ key: r.app, value: r.request, headers })),
      );
      this.exports += batch.requests.length;
    }
  }
}
