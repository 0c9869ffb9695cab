import { generateTraffic, planFleet, type SimulationBatch } from '@topology/sim';
import { mapDifferences, mapInOneProcess } from './lib/network-map';

jest.setTimeout(300_000);

/**
 * The enricher folds cluster-level contributions into app-level buckets. Two instances in one
 * consumer group each hold some partitions of `edges.resolved.v1`: the map is unchanged only if
 * every contribution to one app-level edge reaches the same instance.
 */
describe('two enrichers in one consumer group', () => {
  it('write the map one enricher writes, at cluster and at app level', async () => {
    const fleet = planFleet({ seed: 11, apps: 40, minutes: 3 });
    const batches: SimulationBatch[] = [...generateTraffic(fleet)];
    const range = { fromMs: fleet.startMs, toMs: fleet.endMs + 60_000 };
    const one = await mapInOneProcess(fleet, batches, range);
    const two = await mapInOneProcess(fleet, batches, range, undefined, 2);
    expect([...one.keys()].filter((k) => k.startsWith('app ')).length).toBeGreaterThan(20);
    expect(mapDifferences(two, one)).toEqual([]);
  });
});
