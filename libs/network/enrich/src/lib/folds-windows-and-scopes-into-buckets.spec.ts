import { ManualClock } from '@topology/model';
import { contribution, find, workload } from '../testing/contributions';
import { DEFAULT_NETWORK_ENRICHER_CONFIG } from './network-enricher-config';
import { NetworkEnricher } from './network-enricher';

// A bucket boundary: 28 333 334 minutes after the epoch.
const T0 = 1_700_000_040_000;
const api = workload('api-prod-v001');
const db = workload('db-prod-v001');

describe('folding windows and scopes into history buckets', () => {
  it('sums every window and scope of a bucket into one payload, with one path per via list', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    enricher.accept(contribution(api, db, T0, { bytes: 1000, rttSumUs: 3000, rttSamples: 3 }));
    enricher.accept(contribution(api, db, T0 + 10_000, { bytes: 2000, rttSumUs: 1000, rttSamples: 1, ports: [{ port: 443, protocol: 'tcp' }] }));
    enricher.accept(
      contribution(api, db, T0 + 50_000, {
        bytes: 4000,
        scope: 'via:intermediary:lb-1',
        via: ['intermediary:lb-1'],
        confidence: 0.5,
        connections: 0.5,
        ports: [{ port: 8080, protocol: 'tcp' }],
      }),
    );
    // Same window, another scope: a raw hop seen alongside the resolved edge.
    enricher.accept(contribution(api, db, T0 + 50_000, { bytes: 0, scope: 'hop:intermediary:lb-9', hop: true, packetsSent: 0, packetsReceived: 0, connections: 0 }));
    enricher.accept(contribution(api, db, T0 + 60_000, { bytes: 7000 }));

    const { buckets } = enricher.flush();

    const first = find(buckets, 'cluster', 'cluster:api-prod-v001', 'cluster:db-prod-v001', T0);
    expect(first).toBeDefined();
    expect(first?.firstSeenMs).toBe(T0 + 1);
    expect(first?.lastSeenMs).toBe(T0 + 50_002);
    const p = first?.props;
    expect(p?.bytesSent).toBe(1000 + 2000 + 4000);
    expect(p?.bytesReceived).toBe(500 + 1000 + 2000);
    expect(p?.packetsSent).toBe(30);
    expect(p?.connections).toBe(2.5);
    expect(p?.ports).toEqual([
      { port: 443, protocol: 'tcp' },
      { port: 8080, protocol: 'tcp' },
    ]);
    expect(p?.paths).toEqual([
      { via: ['intermediary:lb-1'], bytes: 6000, confidence: 0.5 },
      { via: [], bytes: 4500, confidence: 1 },
    ]);
    expect(p?.confidence).toBeCloseTo((6000 * 0.5 + 4500) / 10_500, 12);
    expect(p?.rttMeanUs).toBe(4000 / 4);
    expect(p?.hop).toBe(false);

    const second = find(buckets, 'cluster', 'cluster:api-prod-v001', 'cluster:db-prod-v001', T0 + 60_000);
    expect(second?.props.bytesSent).toBe(7000);
    expect(second?.props.rttMeanUs).toBeUndefined();
    expect(buckets.filter((b) => b.granularity === 'cluster')).toHaveLength(2);
  });

  it('marks a bucket as a hop only when every contribution in it is one', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    const lb = { kind: 'intermediary', id: 'lb-1', type: 'load-balancer' } as const;
    enricher.accept(contribution(api, lb, T0, { scope: 'hop:intermediary:lb-1', hop: true }));
    enricher.accept(contribution(api, lb, T0 + 20_000, { scope: 'hop:intermediary:lb-1', hop: true }));
    const { buckets } = enricher.flush();
    expect(find(buckets, 'cluster', 'cluster:api-prod-v001', 'intermediary:lb-1')?.props.hop).toBe(true);
    expect(find(buckets, 'app', 'app:api', 'intermediary:lb-1')?.props.hop).toBe(true);

    enricher.accept(contribution(api, lb, T0 + 30_000, { scope: 'via:intermediary:lb-1', hop: false }));
    const after = enricher.flush().buckets;
    expect(find(after, 'cluster', 'cluster:api-prod-v001', 'intermediary:lb-1')?.props.hop).toBe(false);
  });

  it('aligns buckets to the bucket width, whatever the window width', () => {
    const enricher = new NetworkEnricher({ bucketMs: 300_000, windowMs: 5_000, retentionMs: 3_600_000 }, new ManualClock(T0));
    const start = 1_700_000_250_000; // 150 000 ms into the bucket starting at 1_700_000_100_000
    enricher.accept(contribution(api, db, start, { bytes: 10 }));
    enricher.accept(contribution(api, db, start + 5_000, { bytes: 20 }));
    const { buckets } = enricher.flush();
    const cluster = buckets.filter((b) => b.granularity === 'cluster');
    expect(cluster).toHaveLength(1);
    expect(cluster[0]?.bucketStartMs).toBe(start - 150_000);
    expect(cluster[0]?.props.bytesSent).toBe(30);
  });
});
