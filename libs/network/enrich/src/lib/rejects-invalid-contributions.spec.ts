import type { EdgeContribution } from '@topology/contracts';
import { ManualClock } from '@topology/model';
import { contribution, workload } from '../testing/contributions';
import { DEFAULT_NETWORK_ENRICHER_CONFIG } from './network-enricher-config';
import { NetworkEnricher } from './network-enricher';

const T0 = 1_700_000_040_000;
const api = workload('api-prod-v001');
const db = workload('db-prod-v001');

describe('invalid contributions', () => {
  it.each<[string, EdgeContribution, string]>([
    ['a NaN byte count', contribution(api, db, T0, { bytesSent: NaN }), 'invalid-value'],
    ['a negative packet count', contribution(api, db, T0, { packetsReceived: -1 }), 'invalid-value'],
    ['a confidence above one', contribution(api, db, T0, { confidence: 1.5 }), 'invalid-value'],
    ['a via entry that is not a node id', contribution(api, db, T0, { via: ['lb-1'] }), 'invalid-value'],
    ['a port out of range', contribution(api, db, T0, { ports: [{ port: 70_000, protocol: 'tcp' }] }), 'invalid-value'],
    ['a cluster name with whitespace', contribution(workload('api prod'), db, T0), 'invalid-value'],
    ['an empty external name', contribution(api, { kind: 'external', name: '' }, T0), 'invalid-value'],
    ['a negative window start', contribution(api, db, -10_000), 'invalid-time'],
    ['a seen range that ends before it starts', contribution(api, db, T0, { firstSeenMs: T0 + 5, lastSeenMs: T0 + 1 }), 'invalid-time'],
    ['an empty scope', contribution(api, db, T0, { scope: '' }), 'missing-field'],
  ])('rejects %s without throwing, and keeps nothing of it', (_, c, reason) => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    const rejection = enricher.accept(c);
    expect(rejection).toMatchObject({ reason, raw: expect.any(String) });
    expect(enricher.counters.get('contributions_rejected', reason)).toBe(1);
    expect(enricher.flush()).toEqual({ nodes: [], buckets: [], withdrawn: [] });
  });

  it('takes a removal with zeroed counters', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    enricher.accept(contribution(api, db, T0));
    enricher.flush();
    expect(enricher.accept(contribution(api, db, T0, { removed: true, bytesSent: 0, bytesReceived: 0, confidence: 0, firstSeenMs: 0, lastSeenMs: 0 }))).toBeUndefined();
    expect(enricher.counters.get('contributions_removed')).toBe(1);
  });
});
