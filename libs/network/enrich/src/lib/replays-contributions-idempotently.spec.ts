import type { EdgeContribution } from '@topology/contracts';
import { ManualClock } from '@topology/model';
import { contribution, lb, sorted, workload } from '../testing/contributions';
import { DEFAULT_NETWORK_ENRICHER_CONFIG } from './network-enricher-config';
import { NetworkEnricher } from './network-enricher';

const T0 = 1_700_000_040_000;

function traffic(): EdgeContribution[] {
  const api1 = workload('api-prod-v001');
  const api2 = workload('api-prod-v002');
  const db = workload('db-prod-v001');
  return [
    contribution(api1, db, T0, { bytes: 1000, rttSumUs: 700, rttSamples: 3 }),
    contribution(api2, db, T0 + 10_000, { bytes: 333, scope: 'via:intermediary:lb-1', via: ['intermediary:lb-1'], confidence: 0.3 }),
    contribution(api1, lb('lb-1'), T0 + 10_000, { bytes: 333, scope: 'hop:intermediary:lb-1', hop: true }),
    contribution(lb('lb-1'), db, T0 + 10_000, { bytes: 333, scope: 'hop:intermediary:lb-1', hop: true }),
    contribution(api1, db, T0 + 70_000, { bytes: 5 }),
    contribution(api1, db, T0 + 10_000, { removed: true }),
  ];
}

describe('replaying contributions', () => {
  it('emits nothing when the same contributions arrive again', () => {
    const clock = new ManualClock(T0);
    const enricher = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, clock);
    for (const c of traffic()) enricher.accept(c);
    const first = enricher.flush();
    expect(first.buckets.length).toBeGreaterThan(0);

    clock.advance(5_000);
    for (const c of traffic()) enricher.accept(c);
    expect(enricher.flush()).toEqual({ nodes: [], buckets: [], withdrawn: [] });
    expect(enricher.counters.get('contributions_unchanged')).toBe(5);
  });

  it('reaches the same buckets whether each contribution arrived once or twice', () => {
    const once = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    for (const c of traffic()) once.accept(c);
    const replayed = new NetworkEnricher(DEFAULT_NETWORK_ENRICHER_CONFIG, new ManualClock(T0));
    for (const c of [...traffic(), ...traffic()]) replayed.accept(c);

    const expected = sorted(once.flush().buckets);
    expect(expected).toHaveLength(5 + 4);
    expect(sorted(replayed.flush().buckets)).toEqual(expected);
  });
});
