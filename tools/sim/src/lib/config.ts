/** Settings of one simulated run. Every field has a default; see `DEFAULT_SIMULATION_CONFIG`. */
export interface SimulationConfig {
  /** Seed of every random choice: the same seed and settings give byte-identical output. */
  seed: number;
  /** Number of apps in the fleet, the API gateway included (at least 12). */
  apps: number;
  /** First instant of the run, epoch milliseconds; a multiple of `intervalMs`. */
  startMs: number;
  /** Length of the run, minutes. */
  minutes: number;
  /**
   * Reporting interval of the host agents, milliseconds: every connection gets one record per
   * interval it is open in. Keep it equal to (or a divisor of) the pipeline's window.
   */
  intervalMs: number;
  /** Multiplies the rate of short request connections (the bulk of the records); 1 = a few hundred thousand records per 10 minutes. */
  scale: number;
  /** Load balancers in front of apps (at most one per app; fewer when fewer apps have callers). */
  loadBalancers: number;
  /** Share of instances terminated during the run, each address later reused by another app. */
  churnShare: number;
}

export const DEFAULT_SIMULATION_CONFIG: Readonly<SimulationConfig> = {
  seed: 42,
  apps: 220,
  // Monday 2025-03-03 09:00:00 UTC.
  startMs: Date.UTC(2025, 2, 3, 9, 0, 0),
  minutes: 10,
  intervalMs: 10_000,
  scale: 1,
  loadBalancers: 24,
  churnShare: 0.03,
};

export function resolveConfig(overrides: Partial<SimulationConfig> = {}): SimulationConfig {
  const config: SimulationConfig = { ...DEFAULT_SIMULATION_CONFIG };
  for (const [key, value] of Object.entries(overrides) as [keyof SimulationConfig, number | undefined][]) {
    if (value !== undefined) config[key] = value;
  }
  validateConfig(config);
  return config;
}

/** Rejects settings that cannot give a well-defined run. */
export function validateConfig(c: SimulationConfig): void {
  const problems: string[] = [];
  if (!Number.isInteger(c.seed)) problems.push('seed must be an integer');
  if (!Number.isInteger(c.apps) || c.apps < 12) problems.push('apps must be an integer of at least 12');
  if (!Number.isInteger(c.intervalMs) || c.intervalMs < 5_000) problems.push('intervalMs must be an integer of at least 5000');
  else if (!Number.isInteger(c.startMs) || c.startMs % c.intervalMs !== 0) problems.push('startMs must be a multiple of intervalMs');
  if (!(c.minutes >= 1) || !Number.isInteger((c.minutes * 60_000) / c.intervalMs)) {
    problems.push('minutes must be at least 1 and a whole number of intervals');
  }
  if (!(c.scale > 0)) problems.push('scale must be positive');
  if (!Number.isInteger(c.loadBalancers) || c.loadBalancers < 0) problems.push('loadBalancers must be a non-negative integer');
  if (!(c.churnShare >= 0 && c.churnShare <= 0.2)) problems.push('churnShare must be within [0, 0.2]');
  if (problems.length > 0) throw new Error(`invalid simulation config: ${problems.join('; ')}`);
}
