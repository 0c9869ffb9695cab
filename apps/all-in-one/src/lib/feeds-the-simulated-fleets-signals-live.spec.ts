import type { BusMessage } from '@topology/bus';
import { InProcessBus } from '@topology/bus-in-process';
import { Topics } from '@topology/contracts';
import { ManualClock } from '@topology/model';
import { IpcMetricsGenerator, planFleet } from '@topology/sim';
import { SimulatedIpcFeed } from './simulated-ipc-feed';

describe('the live simulated IPC feed', () => {
  it('publishes at start the exports of the backfilled intervals that have ended, from instrumented apps only', async () => {
    const intervalMs = 10_000;
    const now = Date.UTC(2025, 2, 3, 9, 0, 4);
    const bus = new InProcessBus({ defaultPartitions: 1 });
    const got: BusMessage[] = [];
    await bus.subscribe({ topics: [Topics.otlpMetrics], groupId: 'observer', handler: async (b) => void got.push(...b.messages) });
    const feed = new SimulatedIpcFeed({ bus, clock: new ManualClock(now), seed: 3, apps: 40, intervalMs, backfillMinutes: 1, runMinutes: 10 });
    feed.start();
    await feed.stop();
    await bus.settled();
    await bus.close();
    // The run starts a minute before the current interval: six whole intervals have ended.
    const startMs = Math.floor(now / intervalMs) * intervalMs - 60_000;
    const generator = new IpcMetricsGenerator(planFleet({ seed: 3, apps: 40, startMs, minutes: 10, intervalMs }));
    let expected = 0;
    for (let i = 0; i < 6; i++) expected += generator.interval(i, { startMs: startMs + i * intervalMs, endMs: startMs + (i + 1) * intervalMs }).requests.length;
    expect(got.length).toBe(expected);
    expect(feed.exports).toBe(expected);
    const instrumented = new Set(generator.truth().instrumentedApps);
    expect(got.every((m) => m.key !== null && instrumented.has(m.key))).toBe(true);
  });
});
