import type { Bus } from '@topology/bus';
import { ContentTypes, Headers, Topics } from '@topology/contracts';
import type { Clock } from '@topology/model';
import { publishFlows, publishMetadata } from '@topology/runtime-pipeline';
import { IpcMetricsGenerator, NAT_FLOW_LOG_FORMAT, flowRecordJson, generateTraces, generateTraffic, otlpTraceRequest, planFleet, type Fleet } from '@topology/sim';

/** One interval of one simulated run: its index in the run and its time window. */
export interface SignalInterval {
  index: number;
  window: { startMs: number; endMs: number };
}

/** Publishes one interval of a run; resolves with how many records or exports it published. */
export type IntervalPublisher = (interval: SignalInterval) => Promise<number>;

/**
 * A signal the simulated fleet emits: its flows, its instrumented apps' IPC metrics, their sampled
 * traces. Per run of the fleet it gives a publisher of each interval; intervals of a run are
 * published in order, once each.
 */
export interface SimulatedSignal {
  /** Names the signal in logs. */
  name: string;
  forRun(fleet: Fleet, bus: Bus): IntervalPublisher;
}

const OTLP_PROTOBUF = { [Headers.contentType]: ContentTypes.otlpProtobuf };

/** What the host agents report: metadata first (in the run's first interval), flow records, the NAT gateway's flow log. Counts records. */
export const FLOWS_SIGNAL: SimulatedSignal = {
  name: 'fleet',
  forRun(fleet, bus) {
    const batches = generateTraffic(fleet);
    return async () => {
      const next = batches.next();
      if (next.done === true) return 0;
      const b = next.value;
      if (b.metadata.length > 0) await publishMetadata(bus, Buffer.from(b.metadata.map((e) => JSON.stringify(e)).join('\n') + '\n'));
      if (b.flows.length > 0) await publishFlows(bus, 'canonical', Buffer.from(b.flows.map(flowRecordJson).join('\n') + '\n'));
      if (b.natFlowLog.length > 0) await publishFlows(bus, 'vpc', Buffer.from(b.natFlowLog.join('\n') + '\n'), NAT_FLOW_LOG_FORMAT);
      return b.flows.length + b.natFlowLog.length;
    };
  },
};

/** The IPC metrics of the instrumented apps' OpenTelemetry SDKs: one ExportMetricsServiceRequest per app and interval. Counts exports. */
export const IPC_METRICS_SIGNAL: SimulatedSignal = {
  name: 'IPC metrics',
  forRun(fleet, bus) {
    const generator = new IpcMetricsGenerator(fleet);
    return async ({ index, window }) => {
      const requests = generator.interval(index, window).requests;
      if (requests.length > 0) await bus.publish(Topics.otlpMetrics, requests.map((r) => ({ key: r.app, value: r.request, headers: OTLP_PROTOBUF })));
      return requests.length;
    };
  },
};

/** The sampled traces (about 1% of requests) of the apps that trace: one ExportTraceServiceRequest per trace, keyed by trace id. Counts traces. */
export const TRACES_SIGNAL: SimulatedSignal = {
  name: 'traces',
  forRun(fleet, bus) {
    const batches = generateTraces(fleet);
    return async () => {
      const next = batches.next();
      if (next.done === true || next.value.traces.length === 0) return 0;
      await bus.publish(Topics.otlpSpans, next.value.traces.map((t) => ({ key: t.traceId, value: otlpTraceRequest(t.spans), headers: OTLP_PROTOBUF })));
      return next.value.traces.length;
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
 * Feeds one signal of the simulated fleet in real time, as its host agents, or its apps'
 * OpenTelemetry SDKs behind a Collector's Kafka exporter, would: each interval goes out once it has
 * ended on the wall clock, a few minutes of the past at once at start so a fresh start shows a
 * whole map within seconds. Runs follow each other where the last ended. Every signal's feed
 * plans the same runs, so the three layers describe one fleet.
 */
export class SimulatedSignalFeed {
  private timer: NodeJS.Timeout | undefined;
  private source: IntervalPublisher | undefined;
  private runStartMs = 0;
  private runIntervals = 0;
  private next = 0;
  private stopped = false;
  private publishing: Promise<void> = Promise.resolve();
  /** Records (flows) or exports (metrics, traces) published so far. */
  published = 0;

  constructor(private readonly o: SimulatedSignalFeedOptions) {}

  start(): void {
    this.stopped = false;
    this.tick();
  }

  /** Resolves once every interval due so far has been published (at start: the backfill). */
  settled(): Promise<void> {
    return this.publishing;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.publishing;
  }

  private newRun(startMs: number): void {
    const interval = this.o.intervalMs ?? 10_000;
    const fleet = planFleet({ seed: this.o.seed, apps: this.o.apps, startMs, minutes: this.o.runMinutes ?? 60, intervalMs: interval });
    this.source = this.o.signal.forRun(fleet, this.o.bus);
    this.runStartMs = startMs;
    this.runIntervals = fleet.intervals;
    this.next = 0;
  }

  private tick(): void {
    if (this.stopped) return;
    const interval = this.o.intervalMs ?? 10_000;
    const now = this.o.clock.now();
    if (!this.source) this.newRun(Math.floor(now / interval) * interval - (this.o.backfillMinutes ?? 2) * 60_000);
    const due: { source: IntervalPublisher; interval: SignalInterval }[] = [];
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

  private async publish(due: { source: IntervalPublisher; interval: SignalInterval }[]): Promise<void> {
    for (const d of due) this.published += await d.source(d.interval);
  }
}
