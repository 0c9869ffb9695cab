import type { SimulationConfig } from '../lib/config';
import { Fleet, planFleet } from '../lib/fleet';
import { generateTraffic } from '../lib/traffic';
import { FleetTruth, fleetTruth } from '../lib/truth';
import { collect, SimulationOutput } from './read-simulation';

export interface SimulationRun {
  fleet: Fleet;
  truth: FleetTruth;
  output: SimulationOutput;
}

const runs = new Map<string, SimulationRun>();

/** A whole run held in memory, generated once per test file and settings. */
export function simulationRun(config: Partial<SimulationConfig> = {}): SimulationRun {
  const key = JSON.stringify(config);
  let run = runs.get(key);
  if (!run) {
    const fleet = planFleet(config);
    run = { fleet, truth: fleetTruth(fleet), output: collect(generateTraffic(fleet)) };
    runs.set(key, run);
  }
  return run;
}
