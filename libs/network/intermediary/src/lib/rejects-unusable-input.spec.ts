import type { FlowAggregate, FlowPartialSnapshot } from '@topology/contracts';
import { ManualClock } from '@topology/model';
import { AppliedContributions, flow, flushUntilSettled, snapshot, workload } from '../testing/resolution-run';
import { IntermediaryResolver } from './intermediary-resolver';
import { DEFAULT_INTERMEDIARY_RESOLVER_CONFIG, validateIntermediaryResolverConfig } from './intermediary-resolver-config';

const A = workload('a-prod-v001');
const B = workload('b-prod-v001');
const DIRECT = 'cluster:a-prod-v001 -> cluster:b-prod-v001';

function newResolver(): IntermediaryResolver {
  return new IntermediaryResolver(DEFAULT_INTERMEDIARY_RESOLVER_CONFIG, new ManualClock(5_000));
}

describe('unusable input', () => {
  it.each<[string, Partial<FlowPartialSnapshot>, string]>([
    ['a window that ends before it starts', { window: { startMs: 10_000, endMs: 0 } }, 'invalid-time'],
    ['a window with a non-numeric start', { window: { startMs: Number.NaN, endMs: 10_000 } }, 'invalid-time'],
    ['an empty scope', { scope: '' }, 'missing-field'],
    ['an empty key', { key: '' }, 'missing-field'],
    ['a chain scope whose key is not an intermediary', { scope: 'chain:intermediary:lb-1', key: DIRECT }, 'invalid-value'],
  ])('rejects a snapshot with %s whole, without throwing', (_name, change, reason) => {
    const resolver = newResolver();
    const rejections = resolver.accept({ ...snapshot('p0', DIRECT, [flow(A, B, { bytesSent: 1 })]), ...change });
    expect(rejections.map((r) => r.reason)).toEqual([reason]);
    expect(typeof rejections[0]?.raw).toBe('string');
    expect(resolver.counters.get('snapshots_rejected', reason)).toBe(1);
    expect(resolver.flush().contributions).toEqual([]);
  });

  it('drops unusable entries, keeps the rest of the snapshot, and says why for each', () => {
    const resolver = newResolver();
    const bad: FlowAggregate[] = [
      flow(A, B, { bytesSent: Number.NaN }),
      flow(A, B, { bytesReceived: -5 }),
      flow(A, B, { dstPort: 70_000 }),
      flow(workload('has space-v001'), B),
      flow(A, { kind: 'intermediary', id: '', type: 'load-balancer' }),
      flow(A, B, { confidence: 1.5 }),
      flow(A, B, { via: ['intermediary:lb 1'] }),
      { ...flow(A, B), observer: 'sideways' as FlowAggregate['observer'] },
    ];
    const rejections = resolver.accept(snapshot('p0', DIRECT, [...bad, flow(A, B, { bytesSent: 42 })]));
    expect(rejections).toHaveLength(bad.length);
    expect(new Set(rejections.map((r) => r.reason))).toEqual(new Set(['invalid-value']));
    expect(resolver.counters.get('entries_rejected')).toBe(bad.length);
    const held = new AppliedContributions().apply(flushUntilSettled(resolver));
    expect(held.all().map((c) => c.bytesSent)).toEqual([42]);
  });

  it('takes a workload without an app under the app its cluster name gives', () => {
    const resolver = newResolver();
    resolver.accept(snapshot('p0', DIRECT, [flow({ kind: 'workload', app: '', cluster: 'a-prod-v001' }, B, { bytesSent: 3 })]));
    const [contribution] = resolver.flush().contributions;
    expect(contribution?.src).toEqual({ kind: 'workload', app: 'a', cluster: 'a-prod-v001' });
  });

  it('rejects metadata it cannot apply', () => {
    const resolver = newResolver();
    expect(resolver.applyMetadata({ listener: { intermediaryId: '', port: 443, targetClusters: ['x'] } })).toHaveLength(1);
    expect(resolver.applyMetadata({ app: { app: ' ', intermediaryType: 'proxy' } })).toHaveLength(1);
    expect(resolver.applyMetadata({ health: { nodeId: 'app:a', health: 'healthy', atMs: 1 } })).toEqual([]);
    expect(resolver.counters.get('metadata_rejected')).toBe(2);
  });
});

describe('configuration', () => {
  it('accepts the defaults', () => {
    expect(validateIntermediaryResolverConfig(DEFAULT_INTERMEDIARY_RESOLVER_CONFIG)).toEqual([]);
  });

  it('names every problem of a configuration that cannot work, and refuses to start with it', () => {
    const config = { maxChainDepth: 0, retentionMs: -1 };
    expect(validateIntermediaryResolverConfig(config)).toHaveLength(2);
    expect(() => new IntermediaryResolver(config, new ManualClock())).toThrow(/maxChainDepth.*retentionMs/);
  });
});
