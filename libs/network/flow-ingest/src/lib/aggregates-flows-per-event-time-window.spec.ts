import { WindowedPreAggregator } from './window-pre-aggregator';
import { PeerTable, WorkloadOwner } from './peer-table';
import { T0, end, flow, identity } from './testing/flows';

const NO_VIA: readonly string[] = [];

function setup() {
  const peers = new PeerTable();
  const owner = (cluster: string) => peers.owner(identity(cluster)) as WorkloadOwner;
  const windows = new WindowedPreAggregator({ windowMs: 10_000, maxOutOfOrderMs: 2_000, allowedLatenessMs: 5_000 });
  return { peers, windows, a: owner('a-prod-v001'), b: owner('b-prod-v001'), c: owner('c-prod-v001') };
}

const ab = (startMs: number, bytes: number, port = 80) => flow(end('10.0.0.1', 40000, 'a-prod-v001'), end('10.0.0.2', port), startMs, bytes);

describe('WindowedPreAggregator', () => {
  it('sums flows per window by start time, per key and entry, with first and last seen', () => {
    const { windows, a, b } = setup();
    const scope = windows.scope('us-east-1/flows/0');
    windows.add(scope, a, b, NO_VIA, { ...ab(T0 + 1_000, 100), rttUs: 300, retransmits: 2 }, 1);
    windows.add(scope, a, b, NO_VIA, { ...ab(T0 + 9_999, 50), rttUs: 500 }, 2);
    windows.add(scope, a, b, NO_VIA, ab(T0 + 10_000, 7), 3);
    const { snapshots } = windows.flush();
    expect(snapshots.map((s) => [s.window.startMs - T0, s.window.endMs - T0, s.scope, s.key, s.ingestedAtMs, s.entries.length])).toEqual([
      [0, 10_000, 'us-east-1/flows/0', 'cluster:a-prod-v001 -> cluster:b-prod-v001', 2, 1],
      [10_000, 20_000, 'us-east-1/flows/0', 'cluster:a-prod-v001 -> cluster:b-prod-v001', 3, 1],
    ]);
    expect(snapshots[0]?.entries[0]).toEqual({
      src: a.peer,
      dst: b.peer,
      dstPort: 80,
      protocol: 'tcp',
      observer: 'client',
      bytesSent: 150,
      bytesReceived: 0,
      packetsSent: 2,
      packetsReceived: 2,
      connections: 2,
      retransmits: 2,
      rttSumUs: 800,
      rttSamples: 2,
      firstSeenMs: T0 + 1_000,
      lastSeenMs: T0 + 9_999 + 500,
      via: [],
      confidence: 1,
    });
  });

  it('emits only changed (window, scope, key) groups, each with all of its entries', () => {
    const { windows, a, b, c } = setup();
    const scope = windows.scope('s');
    windows.add(scope, a, b, NO_VIA, ab(T0 + 1_000, 100, 80), 1);
    windows.add(scope, a, c, NO_VIA, ab(T0 + 1_000, 5, 80), 1);
    expect(windows.flush().snapshots).toHaveLength(2);
    windows.add(scope, a, b, NO_VIA, ab(T0 + 2_000, 10, 443), 2);
    const { snapshots } = windows.flush();
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0]?.entries.map((e) => [e.dstPort, e.bytesSent])).toEqual([
      [80, 100],
      [443, 10],
    ]);
    expect(windows.flush().snapshots).toEqual([]);
  });

  it('keys traffic of an intermediary by the intermediary, from either side', () => {
    const { peers, windows, a, b } = setup();
    const lb = peers.intermediary({ ip: '10.0.9.9', intermediaryId: 'lb-1', type: 'load-balancer', fromMs: 0 });
    if (lb === undefined) throw new Error('fixture');
    const scope = windows.scope('s');
    windows.add(scope, a, lb, NO_VIA, ab(T0, 1), 1);
    windows.add(scope, lb, b, NO_VIA, ab(T0, 1), 1);
    expect(windows.flush().snapshots.map((s) => [s.key, s.entries.length])).toEqual([['intermediary:lb-1', 2]]);
  });

  it('keeps a watermark per scope: a record is late only for its own scope', () => {
    const { windows, a, b } = setup();
    const fast = windows.scope('fast');
    const slow = windows.scope('slow');
    expect(windows.add(fast, a, b, NO_VIA, ab(T0 + 17_000, 1), 1)).toBe(true); // watermark T0+15s: window 0 closes
    expect(windows.add(fast, a, b, NO_VIA, ab(T0 + 1_000, 1), 1)).toBe(false);
    expect(windows.add(slow, a, b, NO_VIA, ab(T0 + 1_000, 1), 1)).toBe(true);
    expect(windows.isTooLate(fast, T0 + 9_999)).toBe(true);
    expect(windows.isTooLate(fast, T0 + 10_000)).toBe(false);
  });

  it('drops the state of windows the watermark has closed, after emitting their last change', () => {
    const { windows, a, b } = setup();
    const scope = windows.scope('s');
    windows.add(scope, a, b, NO_VIA, ab(T0 + 1_000, 1), 1);
    windows.add(scope, a, b, NO_VIA, ab(T0 + 16_999, 1), 1);
    expect(windows.flush()).toEqual({ snapshots: expect.any(Array), windowsClosed: 0 });
    expect(windows.oldestOpenWindowStartMs()).toBe(T0);
    windows.add(scope, a, b, NO_VIA, ab(T0 + 9_000, 5), 1); // still within lateness
    windows.add(scope, a, b, NO_VIA, ab(T0 + 17_000, 1), 1);
    const { snapshots, windowsClosed } = windows.flush();
    expect(snapshots.map((s) => [s.window.startMs - T0, s.entries[0]?.bytesSent])).toEqual([
      [0, 6],
      [10_000, 2],
    ]);
    expect(windowsClosed).toBe(1);
    expect(windows.openWindowCount()).toBe(1);
    expect(windows.oldestOpenWindowStartMs()).toBe(T0 + 10_000);
  });
});
