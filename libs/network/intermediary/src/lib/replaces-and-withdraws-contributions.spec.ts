import { ManualClock } from '@topology/model';
import { AppliedContributions, flow, flushUntilSettled, lb, proxy, snapshot, workload } from '../testing/resolution-run';
import { IntermediaryResolver } from './intermediary-resolver';
import { DEFAULT_INTERMEDIARY_RESOLVER_CONFIG } from './intermediary-resolver-config';

const A = workload('a-prod-v001');
const B = workload('b-prod-v001');
const C = workload('c-prod-v001');
const LB = lb('lb-1');
const DIRECT = 'cluster:a-prod-v001 -> cluster:b-prod-v001';

function newResolver(): IntermediaryResolver {
  return new IntermediaryResolver(DEFAULT_INTERMEDIARY_RESOLVER_CONFIG, new ManualClock(5_000));
}

describe('replace semantics', () => {
  it('replaces a contribution when a larger snapshot replaces a smaller one, rather than adding', () => {
    const resolver = newResolver();
    const held = new AppliedContributions();
    resolver.accept(snapshot('p0', DIRECT, [flow(A, B, { bytesSent: 100, connections: 1 })]));
    held.apply(flushUntilSettled(resolver));
    resolver.accept(snapshot('p0', DIRECT, [flow(A, B, { bytesSent: 300, connections: 2 })]));
    const second = flushUntilSettled(resolver);

    expect(second).toHaveLength(1);
    expect(second[0]).toMatchObject({ scope: 'direct', bytesSent: 300, connections: 2, removed: false });
    held.apply(second);
    expect(held.all()).toHaveLength(1);
    expect(held.all()[0]?.bytesSent).toBe(300);
  });

  it('emits nothing when a snapshot is delivered again unchanged', () => {
    const resolver = newResolver();
    const s = snapshot('p0', 'intermediary:lb-1', [flow(A, LB, { bytesSent: 10 }), flow(LB, B, { bytesSent: 10 })]);
    resolver.accept(s);
    expect(flushUntilSettled(resolver).length).toBeGreaterThan(0);
    resolver.accept(s);
    expect(flushUntilSettled(resolver)).toEqual([]);
  });

  it('withdraws what a shrinking resolution no longer produces', () => {
    const resolver = newResolver();
    const held = new AppliedContributions();
    resolver.accept(snapshot('p0', 'intermediary:lb-1', [flow(A, LB, { bytesSent: 1000 })]));
    resolver.accept(snapshot('p1', 'intermediary:lb-1', [flow(LB, B, { bytesSent: 300 }), flow(LB, C, { bytesSent: 100 })]));
    held.apply(flushUntilSettled(resolver));
    expect(held.find('cluster:a-prod-v001', 'cluster:c-prod-v001')[0]?.bytesSent).toBe(250);

    resolver.accept(snapshot('p1', 'intermediary:lb-1', [flow(LB, B, { bytesSent: 400 })]));
    const second = flushUntilSettled(resolver);
    const removed = second.filter((c) => c.removed).map((c) => `${c.scope} ${c.dst.kind === 'workload' ? c.dst.cluster : ''}`);
    expect(removed.sort()).toEqual(['hop:intermediary:lb-1 c-prod-v001', 'via:intermediary:lb-1 c-prod-v001']);
    held.apply(second);
    expect(held.find('cluster:a-prod-v001', 'cluster:c-prod-v001')).toEqual([]);
    expect(held.find('cluster:a-prod-v001', 'cluster:b-prod-v001')[0]).toMatchObject({ bytesSent: 1000, confidence: 1 });
  });

  it('withdraws everything of a snapshot replaced by an empty one', () => {
    const resolver = newResolver();
    const held = new AppliedContributions();
    resolver.accept(snapshot('p0', DIRECT, [flow(A, B, { bytesSent: 100 })]));
    held.apply(flushUntilSettled(resolver));
    resolver.accept(snapshot('p0', DIRECT, []));
    const second = flushUntilSettled(resolver);
    expect(second).toHaveLength(1);
    expect(second[0]?.removed).toBe(true);
    expect(held.apply(second).all()).toEqual([]);
  });

  it('withdraws a forwarded chain, and what it resolved downstream, when the upstream outbound disappears', () => {
    const resolver = newResolver();
    const held = new AppliedContributions();
    const P = proxy('proxy-1');
    resolver.accept(snapshot('p0', 'intermediary:proxy-1', [flow(A, P, { bytesSent: 500 }), flow(P, LB, { observer: 'network', bytesSent: 520 })]));
    resolver.accept(snapshot('p1', 'intermediary:lb-1', [flow(LB, B, { observer: 'server', bytesSent: 520 })]));
    held.apply(flushUntilSettled(resolver));
    expect(held.find('cluster:a-prod-v001', 'cluster:b-prod-v001')).toHaveLength(1);

    resolver.accept(snapshot('p0', 'intermediary:proxy-1', [flow(A, P, { bytesSent: 500 })]));
    const { contributions, forwards } = resolver.flush();
    expect(forwards).toEqual([expect.objectContaining({ scope: 'chain:intermediary:proxy-1', key: 'intermediary:lb-1', entries: [] })]);
    held.apply(contributions);
    for (const f of forwards) resolver.accept(f);
    held.apply(flushUntilSettled(resolver));

    expect(held.find('cluster:a-prod-v001', 'cluster:b-prod-v001')).toEqual([]);
    expect(held.dependencies().map((c) => `${c.scope} ${c.dst.kind}`)).toEqual(['via:intermediary:proxy-1 intermediary']);
  });
});
