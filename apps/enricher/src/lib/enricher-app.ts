import * as fs from 'fs';
import { EmbeddedGraphStore } from '@topology/graph-store-embedded';
import { networkBucketMerger, type NetworkEdgeProps } from '@topology/model';
import { EnrichStage, StageAppHost, networkStageConfigs, type RunningApp } from '@topology/runtime-pipeline';
import type { EnricherAppConfig } from './enricher.config';

export interface EnricherApp extends RunningApp {
  host: StageAppHost;
}

/**
 * Stage 3 as its own process: `edges.resolved.v1` in, the network layer written to the embedded
 * store, which the query gateway reads from another process on the same machine.
 */
export async function startEnricher(config: EnricherAppConfig, log?: (message: string) => void): Promise<EnricherApp> {
  fs.mkdirSync(config.dataDir, { recursive: true });
  const store = await EmbeddedGraphStore.open<NetworkEdgeProps>({ dir: config.dataDir, layer: 'network', bucketMs: config.network.bucketMs }, networkBucketMerger);
  try {
    const host = await StageAppHost.start(
      config,
      async (ctx) => {
        const { enricher } = networkStageConfigs(config.network);
        return {
          runner: new EnrichStage({ ...ctx.runnerOptions, enricher, store, retentionMs: config.retentionMs }),
          close: () => store.close(),
        };
      },
      log,
    );
    return {
      host,
      banner: () => [
        `enricher ${config.instanceId} is running`,
        `  cluster ${config.brokers.join(',')}, group ${config.groupId}, topics prefix ${JSON.stringify(config.topicPrefix)}`,
        `  network store ${config.dataDir}/network.sqlite`,
        `  probes and metrics http://${host.httpAddress}/readyz /healthz /metrics`,
      ],
      stop: () => host.stop(),
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}
