import { ManualClock, nodeId } from '@topology/model';
import { contribution, find, workload } from '../testing/contributions';
import { NetworkEnricher } from './network-enricher';

const T0 = 1_700_000_040_000;
const config = { bucketMs: 60_000, windowMs: 10_000, retentionMs: 120_000 };
const api = workload('api-prod-v001');
const db = workload('db-prod-v001');

describe('retention of in-memory state (processing time)', () => {
  it('drops buckets and nodes without contributions for longer than retentionMs, and keeps active ones', () => {
    const clock = new ManualClock(T0);
    const enricher = new NetworkEnricher(config, clock);
    enricher.accept(contribution(api, db, T0));
    enricher.accept(contribution(workload('web-prod-v001'), api, T0));
    enricher.flush();
    expect(enricher.stateSize()).toEqual({ clusterBuckets: 2, appBuckets: 2, nodes: 6 });

    clock.advance(100_000);
    enricher.accept(contribution(api, db, T0 + 10_000));
    enricher.flush();
    clock.advance(30_000);
    enricher.flush();
    // web → api was last touched 130 s ago; api → db 30 s ago.
    expect(enricher.stateSize()).toEqual({ clusterBuckets: 1, appBuckets: 1, nodes: 4 });
    expect(enricher.counters.get('buckets_expired')).toBe(1);
    expect(enricher.counters.get('nodes_expired')).toBe(2);

    clock.advance(200_000);
    enricher.flush();
    expect(enricher.stateSize()).toEqual({ clusterBuckets: 0, appBuckets: 0, nodes: 0 });
  });

  it('expires cluster buckets together with their app bucket, so a late sibling never rewrites the app bucket without them', () => {
    const clock = new ManualClock(T0);
    const enricher = new NetworkEnricher(config, clock);
    enricher.accept(contribution(api, db, T0, { bytes: 1000 }));
    enricher.flush();
    clock.advance(100_000);
    enricher.accept(contribution(workload('api-prod-v002'), db, T0 + 10_000, { bytes: 2000 }));
    enricher.flush();
    clock.advance(100_000);
    enricher.flush();
    // api-prod-v001 → db was untouched for 200 s, but its app bucket was touched 100 s ago: both stay.
    expect(enricher.stateSize().clusterBuckets).toBe(2);
    enricher.accept(contribution(workload('api-prod-v002'), db, T0 + 20_000, { bytes: 4000 }));
    expect(find(enricher.flush().buckets, 'app', 'app:api', 'app:db')?.props.bytesSent).toBe(7000);
  });

  it('says which cluster buckets it still holds, until their last contribution is removed or they expire', () => {
    const clock = new ManualClock(T0);
    const enricher = new NetworkEnricher(config, clock);
    const web = workload('web-prod-v001');
    enricher.accept(contribution(api, db, T0));
    enricher.accept(contribution(web, api, T0));
    enricher.flush();
    expect(enricher.holdsBucket(nodeId('cluster', 'api-prod-v001'), nodeId('cluster', 'db-prod-v001'), T0)).toBe(true);
    expect(enricher.holdsBucket(nodeId('cluster', 'api-prod-v001'), nodeId('cluster', 'db-prod-v001'), T0 + 60_000)).toBe(false);

    enricher.accept({ ...contribution(api, db, T0), removed: true });
    enricher.flush();
    expect(enricher.holdsBucket(nodeId('cluster', 'api-prod-v001'), nodeId('cluster', 'db-prod-v001'), T0)).toBe(false);
    expect(enricher.holdsBucket(nodeId('cluster', 'web-prod-v001'), nodeId('cluster', 'api-prod-v001'), T0)).toBe(true);

    clock.advance(200_000);
    enricher.flush();
    expect(enricher.holdsBucket(nodeId('cluster', 'web-prod-v001'), nodeId('cluster', 'api-prod-v001'), T0)).toBe(false);
  });
});
