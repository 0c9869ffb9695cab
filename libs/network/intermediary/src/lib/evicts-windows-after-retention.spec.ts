import { ManualClock } from '@topology/model';
import { flow, lb, snapshot, workload } from '../testing/resolution-run';
import { IntermediaryResolver } from './intermediary-resolver';

const A = workload('a-prod-v001');
const B = workload('b-prod-v001');
const DIRECT = 'cluster:a-prod-v001 -> cluster:b-prod-v001';
const W0 = { startMs: 0, endMs: 10_000 };

function setUp(): { clock: ManualClock; resolver: IntermediaryResolver } {
  const clock = new ManualClock(5_000);
  const resolver = new IntermediaryResolver({ maxChainDepth: 4, retentionMs: 60_000 }, clock);
  resolver.accept(snapshot('p0', DIRECT, [flow(A, B, { bytesSent: 10 })], W0));
  resolver.flush();
  return { clock, resolver };
}

describe('window retention (processing time)', () => {
  it('keeps a window until retentionMs after its end, then drops it and counts it', () => {
    const { clock, resolver } = setUp();
    clock.set(69_999);
    resolver.flush();
    expect(resolver.counters.get('windows_evicted')).toBe(0);
    // Still held: a replacement is diffed against what was emitted, so only the change goes out.
    resolver.accept(snapshot('p0', DIRECT, [flow(A, B, { bytesSent: 11 })], W0));
    expect(resolver.flush().contributions).toHaveLength(1);

    clock.set(69_999 + 60_000);
    expect(resolver.flush()).toEqual({ contributions: [], forwards: [] });
    expect(resolver.counters.get('windows_evicted')).toBe(1);
  });

  it('keeps a window that is still being updated for retentionMs after its last update', () => {
    const { clock, resolver } = setUp();
    clock.set(65_000);
    resolver.accept(snapshot('p1', DIRECT, [flow(A, B, { observer: 'server', bytesSent: 10 })], W0));
    clock.set(124_999);
    resolver.flush();
    expect(resolver.counters.get('windows_evicted')).toBe(0);
    clock.set(125_000);
    resolver.flush();
    expect(resolver.counters.get('windows_evicted')).toBe(1);
  });

  it('rejects a straggler for an evicted window as too late instead of rebuilding the window from it', () => {
    const { clock, resolver } = setUp();
    clock.set(70_000);
    resolver.flush();
    const rejections = resolver.accept(snapshot('p1', 'intermediary:lb-1', [flow(A, lb('lb-1'), { bytesSent: 10 })], W0));
    expect(rejections.map((r) => r.reason)).toEqual(['too-late']);
    expect(resolver.counters.get('snapshots_rejected', 'too-late')).toBe(1);
    expect(resolver.flush().contributions).toEqual([]);
  });

  it('forgets an evicted window after another retention period, so a replay of old data can rebuild it', () => {
    const { clock, resolver } = setUp();
    clock.set(70_000);
    resolver.flush();
    clock.set(130_000);
    resolver.flush();
    expect(resolver.accept(snapshot('p0', DIRECT, [flow(A, B, { bytesSent: 10 })], W0))).toEqual([]);
    expect(resolver.flush().contributions).toHaveLength(1);
  });

  it('says which windows it still holds, so a runtime knows which snapshots a replay must still bring back', () => {
    const { clock, resolver } = setUp();
    expect(resolver.retainsWindow(W0)).toBe(true);
    expect(resolver.retainsWindow({ startMs: 10_000, endMs: 20_000 })).toBe(false);
    clock.set(70_000);
    resolver.flush();
    expect(resolver.retainsWindow(W0)).toBe(false);
  });
});
