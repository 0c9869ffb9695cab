import { ManualClock } from '@topology/model';
import { FlowIngestor } from './flow-ingestor';
import { DEFAULT_FLOW_INGESTOR_CONFIG, FlowIngestorConfig } from './flow-ingestor-config';
import { T0, end, flow } from './testing/flows';

const config: FlowIngestorConfig = { ...DEFAULT_FLOW_INGESTOR_CONFIG, windowMs: 10_000, maxOutOfOrderMs: 2_000, allowedLatenessMs: 5_000, holdBackMs: 5_000, ownershipPublishIntervalMs: 1_000 };
const call = (startMs: number, bytes: number, port = 8080) => flow(end('10.2.0.7', 50000, 'c-prod-v001'), end('10.4.0.2', port, 'cart-prod-v003'), startMs, bytes);

describe('event-time windows with allowed lateness', () => {
  it('updates a window with late records within the lateness, and rejects them beyond it', () => {
    const ingestor = new FlowIngestor(config, new ManualClock(T0 + 60_000));
    ingestor.ingest([call(T0 + 1_000, 100)], 's');
    const first = ingestor.flush().snapshots;
    expect(first.map((s) => [s.window.startMs - T0, s.key, s.entries[0]?.bytesSent])).toEqual([[0, 'cluster:c-prod-v001 -> cluster:cart-prod-v003', 100]]);

    // Watermark T0+14s: window [T0, T0+10s) closes once it reaches T0+15s.
    expect(ingestor.ingest([call(T0 + 16_000, 1), call(T0 + 9_000, 50)], 's')).toEqual([]);
    const second = ingestor.flush().snapshots.filter((s) => s.window.startMs === T0);
    expect(second.map((s) => [s.scope, s.key, s.entries[0]?.bytesSent])).toEqual([['s', 'cluster:c-prod-v001 -> cluster:cart-prod-v003', 150]]);

    const rejections = ingestor.ingest([call(T0 + 17_000, 1), call(T0 + 9_500, 25)], 's');
    expect(rejections.map((r) => r.reason)).toEqual(['too-late']);
    expect(JSON.parse(rejections[0]?.raw as string)).toMatchObject({ startMs: T0 + 9_500, bytesSent: 25 });
    expect(ingestor.counters.get('flows_too_late')).toBe(1);
    const third = ingestor.flush();
    expect(third.snapshots.map((s) => s.window.startMs - T0)).toEqual([10_000]);
    expect(ingestor.counters.get('windows_closed')).toBe(1);
  });

  it('always emits every entry of a (window, scope, key), not only the changed one', () => {
    const ingestor = new FlowIngestor(config, new ManualClock(T0 + 60_000));
    ingestor.ingest([call(T0 + 1_000, 100, 8080)], 's');
    ingestor.flush();
    ingestor.ingest([call(T0 + 2_000, 7, 9090)], 's');
    const [snapshot, ...others] = ingestor.flush().snapshots;
    expect(others).toEqual([]);
    expect(snapshot?.entries.map((e) => [e.dstPort, e.bytesSent])).toEqual([
      [8080, 100],
      [9090, 7],
    ]);
  });

  it('judges lateness per scope: a partition behind the others is not late', () => {
    const ingestor = new FlowIngestor(config, new ManualClock(T0 + 60_000));
    ingestor.ingest([call(T0 + 40_000, 1)], 'ahead');
    expect(ingestor.ingest([call(T0 + 1_000, 1)], 'behind')).toEqual([]);
    expect(ingestor.ingest([call(T0 + 1_000, 1)], 'ahead').map((r) => r.reason)).toEqual(['too-late']);
  });

  it('carries the latest processing time of arrival of the entries\' records', () => {
    const ingestor = new FlowIngestor(config, new ManualClock(T0 + 60_000));
    ingestor.ingest([call(T0 + 1_000, 1)], 's', T0 + 30_000);
    ingestor.ingest([call(T0 + 2_000, 1, 9090)], 's', T0 + 31_000);
    ingestor.ingest([call(T0 + 3_000, 1)], 's', T0 + 30_500);
    expect(ingestor.flush().snapshots.map((s) => s.ingestedAtMs)).toEqual([T0 + 31_000]);
  });
});
