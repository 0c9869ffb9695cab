import { ManualClock, type Clock } from '@topology/model';
import type { FlowPartialSnapshot } from '@topology/contracts';
import { FlowIngestor } from './flow-ingestor';
import { DEFAULT_FLOW_INGESTOR_CONFIG, FlowIngestorConfig } from './flow-ingestor-config';
import type { ObservedFlow } from './observed-flow';
import { T0, end, flow } from './testing/flows';

const config: FlowIngestorConfig = { ...DEFAULT_FLOW_INGESTOR_CONFIG, windowMs: 10_000, maxOutOfOrderMs: 2_000, allowedLatenessMs: 5_000, holdBackMs: 5_000, ownershipPublishIntervalMs: 1_000 };
const call = (startMs: number, bytes: number) => flow(end('10.2.0.7', 50000, 'c-prod-v001'), end('10.4.0.2', 8080, 'cart-prod-v003'), T0 + startMs, bytes);

/**
 * One source partition, record by record (offset = index). Window 0 closes at r3, window 1 at r7;
 * r5 and r8 arrive after their window closed.
 */
const partition: ObservedFlow[] = [
  call(1_000, 1), // r0  w0
  call(12_000, 2), // r1  w1 (first record of window 1)
  call(5_000, 4), // r2  w0
  call(19_000, 8), // r3  w1, closes w0
  call(21_000, 16), // r4  w2
  call(8_000, 32), // r5  w0, too late
  call(13_000, 64), // r6  w1
  call(28_000, 128), // r7  w2, closes w1
  call(15_000, 256), // r8  w1, too late
  call(22_000, 512), // r9  w2
];

/** The latest snapshot per window, as stage 2 keeps them, with the bytes it carries. */
function latestBytes(snapshots: FlowPartialSnapshot[], latest = new Map<number, number>()): Map<number, number> {
  for (const s of snapshots) latest.set(s.window.startMs - T0, s.entries.reduce((sum, e) => sum + e.bytesSent, 0));
  return latest;
}

function readFrom(ingestor: FlowIngestor, from: number, downstream: Map<number, number>): string[] {
  const reasons: string[] = [];
  for (let offset = from; offset < partition.length; offset++) {
    reasons.push(...ingestor.ingest([partition[offset] as ObservedFlow], 's').map((r) => `r${offset} ${r.reason}`));
    latestBytes(ingestor.flush().snapshots, downstream);
  }
  return reasons;
}

describe('a scope read again after a restart', () => {
  const clock: Clock = new ManualClock(T0 + 60_000);

  it('rebuilds its open windows exactly and leaves the windows closed before the restart as they were', () => {
    const uninterrupted = new FlowIngestor(config, clock);
    const expected = new Map<number, number>();
    const expectedRejections = readFrom(uninterrupted, 0, expected);
    expect(expected).toEqual(new Map([[0, 5], [10_000, 74], [20_000, 656]]));
    expect(expectedRejections).toEqual(['r5 too-late', 'r8 too-late']);

    // The instance that crashed had read r0..r6: window 0 was closed, windows 1 and 2 open, the oldest
    // open one starting at r1, with event time at r0's start when r1 arrived.
    const crashed = new FlowIngestor(config, clock);
    const downstream = new Map<number, number>();
    for (let offset = 0; offset <= 6; offset++) {
      crashed.ingest([partition[offset] as ObservedFlow], 's');
      latestBytes(crashed.flush().snapshots, downstream);
    }
    expect(crashed.acceptsWindow('s', T0)).toBe(false);
    expect(crashed.acceptsWindow('s', T0 + 10_000)).toBe(true);

    const restarted = new FlowIngestor(config, clock);
    restarted.resumeScope('s', { newestEventMs: T0 + 1_000, openFromWindowStartMs: T0 + 10_000 });
    const rejections = readFrom(restarted, 1, downstream);

    expect(downstream).toEqual(expected);
    expect(rejections).toEqual(['r8 too-late']);
    expect(restarted.counters.get('flows_replayed_skipped')).toBe(2);
    expect(restarted.newestEventMs('s')).toBe(uninterrupted.newestEventMs('s'));
  });

  it('would publish a window holding only the re-read records if it were not resumed', () => {
    const downstream = new Map<number, number>([[0, 5]]);
    readFrom(new FlowIngestor(config, clock), 1, downstream);
    expect(downstream.get(0)).toBe(4);
  });
});

describe('a scope whose partition moved to another instance', () => {
  it('emits nothing more for it, not even flows that were held back', () => {
    const clock = new ManualClock(T0 + 60_000);
    const ingestor = new FlowIngestor(config, clock);
    const unowned = flow(end('10.2.0.7', 50000, 'c-prod-v001'), end('10.9.9.9', 8080), T0 + 1_000, 10);
    ingestor.ingest([call(1_000, 1), unowned], 'moved');
    ingestor.ingest([call(2_000, 1)], 'kept');
    expect(ingestor.heldCount()).toBe(1);

    ingestor.forgetScope('moved');
    // The owner of the held flow's server address becomes known: the flow is released, but its scope is gone.
    ingestor.ingest([flow(end('10.9.9.9', 8080, 'cart-prod-v003'), end('10.2.0.8', 443, 'db-prod-v001'), T0 + 1_500, 3)], 'kept');
    const { snapshots } = ingestor.flush();
    expect(new Set(snapshots.map((s) => s.scope))).toEqual(new Set(['kept']));
    expect(ingestor.heldCount()).toBe(0);
    expect(ingestor.newestEventMs('moved')).toBe(Number.NEGATIVE_INFINITY);
  });
});
