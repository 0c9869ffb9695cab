import { ConfigError, EnvReader, readStageAppConfig, stageAppConfigProblems, type StageAppConfig } from '@topology/runtime-pipeline';

export interface IntermediaryResolverAppConfig extends StageAppConfig {
  /** Most intermediaries one resolved path may pass through. */
  maxChainDepth: number;
}

/** Reads and checks the intermediary-resolver's environment; throws a ConfigError listing every wrong value. */
export function loadIntermediaryResolverConfig(env: NodeJS.ProcessEnv = process.env): IntermediaryResolverAppConfig {
  const r = new EnvReader(env);
  const base = readStageAppConfig(r, 'intermediary-resolver', '0.0.0.0:4382');
  const maxChainDepth = r.int('TOPOLOGY_MAX_CHAIN_DEPTH', 4, { min: 1, max: 32 });
  const problems = [...r.problems];
  if (problems.length === 0) problems.push(...stageAppConfigProblems(base));
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...base, maxChainDepth };
}
