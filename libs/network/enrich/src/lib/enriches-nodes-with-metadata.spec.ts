import type { NodeUpsert } from '@topology/model';
import { ManualClock } from '@topology/model';
import { contribution, lb, workload } from '../testing/contributions';
import { DEFAULT_NETWORK_ENRICHER_CONFIG } from './network-enricher-config';
import { NetworkEnricher } from './network-enricher';

const T0 = 1_700_000_040_000;
const api = workload('api-prod-v001', { region: 'us-east-1', account: '111' });
const db = workload('db-prod-v001', { region: 'us-east-1' });

function byId(nodes: NodeUpsert[]): Record<string, NodeUpsert> {
  return Object.fromEntries(nodes.map((n) => [n.id, n]));
}

describe('nodes and their metadata', () => {
  it('describes each workload peer at app and cluster granularity with its seen range', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    enricher.accept(contribution(api, db, T0, { firstSeenMs: T0 + 5, lastSeenMs: T0 + 9 }));
    enricher.accept(contribution(api, db, T0 + 20_000, { firstSeenMs: T0 + 20_001, lastSeenMs: T0 + 29_000 }));
    const nodes = byId(enricher.flush().nodes);
    expect(Object.keys(nodes).sort()).toEqual(['app:api', 'app:db', 'cluster:api-prod-v001', 'cluster:db-prod-v001']);
    expect(nodes['app:api']).toEqual({
      id: 'app:api',
      kind: 'app',
      granularity: 'app',
      displayName: 'api',
      app: 'api',
      region: 'us-east-1',
      account: '111',
      firstSeenMs: T0 + 5,
      lastSeenMs: T0 + 29_000,
    });
    expect(nodes['cluster:api-prod-v001']).toEqual({
      id: 'cluster:api-prod-v001',
      kind: 'cluster',
      granularity: 'cluster',
      displayName: 'api-prod-v001',
      app: 'api',
      cluster: 'api-prod-v001',
      region: 'us-east-1',
      account: '111',
      firstSeenMs: T0 + 5,
      lastSeenMs: T0 + 29_000,
    });
  });

  it('writes a node again when app metadata arrives after it was first written, and only the nodes of that app', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    enricher.accept(contribution(api, db, T0));
    enricher.accept(contribution(workload('api-canary-v002'), db, T0));
    enricher.flush();

    enricher.applyMetadata({ app: { app: 'api', owner: 'team-checkout', domain: 'commerce', tier: 'tier-1' } });
    const nodes = byId(enricher.flush().nodes);
    expect(Object.keys(nodes).sort()).toEqual(['app:api', 'cluster:api-canary-v002', 'cluster:api-prod-v001']);
    for (const n of Object.values(nodes)) expect(n).toMatchObject({ owner: 'team-checkout', domain: 'commerce', tier: 'tier-1' });

    // The same metadata again changes nothing, so nothing is written.
    enricher.applyMetadata({ app: { app: 'api', owner: 'team-checkout', domain: 'commerce', tier: 'tier-1' } });
    expect(enricher.flush().nodes).toEqual([]);
  });

  it('applies metadata that arrived before the node was seen', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    enricher.applyMetadata({ app: { app: 'db', owner: 'team-data', intermediaryType: 'proxy' } });
    enricher.applyMetadata({ ipAssignment: { ip: '10.0.9.9', intermediaryId: 'lb-1', type: 'nat-gateway', name: 'egress-nat', region: 'eu-west-1', fromMs: 1 } });
    enricher.applyMetadata({ externalRange: { cidr: '54.187.0.0/16', name: 'stripe' } });
    enricher.accept(contribution(api, db, T0));
    enricher.accept(contribution(api, lb('lb-1', 'from-the-flow'), T0, { hop: true, scope: 'hop:intermediary:lb-1' }));
    enricher.accept(contribution(lb('lb-1'), { kind: 'external', name: 'stripe', cidr: '54.188.0.0/16' }, T0, { hop: true, scope: 'hop:intermediary:lb-1' }));
    const nodes = byId(enricher.flush().nodes);
    expect(nodes['app:db']).toMatchObject({ owner: 'team-data', intermediaryType: 'proxy' });
    expect(nodes['cluster:db-prod-v001']).toMatchObject({ owner: 'team-data' });
    expect(nodes['app:api']?.owner).toBeUndefined();
    expect(nodes['intermediary:lb-1']).toEqual({
      id: 'intermediary:lb-1',
      kind: 'intermediary',
      displayName: 'egress-nat',
      intermediaryType: 'nat-gateway',
      region: 'eu-west-1',
      firstSeenMs: T0 + 1,
      lastSeenMs: T0 + 2,
    });
    expect(nodes['external:stripe']).toMatchObject({ kind: 'external', displayName: 'stripe', address: '54.187.0.0/16, 54.188.0.0/16' });
    expect(nodes['external:stripe']?.granularity).toBeUndefined();
  });

  it('names an intermediary from the flow until an assignment names it, then rewrites it', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    enricher.accept(contribution(api, lb('lb-7'), T0, { hop: true, scope: 'hop:intermediary:lb-7' }));
    expect(byId(enricher.flush().nodes)['intermediary:lb-7']).toMatchObject({ displayName: 'lb-7', intermediaryType: 'load-balancer' });
    enricher.applyMetadata({ ipAssignment: { ip: '10.0.7.7', intermediaryId: 'lb-7', type: 'load-balancer', name: 'orders-alb', fromMs: 1 } });
    expect(enricher.flush().nodes).toEqual([expect.objectContaining({ id: 'intermediary:lb-7', displayName: 'orders-alb' })]);
  });

  it('states a region only while the app was seen in exactly one', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    enricher.accept(contribution(api, db, T0));
    enricher.accept(contribution(workload('api-prod-v009', { region: 'eu-west-1' }), db, T0));
    const nodes = byId(enricher.flush().nodes);
    expect(nodes['app:api']?.region).toBeUndefined();
    expect(nodes['cluster:api-prod-v001']?.region).toBe('us-east-1');
    expect(nodes['cluster:api-prod-v009']?.region).toBe('eu-west-1');
  });

  it('writes a node again when its seen range grows, and not when it does not', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    enricher.accept(contribution(api, db, T0));
    enricher.flush();
    enricher.accept(contribution(api, db, T0, { scope: 'via:intermediary:lb-1', via: ['intermediary:lb-1'] }));
    expect(enricher.flush().nodes).toEqual([]);
    enricher.accept(contribution(api, db, T0 + 10_000));
    expect(enricher.flush().nodes.map((n) => [n.id, n.lastSeenMs])).toEqual(
      expect.arrayContaining([
        ['app:api', T0 + 10_002],
        ['cluster:db-prod-v001', T0 + 10_002],
      ]),
    );
  });
});
