import { ResolveStage, StageAppHost, networkStageConfigs, type RunningApp } from '@topology/runtime-pipeline';
import type { IntermediaryResolverAppConfig } from './intermediary-resolver.config';

export interface IntermediaryResolverApp extends RunningApp {
  host: StageAppHost;
}

/** Stage 2 as its own process: `flows.partial.v1` in, `edges.resolved.v1` (and chain forwards) out. Instances share the partitions. */
export async function startIntermediaryResolver(config: IntermediaryResolverAppConfig, log?: (message: string) => void): Promise<IntermediaryResolverApp> {
  const host = await StageAppHost.start(
    config,
    async (ctx) => {
      const { resolver } = networkStageConfigs(config.network);
      return { runner: new ResolveStage({ ...ctx.runnerOptions, resolver: { ...resolver, maxChainDepth: config.maxChainDepth } }) };
    },
    log,
  );
  return {
    host,
    banner: () => [
      `intermediary-resolver ${config.instanceId} is running`,
      `  cluster ${config.brokers.join(',')}, group ${config.groupId}, topics prefix ${JSON.stringify(config.topicPrefix)}`,
      `  probes and metrics http://${host.httpAddress}/readyz /healthz /metrics`,
    ],
    stop: () => host.stop(),
  };
}
