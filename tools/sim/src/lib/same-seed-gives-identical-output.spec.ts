import { createHash } from 'crypto';
import type { SimulationConfig } from './config';
import { flowRecordJson } from './flow-record-json';
import { planFleet } from './fleet';
import { simulateFleet } from './traffic';
import { fleetTruth } from './truth';

function outputHash(config: Partial<SimulationConfig>): string {
  const hash = createHash('sha256');
  for (const batch of simulateFleet(config)) {
    for (const f of batch.flows) hash.update(flowRecordJson(f)).update('\n');
    for (const line of batch.natFlowLog) hash.update(line).update('\n');
    for (const m of batch.metadata) hash.update(JSON.stringify(m)).update('\n');
  }
  hash.update(JSON.stringify(fleetTruth(planFleet(config))));
  return hash.digest('hex');
}

describe('determinism', () => {
  const config = { seed: 42, apps: 100, minutes: 2 };

  it('gives byte-identical output for the same seed', () => {
    expect(outputHash(config)).toBe(outputHash({ ...config }));
  });

  it('gives different output for a different seed', () => {
    expect(outputHash({ ...config, seed: 43 })).not.toBe(outputHash(config));
  });

  it('keeps the fleet when only the run length changes', () => {
    const short = planFleet({ seed: 7, minutes: 2 });
    const long = planFleet({ seed: 7, minutes: 4 });
    expect(long.clusters.map((c) => c.name)).toEqual(short.clusters.map((c) => c.name));
  });
});
