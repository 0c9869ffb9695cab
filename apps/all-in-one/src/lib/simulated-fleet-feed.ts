import type { Bus } from '@topology/bus';
import type { Clock } from '@topology/model';
import { NAT_FLOW_LOG_FORMAT, flowRecordJson, simulateFleet, type SimulationBatch } from '@topology/sim';
import { publishFlows, publishMetadata } from '@topology/runtime-pipeline';

export interface SimulatedFleetFeedOptions {
  bus: Bus;
  clock: Clock;
  seed: number;
  apps: number;
  /** Reporting interval of the simulated agents, milliseconds. */
  intervalMs?: number;
  /** Minutes of past traffic published at once at start, so the map is complete immediately. */
  backfillMinutes?: number;
  /** Minutes of one simulated run; the fleet then starts a new run where the last ended. */
  runMinutes?: number;
  log?: (message: string) => void;
}

/**
 * Feeds the simulated fleet into the pipeline in real time, as its host agents would: each
 * interval's records are published when that interval has ended on the wall clock. A few minutes
 * of past traffic go first, so a fresh start shows a whole map within seconds.
 */
export class SimulatedFleetFeed {
  private timer: NodeJS.Timeout | undefined;
  private batches: Generator<SimulationBatch> | undefined;
  private next: SimulationBatch | undefined;
  private stopped = false;
  private publishing: Promise<void> = Promise.resolve();
  records = 0;

  constructor(private readonly o: SimulatedFleetFeedOptions) {}

  start(): void {
    this.stopped = false;
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.publishing;
  }

  private newRun(startMs: number): Generator<SimulationBatch> {
    return simulateFleet({
      seed: this.o.seed,
      apps: this.o.apps,
      startMs,
      minutes: this.o.runMinutes ?? 60,
      intervalMs: this.o.intervalMs ?? 10_000,
    });
  }

  private tick(): void {
    if (this.stopped) return;
    const interval = this.o.intervalMs ?? 10_000;
    const now = this.o.clock.now();
    if (!this.batches) {
      const start = Math.floor(now / interval) * interval - (this.o.backfillMinutes ?? 2) * 60_000;
      this.batches = this.newRun(start);
    }
    const due: SimulationBatch[] = [];
    for (;;) {
      if (!this.next) {
        const r = this.batches.next();
        if (r.done) {
          // A new run continues where this one ended; addresses reused across runs are ordinary churn.
          const last = due[due.length - 1]?.window.endMs ?? Math.floor(now / interval) * interval;
          this.batches = this.newRun(last);
          continue;
        }
        this.next = r.value;
      }
      if (this.next.window.endMs > now) break;
      due.push(this.next);
      this.next = undefined;
    }
    this.publishing = this.publishing.then(() => this.publish(due)).catch((e: unknown) => this.o.log?.(`simulated fleet: ${e instanceof Error ? e.message : String(e)}`));
    const wait = this.next ? Math.max(50, this.next.window.endMs - now) : interval;
    this.timer = setTimeout(() => this.tick(), wait);
    this.timer.unref();
  }

  private async publish(batches: SimulationBatch[]): Promise<void> {
    for (const b of batches) {
      if (b.metadata.length > 0) await publishMetadata(this.o.bus, Buffer.from(b.metadata.map((e) => JSON.stringify(e)).join('\n') + '\n'));
      if (b.flows.length > 0) await publishFlows(this.o.bus, 'canonical', Buffer.from(b.flows.map(flowRecordJson).join('\n') + '\n'));
      if (b.natFlowLog.length > 0) await publishFlows(this.o.bus, 'vpc', Buffer.from(b.natFlowLog.join('\n') + '\n'), NAT_FLOW_LOG_FORMAT);
      this.records += b.flows.length + b.natFlowLog.length;
    }
  }
}
