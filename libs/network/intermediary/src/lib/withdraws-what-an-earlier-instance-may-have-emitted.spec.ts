import { ManualClock, peerNodeId } from '@topology/model';
import { AppliedContributions, flow, flushUntilSettled, lb, snapshot, workload } from '../testing/resolution-run';
import { IntermediaryResolver } from './intermediary-resolver';
import { DEFAULT_INTERMEDIARY_RESOLVER_CONFIG } from './intermediary-resolver-config';

const A = workload('a-prod-v001');
const B = workload('b-prod-v001');
const C = workload('c-prod-v001');
const LB = lb('lb-1');
const KEY = 'intermediary:lb-1';

const newResolver = () => new IntermediaryResolver(DEFAULT_INTERMEDIARY_RESOLVER_CONFIG, new ManualClock(5_000));

describe('a window taken over from an instance that crashed', () => {
  // The crashed instance saw the client's traffic before the balancer's outbound and emitted a → lb-1.
  function crashedInstanceEmissions(): AppliedContributions {
    const crashed = newResolver();
    crashed.accept(snapshot('p0', KEY, [flow(A, LB, { bytesSent: 1000 })]));
    const held = new AppliedContributions().apply(flushUntilSettled(crashed));
    expect(held.find('cluster:a-prod-v001', 'intermediary:lb-1')).toHaveLength(1);
    return held;
  }

  it('withdraws the client → intermediary dependency once outbound traffic resolves the client', () => {
    const held = crashedInstanceEmissions();
    const restarted = newResolver();
    // The restart reads both snapshots again and never emits a → lb-1 itself.
    restarted.accept(snapshot('p0', KEY, [flow(A, LB, { bytesSent: 1000 })]), { inherited: true });
    restarted.accept(snapshot('p1', KEY, [flow(LB, B, { bytesSent: 900 })]), { inherited: true });
    held.apply(flushUntilSettled(restarted));

    expect(held.find('cluster:a-prod-v001', 'intermediary:lb-1')).toEqual([]);
    expect(held.find('cluster:a-prod-v001', 'cluster:b-prod-v001')[0]).toMatchObject({ bytesSent: 1000, removed: false });
    expect(restarted.counters.get('inherited_withdrawals')).toBe(1);
  });

  it('withdraws it only once, and never for windows it did not take over', () => {
    const restarted = newResolver();
    restarted.accept(snapshot('p0', KEY, [flow(A, LB, { bytesSent: 1000 })]), { inherited: true });
    restarted.accept(snapshot('p1', KEY, [flow(LB, B, { bytesSent: 900 })]));
    flushUntilSettled(restarted);
    restarted.accept(snapshot('p1', KEY, [flow(LB, B, { bytesSent: 950 })]));
    expect(flushUntilSettled(restarted).filter((c) => c.removed)).toEqual([]);

    const fresh = newResolver();
    fresh.accept(snapshot('p0', KEY, [flow(A, LB, { bytesSent: 1000 })]));
    fresh.accept(snapshot('p1', KEY, [flow(LB, B, { bytesSent: 900 })]));
    expect(flushUntilSettled(fresh).filter((c) => c.removed)).toEqual([]);
  });

  it('would leave the dependency behind without being told the window was taken over', () => {
    const held = crashedInstanceEmissions();
    const restarted = newResolver();
    restarted.accept(snapshot('p0', KEY, [flow(A, LB, { bytesSent: 1000 })]));
    restarted.accept(snapshot('p1', KEY, [flow(LB, B, { bytesSent: 900 })]));
    held.apply(flushUntilSettled(restarted));
    expect(held.find('cluster:a-prod-v001', 'intermediary:lb-1')).toHaveLength(1);
  });

  it('withdraws a dependency on a backend outside the listener that the earlier instance saw alone', () => {
    const listener = { listener: { intermediaryId: 'lb-1', port: 443, targetClusters: ['c-prod-v001'] } };
    // The crashed instance had only b's outbound: narrowing to c left nothing, so a went to b.
    const crashed = newResolver();
    crashed.applyMetadata(listener);
    crashed.accept(snapshot('p0', KEY, [flow(A, LB, { bytesSent: 1000 })]));
    crashed.accept(snapshot('p1', KEY, [flow(LB, B, { bytesSent: 900 })]));
    const held = new AppliedContributions().apply(flushUntilSettled(crashed));
    expect(held.find('cluster:a-prod-v001', 'cluster:b-prod-v001')).toHaveLength(1);

    const restarted = newResolver();
    restarted.applyMetadata(listener);
    restarted.accept(snapshot('p0', KEY, [flow(A, LB, { bytesSent: 1000 })]), { inherited: true });
    restarted.accept(snapshot('p1', KEY, [flow(LB, B, { bytesSent: 900 }), flow(LB, C, { bytesSent: 100 })]), { inherited: true });
    held.apply(flushUntilSettled(restarted));
    expect(held.dependencies().map((c) => `${peerNodeId(c.src, 'cluster')} > ${peerNodeId(c.dst, 'cluster')} ${c.bytesSent}`)).toEqual(['cluster:a-prod-v001 > cluster:c-prod-v001 1000']);
  });
});
