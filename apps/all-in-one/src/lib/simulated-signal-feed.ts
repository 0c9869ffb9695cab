import type { Bus, OutgoingMessage } from '@topology/bus';
import { ContentTypes, Headers, Topics } from '@topology/contracts';
import type { Clock } from '@topology/model';
import { IpcMetricsGenerator, generateTraces, otlpTraceRequest, planFleet, type Fleet } from '@topology/sim';

/** One interval of one simulated run: its index in the run and its time window. */
export interface SignalInterval {
  index: number;
  window: { startMs: number; endMs: number };
}

/**
 * A signal the simulated fleet's instrumented apps export: the topic it goes to and, per run of the
 * fleet, the messages of each interval. Intervals of a run are asked for in order, once each.
 */
export interface SimulatedSignal {
  /** Names the signal in logs. */
  name: string;
  topic: string;
  forRun(fleet: Fleet): (interval: SignalInterval) => OutgoingMessage[];
}

const OTLP_PROTOBUF = { [Headers.contentType]: ContentTypes.otlpProtobuf };

/** The IPC metrics of the instrumented apps' OpenTelemetry SDKs: one ExportMetricsServiceRequest per app and interval. */
export const IPC_METRICS_SIGNAL: SimulatedSignal = {
  name: 'IPC metrics',
  topic: Topics.otlpMetrics,
  forRun(fleet) {
    const generator = new IpcMetricsGenerator(fleet);
    return ({ index, window }) => generator.interval(index, window).requests.map((r) => ({ key: r.app, value: r.request, headers: OTLP_PROTOBUF }));
  },
};

/** The sampled traces (about 1% of requests) of the apps that trace: one ExportTraceServiceRequest per trace, keyed by trace id. */
export const TRACES_SIGNAL: SimulatedSignal = {
  name: 'traces',
  topic: Topics.otlpSpans,
  forRun(fleet) {
    const batches = generateTraces(fleet);
    return () => {
      const next = batches.next();
      return next.done === true ? [] : next.value.traces.map((t) => ({ key: t.traceId, value: otlpTraceRequest(t.spans), headers: OTLP_PROTOBUF }));
    };
  },
};

export interface SimulatedSignalFeedOptions {
  bus: Bus;
  clock: Clock;
  signal: SimulatedSignal;
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
 * Feeds one signal of the simulated fleet in real time, as its instrumented apps' OpenTelemetry
 * SDKs behind a Collector's Kafka exporter would: each interval's exports go onto the signal's
 * topic once the interval has ended on the wall clock. It plans its runs exactly as
 * `SimulatedFleetFeed` does, so every layer describes the same fleet as the network layer.
 */
export class SimulatedSignalFeed {
  private timer: NodeJS.Timeout | undefined;
  private source: ((interval: SignalInterval) => OutgoingMessage[]) | undefined;
  private runStartMs = 0;
  private runIntervals = 0;
  private next = 0;
  private stopped = false;
  private publishing: Promise<void> = Promise.resolve();
  /** Messages published so far. */
  exports = 0;

  constructor(private readonly o: SimulatedSignalFeedOptions) {}

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
    this.source = this.o.signal.forRun(fleet);
    this.runStartMs = startMs;
    this.runIntervals = fleet.intervals;
    this.next = 0;
  }

  private tick(): void {
    if (this.stopped) return;
    const interval = this.o.intervalMs ?? 10_000;
    const now = this.o.clock.now();
    if (!this.source) this.newRun(Math.floor(now / interval) * interval - (this.o.backfillMinutes ?? 2) * 60_000);
    const due: { source: (interval: SignalInterval) => OutgoingMessage[]; interval: SignalInterval }[] = [];
    for (;;) {
      if (this.next >= this.runIntervals) this.newRun(this.runStartMs + this.runIntervals * interval);
      const startMs = this.runStartMs + this.next * interval;
      if (!this.source || startMs + interval > now) break;
      due.push({ source: this.source, interval: { index: this.next, window: { startMs, endMs: startMs + interval } } });
      this.next++;
    }
    if (due.length > 0) {
      this.publishing = this.publishing
        .then(() => this.publish(due))
        .catch((e: unknown) => this.o.log?.(`simulated ${this.o.signal.name}: ${e instanceof Error ? e.message : String(e)}`));
    }
    const wait = Math.max(50, this.runStartMs + (this.next + 1) * interval - now);
    this.timer = setTimeout(() => this.tick(), wait);
    this.timer.unref();
  }

  private async publish(due: { source: (interval: SignalInterval) => OutgoingMessage[]; interval: SignalInterval }[]): Promise<void> {
    for (const d of due) {
      const messages = d.source(d.interval);
      if (messages.length === 0) continue;
      await this.o.bus.publish(this.o.signal.topic, messages);
      this.exports += messages.length;
    }
  }
}
