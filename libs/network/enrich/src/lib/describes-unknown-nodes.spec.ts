import { ManualClock } from '@topology/model';
import { contribution, find, workload } from '../testing/contributions';
import { DEFAULT_NETWORK_ENRICHER_CONFIG } from './network-enricher-config';
import { NetworkEnricher } from './network-enricher';

const T0 = 1_700_000_040_000;
const api = workload('api-prod-v001');

describe('unknown nodes', () => {
  it('carry the reason and the address that could not be attributed, at both granularities', () => {
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    enricher.accept(contribution(api, { kind: 'unknown', reason: 'private-unmapped', ip: '10.9.9.9', region: 'us-east-1' }, T0));
    enricher.accept(contribution(api, { kind: 'unknown', reason: 'no-owner-at-time', ip: 'fd00::7' }, T0));
    enricher.accept(contribution({ kind: 'unknown', reason: 'missing-address', ip: '' }, api, T0));
    const { nodes, buckets } = enricher.flush();
    const unknown = nodes.filter((n) => n.kind === 'unknown').sort((a, b) => a.id.localeCompare(b.id));
    expect(unknown).toEqual([
      { id: 'unknown:missing-address/', kind: 'unknown', displayName: 'missing-address', unknownReason: 'missing-address', firstSeenMs: T0 + 1, lastSeenMs: T0 + 2 },
      { id: 'unknown:no-owner-at-time/fd00::7', kind: 'unknown', displayName: 'fd00::7', unknownReason: 'no-owner-at-time', address: 'fd00::7', firstSeenMs: T0 + 1, lastSeenMs: T0 + 2 },
      {
        id: 'unknown:private-unmapped/10.9.9.9',
        kind: 'unknown',
        displayName: '10.9.9.9',
        unknownReason: 'private-unmapped',
        address: '10.9.9.9',
        region: 'us-east-1',
        firstSeenMs: T0 + 1,
        lastSeenMs: T0 + 2,
      },
    ]);
    expect(find(buckets, 'cluster', 'cluster:api-prod-v001', 'unknown:private-unmapped/10.9.9.9')).toBeDefined();
    expect(find(buckets, 'app', 'app:api', 'unknown:private-unmapped/10.9.9.9')).toBeDefined();
    expect(find(buckets, 'app', 'unknown:missing-address/', 'app:api')).toBeDefined();
  });
});
