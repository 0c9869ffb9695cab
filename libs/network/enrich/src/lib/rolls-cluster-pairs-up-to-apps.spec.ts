import { ManualClock } from '@topology/model';
import { contribution, find, lb, workload } from '../testing/contributions';
import { DEFAULT_NETWORK_ENRICHER_CONFIG } from './network-enricher-config';
import { NetworkEnricher } from './network-enricher';

const T0 = 1_700_000_040_000;

describe('rolling cluster-level buckets up to apps', () => {
  it('sums every cluster pair of an app pair and keeps their via paths', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    enricher.accept(contribution(workload('api-prod-v001'), workload('db-prod-v001'), T0, { bytes: 1000, rttSumUs: 1000, rttSamples: 1 }));
    enricher.accept(
      contribution(workload('api-prod-v002'), workload('db-prod-v001'), T0 + 10_000, {
        bytes: 2000,
        scope: 'via:intermediary:lb-1',
        via: ['intermediary:lb-1'],
        confidence: 0.5,
        rttSumUs: 5000,
        rttSamples: 4,
      }),
    );
    enricher.accept(contribution(workload('api-prod-v001'), workload('db-canary-v003'), T0 + 20_000, { bytes: 4000, ports: [{ port: 5432, protocol: 'tcp' }] }));

    const { buckets } = enricher.flush();

    expect(buckets.filter((b) => b.granularity === 'cluster')).toHaveLength(3);
    const app = buckets.filter((b) => b.granularity === 'app');
    expect(app).toHaveLength(1);
    const rolled = find(buckets, 'app', 'app:api', 'app:db', T0);
    expect(rolled?.props).toMatchObject({
      bytesSent: 7000,
      bytesReceived: 3500,
      packetsSent: 30,
      connections: 3,
      ports: [
        { port: 443, protocol: 'tcp' },
        { port: 5432, protocol: 'tcp' },
      ],
      paths: [
        { via: [], bytes: 1500 + 6000, confidence: 1 },
        { via: ['intermediary:lb-1'], bytes: 3000, confidence: 0.5 },
      ],
      hop: false,
    });
    // Exact over all samples, not a mean of means.
    expect(rolled?.props.rttMeanUs).toBe(6000 / 5);
    expect(rolled?.props.confidence).toBeCloseTo((7500 + 1500) / 10_500, 12);
    expect(rolled?.firstSeenMs).toBe(T0 + 1);
    expect(rolled?.lastSeenMs).toBe(T0 + 20_002);
  });

  it('keeps calls between clusters of one app as an app-level self-loop', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    enricher.accept(contribution(workload('api-prod-v001'), workload('api-canary-v002'), T0, { bytes: 100 }));
    const { buckets } = enricher.flush();
    expect(find(buckets, 'cluster', 'cluster:api-prod-v001', 'cluster:api-canary-v002')?.props.bytesSent).toBe(100);
    expect(find(buckets, 'app', 'app:api', 'app:api')?.props.bytesSent).toBe(100);
  });

  it('names an intermediary the same at both granularities', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    enricher.accept(contribution(workload('api-prod-v001'), lb('lb-1'), T0, { hop: true, scope: 'hop:intermediary:lb-1' }));
    enricher.accept(contribution(workload('api-prod-v002'), lb('lb-1'), T0, { hop: true, scope: 'hop:intermediary:lb-1', bytes: 3000 }));
    const { buckets } = enricher.flush();
    expect(find(buckets, 'cluster', 'cluster:api-prod-v001', 'intermediary:lb-1')?.props.bytesSent).toBe(1000);
    expect(find(buckets, 'app', 'app:api', 'intermediary:lb-1')?.props.bytesSent).toBe(4000);
  });

  it('updates the app-level bucket when only one of its cluster pairs changes', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    enricher.accept(contribution(workload('api-prod-v001'), workload('db-prod-v001'), T0, { bytes: 1000 }));
    enricher.accept(contribution(workload('api-prod-v002'), workload('db-prod-v001'), T0, { bytes: 2000 }));
    enricher.flush();
    enricher.accept(contribution(workload('api-prod-v002'), workload('db-prod-v001'), T0 + 10_000, { bytes: 500 }));
    const { buckets } = enricher.flush();
    expect(buckets.map((b) => `${b.granularity} ${b.src}`).sort()).toEqual(['app app:api', 'cluster cluster:api-prod-v002']);
    expect(find(buckets, 'app', 'app:api', 'app:db')?.props.bytesSent).toBe(3500);
  });

  it('takes the app from the cluster name when a workload peer has none', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    enricher.accept(contribution({ kind: 'workload', app: '', cluster: 'billing-prod-v004' }, workload('db-prod-v001'), T0));
    const { buckets, nodes } = enricher.flush();
    expect(find(buckets, 'app', 'app:billing', 'app:db')).toBeDefined();
    expect(nodes.find((n) => n.id === 'cluster:billing-prod-v004')?.app).toBe('billing');
  });
});
