import type { BusMessage } from '@topology/bus';
import { InProcessBus } from '@topology/bus-in-process';
import { Topics } from '@topology/contracts';
import { ManualClock } from '@topology/model';
import { IpcMetricsGenerator, TraceInstrumentation, generateTraces, planFleet } from '@topology/sim';
import { SpanDecoder } from '@topology/trace-aggregate';
import { IPC_METRICS_SIGNAL, SimulatedSignalFeed, TRACES_SIGNAL, type SimulatedSignal } from './simulated-signal-feed';

const INTERVAL_MS = 10_000;
const NOW = Date.UTC(2025, 2, 3, 9, 0, 4);
// The run starts a minute before the current interval: six whole intervals have ended.
const RUN_START_MS = Math.floor(NOW / INTERVAL_MS) * INTERVAL_MS - 60_000;
const ENDED = 6;

async function feedOnce(signal: SimulatedSignal): Promise<{ got: BusMessage[]; exports: number }> {
  const bus = new InProcessBus({ defaultPartitions: 1 });
  const got: BusMessage[] = [];
  await bus.subscribe({ topics: [signal.topic], groupId: 'observer', handler: async (b) => void got.push(...b.messages) });
  const feed = new SimulatedSignalFeed({ bus, clock: new ManualClock(NOW), signal, seed: 3, apps: 40, intervalMs: INTERVAL_MS, backfillMinutes: 1, runMinutes: 10 });
  feed.start();
  await feed.stop();
  await bus.settled();
  await bus.close();
  return { got, exports: feed.exports };
}

const fleet = () => planFleet({ seed: 3, apps: 40, startMs: RUN_START_MS, minutes: 10, intervalMs: INTERVAL_MS });

describe('the live simulated signal feed', () => {
  it('publishes at start the IPC metric exports of the backfilled intervals that have ended, from instrumented apps only', async () => {
    const { got, exports } = await feedOnce(IPC_METRICS_SIGNAL);
    const generator = new IpcMetricsGenerator(fleet());
    let expected = 0;
    for (let i = 0; i < ENDED; i++) expected += generator.interval(i, { startMs: RUN_START_MS + i * INTERVAL_MS, endMs: RUN_START_MS + (i + 1) * INTERVAL_MS }).requests.length;
    expect(got.length).toBe(expected);
    expect(exports).toBe(expected);
    expect(got.every((m) => m.topic === Topics.otlpMetrics)).toBe(true);
    const instrumented = new Set(generator.truth().instrumentedApps);
    expect(got.every((m) => m.key !== null && instrumented.has(m.key))).toBe(true);
  });

  it('publishes the sampled traces of the ended intervals on otlp_spans, one request per trace, from tracing apps only', async () => {
    const { got, exports } = await feedOnce(TRACES_SIGNAL);
    const expected = [...generateTraces(fleet())].slice(0, ENDED).flatMap((b) => b.traces);
    expect(expected.length).toBeGreaterThan(0);
    expect(got.map((m) => m.key)).toEqual(expected.map((t) => t.traceId));
    expect(exports).toBe(expected.length);
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
