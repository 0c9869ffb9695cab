import { emptyNetworkProps, ManualClock } from '@topology/model';
import { contribution, find, workload } from '../testing/contributions';
import { DEFAULT_NETWORK_ENRICHER_CONFIG } from './network-enricher-config';
import { NetworkEnricher } from './network-enricher';

const T0 = 1_700_000_040_000;
const api = workload('api-prod-v001');
const db = workload('db-prod-v001');
const API_DB = ['cluster:api-prod-v001', 'cluster:db-prod-v001'] as const;

describe('replacing and removing contributions', () => {
  it('replaces a contribution for the same window and scope, and removal takes exactly it out', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    enricher.accept(contribution(api, db, T0, { bytes: 1000 }));
    enricher.accept(contribution(api, db, T0 + 10_000, { bytes: 2000 }));
    expect(find(enricher.flush().buckets, 'cluster', ...API_DB)?.props.bytesSent).toBe(3000);

    enricher.accept(contribution(api, db, T0, { bytes: 500 }));
    let out = enricher.flush().buckets;
    expect(out).toHaveLength(2);
    expect(find(out, 'cluster', ...API_DB)?.props.bytesSent).toBe(2500);
    expect(find(out, 'app', 'app:api', 'app:db')?.props.bytesSent).toBe(2500);

    // The same window under another scope is a different contribution.
    enricher.accept(contribution(api, db, T0, { bytes: 100, scope: 'via:intermediary:lb-1', via: ['intermediary:lb-1'] }));
    expect(find(enricher.flush().buckets, 'cluster', ...API_DB)?.props.bytesSent).toBe(2600);

    enricher.accept(contribution(api, db, T0 + 10_000, { removed: true }));
    out = enricher.flush().buckets;
    const after = find(out, 'cluster', ...API_DB);
    expect(after?.props.bytesSent).toBe(600);
    expect(after?.props.paths.map((p) => p.bytes)).toEqual([750, 150]);
    expect(counters(enricher)).toMatchObject({ contributions_accepted: 3, contributions_replaced: 1, contributions_removed: 1 });
  });

  it('writes a bucket whose last contribution was removed as an all-zero hop, once', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    enricher.accept(contribution(api, db, T0, { bytes: 1000 }));
    enricher.flush();

    enricher.accept(contribution(api, db, T0, { removed: true, bytes: 0 }));
    const out = enricher.flush();
    expect(out.buckets).toHaveLength(2);
    for (const b of out.buckets) {
      expect(b.props).toEqual(emptyNetworkProps());
      expect(b.bucketStartMs).toBe(T0);
    }
    expect(out.withdrawn.map((w) => `${w.granularity} ${w.src} ${w.dst}`).sort()).toEqual(['app app:api app:db', 'cluster cluster:api-prod-v001 cluster:db-prod-v001']);
    expect(out.nodes).toEqual([]);

    expect(enricher.flush()).toEqual({ nodes: [], buckets: [], withdrawn: [] });
    expect(enricher.stateSize()).toMatchObject({ clusterBuckets: 0, appBuckets: 0 });
  });

  it('keeps the app-level bucket of the remaining cluster pairs when one pair is withdrawn', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    enricher.accept(contribution(api, db, T0, { bytes: 1000 }));
    enricher.accept(contribution(workload('api-prod-v002'), db, T0, { bytes: 2000 }));
    enricher.flush();
    enricher.accept(contribution(api, db, T0, { removed: true }));
    const out = enricher.flush();
    expect(find(out.buckets, 'cluster', ...API_DB)?.props).toEqual(emptyNetworkProps());
    expect(find(out.buckets, 'app', 'app:api', 'app:db')?.props.bytesSent).toBe(2000);
    expect(out.withdrawn).toHaveLength(1);
  });

  it('emits nothing for a contribution added and removed between two flushes, or a removal of something never held', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    enricher.accept(contribution(api, db, T0, { bytes: 1000 }));
    enricher.accept(contribution(api, db, T0, { removed: true }));
    enricher.accept(contribution(api, db, T0 + 60_000, { removed: true }));
    expect(enricher.flush().buckets).toEqual([]);
    expect(enricher.counters.get('removals_unmatched')).toBe(1);
  });
});

function counters(e: NetworkEnricher): Record<string, number> {
  return Object.fromEntries(e.counters.entries().map((c) => [c.name, c.value]));
}
