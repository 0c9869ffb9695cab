import { ManualClock, peerNodeId } from '@topology/model';
import { AppliedContributions, flow, flushUntilSettled, lb, proxy, snapshot, workload } from '../testing/resolution-run';
import { IntermediaryResolver } from './intermediary-resolver';
import { DEFAULT_INTERMEDIARY_RESOLVER_CONFIG } from './intermediary-resolver-config';

const A = workload('a-prod-v001');
const B = workload('b-prod-v001');
const P1 = proxy('proxy-1');
const P2 = proxy('proxy-2');
const LB = lb('lb-1');

function resolverWith(maxChainDepth: number): IntermediaryResolver {
  return new IntermediaryResolver({ ...DEFAULT_INTERMEDIARY_RESOLVER_CONFIG, maxChainDepth }, new ManualClock(5_000));
}

/** A → proxy-1 → proxy-2 → lb-1 → B, each hop seen by whoever can see it. */
function acceptThreeDeepChain(resolver: IntermediaryResolver): void {
  resolver.accept(snapshot('p0', 'intermediary:proxy-1', [flow(A, P1, { dstPort: 3128, bytesSent: 400, bytesReceived: 100, connections: 2 })]));
  resolver.accept(snapshot('vpc', 'intermediary:proxy-1', [flow(P1, P2, { observer: 'network', dstPort: 3129, bytesSent: 410, connections: 2 })]));
  resolver.accept(snapshot('vpc', 'intermediary:proxy-2', [flow(P2, LB, { observer: 'network', bytesSent: 420, connections: 2 })]));
  resolver.accept(snapshot('p1', 'intermediary:lb-1', [flow(LB, B, { observer: 'server', dstPort: 8080, bytesSent: 430, connections: 2 })]));
}

function describeDependencies(held: AppliedContributions): string[] {
  return held.dependencies().map((c) => `${peerNodeId(c.src, 'cluster')} > ${peerNodeId(c.dst, 'cluster')} via ${c.via.join(',')}`);
}

describe('chains of intermediaries', () => {
  it('follows a three-intermediary chain to the backend when the depth allows it', () => {
    const resolver = resolverWith(3);
    acceptThreeDeepChain(resolver);
    const held = new AppliedContributions().apply(flushUntilSettled(resolver));
    expect(describeDependencies(held)).toEqual(['cluster:a-prod-v001 > cluster:b-prod-v001 via intermediary:proxy-1,intermediary:proxy-2,intermediary:lb-1']);
    expect(held.dependencies()[0]).toMatchObject({ bytesSent: 400, bytesReceived: 100, connections: 2, confidence: 1 });
    expect(resolver.counters.get('chain_depth_exceeded')).toBe(0);
  });

  it('stops at the intermediary where the chain reaches maxChainDepth, and counts it', () => {
    const resolver = resolverWith(2);
    acceptThreeDeepChain(resolver);
    const held = new AppliedContributions().apply(flushUntilSettled(resolver));
    expect(describeDependencies(held)).toEqual(['cluster:a-prod-v001 > intermediary:lb-1 via intermediary:proxy-1,intermediary:proxy-2']);
    expect(held.dependencies()[0]).toMatchObject({ bytesSent: 400, bytesReceived: 100, hop: false });
    expect(resolver.counters.get('chain_depth_exceeded')).toBe(1);
  });

  it('does not follow chains at all with a depth of 1', () => {
    const resolver = resolverWith(1);
    acceptThreeDeepChain(resolver);
    const held = new AppliedContributions().apply(flushUntilSettled(resolver));
    expect(describeDependencies(held)).toEqual(['cluster:a-prod-v001 > intermediary:proxy-2 via intermediary:proxy-1']);
    // The raw hops stay visible whatever the depth.
    expect(held.hops()).toHaveLength(4);
  });

  it('cuts a loop between intermediaries at the first repeat instead of forwarding forever', () => {
    const resolver = resolverWith(8);
    resolver.accept(snapshot('p0', 'intermediary:proxy-1', [flow(A, P1, { bytesSent: 100 }), flow(P1, P2, { observer: 'network', bytesSent: 100 })]));
    resolver.accept(snapshot('p1', 'intermediary:proxy-2', [flow(P2, P1, { observer: 'network', bytesSent: 100 })]));
    const held = new AppliedContributions().apply(flushUntilSettled(resolver));
    expect(describeDependencies(held)).toEqual(['cluster:a-prod-v001 > intermediary:proxy-1 via intermediary:proxy-1,intermediary:proxy-2']);
    expect(resolver.counters.get('chain_loops_cut')).toBe(1);
  });

  it('passes through a gateway app in front of a load balancer', () => {
    const resolver = resolverWith(4);
    const GW = workload('edge-prod-v001');
    resolver.applyMetadata({ app: { app: 'edge', intermediaryType: 'api-gateway' } });
    resolver.accept(snapshot('p0', 'cluster:a-prod-v001 -> cluster:edge-prod-v001', [flow(A, GW, { bytesSent: 90, bytesReceived: 10 })]));
    resolver.accept(snapshot('p1', 'intermediary:lb-1', [flow(GW, LB, { bytesSent: 95, bytesReceived: 10 }), flow(LB, B, { observer: 'server', bytesSent: 95 })]));
    const held = new AppliedContributions().apply(flushUntilSettled(resolver));
    expect(describeDependencies(held)).toEqual(['cluster:a-prod-v001 > cluster:b-prod-v001 via app:edge,intermediary:lb-1']);
    expect(held.dependencies()[0]).toMatchObject({ bytesSent: 90, bytesReceived: 10, confidence: 1 });
    expect(resolver.counters.get('chains_forwarded')).toBe(1);
  });
});
