import { ManualClock } from '@topology/model';
import { contribution, workload } from '../testing/contributions';
import { DEFAULT_NETWORK_ENRICHER_CONFIG } from './network-enricher-config';
import { NetworkEnricher } from './network-enricher';

const T0 = 1_700_000_040_000;
const api = workload('api-prod-v001');
const db = workload('db-prod-v001');

describe('health events', () => {
  it('sets the health of exactly the node named, and the latest report wins', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    enricher.accept(contribution(api, db, T0));
    const first = enricher.flush().nodes;
    // Without a report the store keeps its own value (`unknown` for a new node).
    for (const n of first) expect(n.health).toBeUndefined();

    enricher.applyMetadata({ health: { nodeId: 'cluster:db-prod-v001', health: 'unhealthy', atMs: T0 + 10 } });
    expect(enricher.flush().nodes).toEqual([expect.objectContaining({ id: 'cluster:db-prod-v001', health: 'unhealthy' })]);

    enricher.applyMetadata({ health: { nodeId: 'cluster:db-prod-v001', health: 'healthy', atMs: T0 + 5 } });
    expect(enricher.flush().nodes).toEqual([]);
    expect(enricher.counters.get('health_events_stale')).toBe(1);

    enricher.applyMetadata({ health: { nodeId: 'cluster:db-prod-v001', health: 'degraded', atMs: T0 + 20 } });
    enricher.applyMetadata({ health: { nodeId: 'app:db', health: 'healthy', atMs: T0 + 20 } });
    const later = Object.fromEntries(enricher.flush().nodes.map((n) => [n.id, n.health]));
    expect(later).toEqual({ 'cluster:db-prod-v001': 'degraded', 'app:db': 'healthy' });
  });

  it('holds a report for a node not seen yet until the node appears', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    enricher.applyMetadata({ health: { nodeId: 'app:api', health: 'degraded', atMs: T0 } });
    expect(enricher.flush().nodes).toEqual([]);
    enricher.accept(contribution(api, db, T0));
    expect(enricher.flush().nodes.find((n) => n.id === 'app:api')?.health).toBe('degraded');
  });
});
