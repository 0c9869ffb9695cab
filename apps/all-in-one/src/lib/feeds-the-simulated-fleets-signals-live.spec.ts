import type { BusMessage } from '@topology/bus';
import { InProcessBus } from '@topology/bus-in-process';
import { Topics } from '@topology/contracts';
import { ManualClock } from '@topology/model';
import { IpcMetricsGenerator, TraceInstrumentation, fleetMetadata, generateTraces, generateTraffic, planFleet } from '@topology/sim';
import { SpanDecoder } from '@topology/trace-aggregate';
import { FLOWS_SIGNAL, IPC_METRICS_SIGNAL, SimulatedSignalFeed, TRACES_SIGNAL, type SimulatedSignal } from './simulated-signal-feed';

const INTERVAL_MS = 10_000;
const NOW = Date.UTC(2025, 2, 3, 9, 0, 4);
// The run starts a minute before the current interval: six whole intervals have ended.
const RUN_START_MS = Math.floor(NOW / INTERVAL_MS) * INTERVAL_MS - 60_000;
const ENDED = 6;
const EVERY_TOPIC = [Topics.metadata, Topics.flowsCanonical, Topics.flowsVpc, Topics.otlpMetrics, Topics.otlpSpans];

/** Starts a feed at NOW and stops it: what the backfill published, on every topic, and the feed's count. */
async function feedOnce(signal: SimulatedSignal): Promise<{ got: BusMessage[]; published: number }> {
  const bus = new InProcessBus({ defaultPartitions: 1 });
  const got: BusMessage[] = [];
  await bus.subscribe({ topics: EVERY_TOPIC, groupId: 'observer', handler: async (b) => void got.push(...b.messages) });
  const feed = new SimulatedSignalFeed({ bus, clock: new ManualClock(NOW), signal, seed: 3, apps: 40, intervalMs: INTERVAL_MS, backfillMinutes: 1, runMinutes: 10 });
  feed.start();
  await feed.stop();
  await bus.settled();
  await bus.close();
  return { got, published: feed.published };
}

const fleet = () => planFleet({ seed: 3, apps: 40, startMs: RUN_START_MS, minutes: 10, intervalMs: INTERVAL_MS });

describe('the live simulated signal feeds', () => {
  it('publish at start the flows of the backfilled intervals that have ended, the fleet’s metadata first', async () => {
    const { got, published } = await feedOnce(FLOWS_SIGNAL);
    const batches = [...generateTraffic(fleet())].slice(0, ENDED);
    const records = batches.reduce((n, b) => n + b.flows.length + b.natFlowLog.length, 0);
    expect(records).toBeGreaterThan(0);
    expect(published).toBe(records);
    expect(got[0]?.topic).toBe(Topics.metadata);
    expect(new Set(got.map((m) => m.topic))).toEqual(new Set([Topics.metadata, Topics.flowsCanonical, Topics.flowsVpc]));
    const lines = (topic: string) => got.filter((m) => m.topic === topic).reduce((n, m) => n + Buffer.from(m.value).toString('utf8').split('\n').filter((l) => l !== '').length, 0);
    expect(lines(Topics.flowsCanonical)).toBe(batches.reduce((n, b) => n + b.flows.length, 0));
    expect(lines(Topics.flowsVpc)).toBe(batches.reduce((n, b) => n + b.natFlowLog.length, 0));
    expect(lines(Topics.metadata)).toBe(fleetMetadata(fleet()).length);
  });

  it('publish at start the IPC metric exports of the backfilled intervals that have ended, from instrumented apps only', async () => {
    const { got, published } = await feedOnce(IPC_METRICS_SIGNAL);
    const generator = new IpcMetricsGenerator(fleet());
    let expected = 0;
    for (let i = 0; i < ENDED; i++) expected += generator.interval(i, { startMs: RUN_START_MS + i * INTERVAL_MS, endMs: RUN_START_MS + (i + 1) * INTERVAL_MS }).requests.length;
    expect(got.length).toBe(expected);
    expect(published).toBe(expected);
    expect(got.every((m) => m.topic === Topics.otlpMetrics)).toBe(true);
    const instrumented = new Set(generator.truth().instrumentedApps);
    expect(got.every((m) => m.key !== null && instrumented.has(m.key))).toBe(true);
  });

  it('publish the sampled traces of the ended intervals on otlp_spans, one request per trace, from tracing apps only', async () => {
    const { got, published } = await feedOnce(TRACES_SIGNAL);
    const expected = [...generateTraces(fleet())].slice(0, ENDED).flatMap((b) => b.traces);
    expect(expected.length).toBeGreaterThan(0);
    expect(got.every((m) => m.topic === Topics.otlpSpans)).toBe(true);
    expect(got.map((m) => m.key)).toEqual(expected.map((t) => t.traceId));
    expect(published).toBe(expected.length);
    const decoder = new SpanDecoder();
    const tracing = new Set(new TraceInstrumentation(fleet()).apps());
    for (const [i, message] of got.entries()) {
      const { spans, rejections } = decoder.otlpProtobuf(message.value);
      expect(rejections).toEqual([]);
      expect(spans.length).toBe(expected[i]?.spans.length);
      for (const span of spans) {
        expect(span.traceId).toBe(message.key);
        expect(tracing.has(span.process.service)).toBe(true);
        expect(span.startUs).toBeGreaterThanOrEqual(RUN_START_MS * 1000);
        expect(span.startUs).toBeLessThan((RUN_START_MS + ENDED * INTERVAL_MS) * 1000);
      }
    }
  });
});
