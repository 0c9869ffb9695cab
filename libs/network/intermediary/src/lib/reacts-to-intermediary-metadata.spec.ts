import { ManualClock, peerNodeId } from '@topology/model';
import { AppliedContributions, flow, flushUntilSettled, lb, snapshot, workload } from '../testing/resolution-run';
import { IntermediaryResolver } from './intermediary-resolver';
import { DEFAULT_INTERMEDIARY_RESOLVER_CONFIG } from './intermediary-resolver-config';

const A = workload('a-prod-v001');
const B = workload('b-prod-v001');
const C = workload('c-prod-v001');
const GW = workload('gateway-prod-v001');

function dependencies(held: AppliedContributions): string[] {
  return held.dependencies().map((c) => `${c.scope} ${peerNodeId(c.src, 'cluster')} > ${peerNodeId(c.dst, 'cluster')} ${c.bytesSent}`);
}

describe('metadata that arrives after the traffic', () => {
  it('moves a gateway app from direct edges to a resolved intermediary and back', () => {
    const resolver = new IntermediaryResolver(DEFAULT_INTERMEDIARY_RESOLVER_CONFIG, new ManualClock(5_000));
    const held = new AppliedContributions();
    resolver.accept(snapshot('p0', 'cluster:a-prod-v001 -> cluster:gateway-prod-v001', [flow(A, GW, { bytesSent: 100 })]));
    resolver.accept(snapshot('p1', 'cluster:gateway-prod-v001 -> cluster:b-prod-v001', [flow(GW, B, { bytesSent: 120 })]));
    held.apply(flushUntilSettled(resolver));
    expect(dependencies(held)).toEqual(['direct cluster:a-prod-v001 > cluster:gateway-prod-v001 100', 'direct cluster:gateway-prod-v001 > cluster:b-prod-v001 120']);

    resolver.applyMetadata({ app: { app: 'gateway', intermediaryType: 'api-gateway' } });
    held.apply(flushUntilSettled(resolver));
    expect(dependencies(held)).toEqual(['via:app:gateway cluster:a-prod-v001 > cluster:b-prod-v001 100']);
    expect(held.hops()).toHaveLength(2);

    resolver.applyMetadata({ app: { app: 'gateway', owner: 'edge-team' } });
    held.apply(flushUntilSettled(resolver));
    expect(dependencies(held)).toEqual(['direct cluster:a-prod-v001 > cluster:gateway-prod-v001 100', 'direct cluster:gateway-prod-v001 > cluster:b-prod-v001 120']);
    expect(held.hops()).toEqual([]);
  });

  it('does not recompute anything when app metadata leaves the intermediary role as it was', () => {
    const resolver = new IntermediaryResolver(DEFAULT_INTERMEDIARY_RESOLVER_CONFIG, new ManualClock(5_000));
    resolver.accept(snapshot('p0', 'cluster:a-prod-v001 -> cluster:b-prod-v001', [flow(A, B, { bytesSent: 100 })]));
    resolver.flush();
    const reconciled = resolver.counters.get('groups_reconciled');
    resolver.applyMetadata({ app: { app: 'a', tier: 'tier-1' } });
    expect(resolver.flush().contributions).toEqual([]);
    expect(resolver.counters.get('groups_reconciled')).toBe(reconciled);
  });

  it('narrows clients once a listener becomes known, and widens again when it is withdrawn', () => {
    const resolver = new IntermediaryResolver(DEFAULT_INTERMEDIARY_RESOLVER_CONFIG, new ManualClock(5_000));
    const held = new AppliedContributions();
    const LB = lb('lb-1');
    resolver.accept(snapshot('p0', 'intermediary:lb-1', [flow(A, LB, { bytesSent: 100 }), flow(LB, B, { bytesSent: 300 }), flow(LB, C, { bytesSent: 100 })]));
    held.apply(flushUntilSettled(resolver));
    expect(dependencies(held)).toEqual(['via:intermediary:lb-1 cluster:a-prod-v001 > cluster:b-prod-v001 75', 'via:intermediary:lb-1 cluster:a-prod-v001 > cluster:c-prod-v001 25']);

    resolver.applyMetadata({ listener: { intermediaryId: 'lb-1', port: 443, targetClusters: ['c-prod-v001'] } });
    held.apply(flushUntilSettled(resolver));
    expect(dependencies(held)).toEqual(['via:intermediary:lb-1 cluster:a-prod-v001 > cluster:c-prod-v001 100']);

    resolver.applyMetadata({ listener: { intermediaryId: 'lb-1', port: 443, targetClusters: [] } });
    held.apply(flushUntilSettled(resolver));
    expect(dependencies(held)).toEqual(['via:intermediary:lb-1 cluster:a-prod-v001 > cluster:b-prod-v001 75', 'via:intermediary:lb-1 cluster:a-prod-v001 > cluster:c-prod-v001 25']);
  });

  it('uses every backend when the listener names none of those observed', () => {
    const resolver = new IntermediaryResolver(DEFAULT_INTERMEDIARY_RESOLVER_CONFIG, new ManualClock(5_000));
    const LB = lb('lb-1');
    resolver.applyMetadata({ listener: { intermediaryId: 'lb-1', port: 443, targetClusters: ['retired-prod-v001'] } });
    resolver.accept(snapshot('p0', 'intermediary:lb-1', [flow(A, LB, { bytesSent: 100 }), flow(LB, B, { bytesSent: 300 }), flow(LB, C, { bytesSent: 100 })]));
    const held = new AppliedContributions().apply(flushUntilSettled(resolver));
    expect(held.dependencies()).toHaveLength(2);
  });
});
