import { deriveDependencies } from '../testing/derive-dependencies';
import { simulationRun } from '../testing/default-run';

describe.each([
  { seed: 1, apps: 12, minutes: 1 },
  { seed: 2, apps: 60, minutes: 2, intervalMs: 5_000 },
  { seed: 3, apps: 300, minutes: 1, scale: 0.5, churnShare: 0.1 },
])('the ground truth of %j', (config) => {
  const { fleet, truth, output } = simulationRun(config);

  it('is exactly what the records imply', () => {
    const derived = deriveDependencies(output, fleet.config.intervalMs);
    expect(derived.unattributed).toEqual([]);
    expect(derived.clusterEdges).toEqual(truth.clusterEdges);
    expect(derived.appEdges).toEqual(truth.appEdges);
  });

  it('still holds for a pipeline window six times the reporting interval', () => {
    const derived = deriveDependencies(output, fleet.config.intervalMs * 6);
    expect(derived.clusterEdges).toEqual(truth.clusterEdges);
  });
});
