import * as fs from 'fs';
import { EmbeddedGraphStore } from '@topology/graph-store-embedded';
import { applicationBucketMerger } from '@topology/ipc-ingest';
import type { ApplicationEdgeProps } from '@topology/model';
import { IpcIngestStage, StageAppHost, type RunningApp } from '@topology/runtime-pipeline';
import type { IpcIngestorAppConfig } from './ipc-ingestor.config';

export interface IpcIngestorApp extends RunningApp {
  host: StageAppHost;
}

/**
 * The application layer's ingestor as its own process: `otlp_metrics` and `ipc.metrics.v1` in, the
 * application layer written to its embedded store, which the query gateway reads from another
 * process on the same machine.
 */
export async function startIpcIngestor(config: IpcIngestorAppConfig, log?: (message: string) => void): Promise<IpcIngestorApp> {
  fs.mkdirSync(config.dataDir, { recursive: true });
  const store = await EmbeddedGraphStore.open<ApplicationEdgeProps>({ dir: config.dataDir, layer: 'application', bucketMs: config.ipc.bucketMs }, applicationBucketMerger);
  try {
    const host = await StageAppHost.start(
      config,
      async (ctx) => ({
        runner: new IpcIngestStage({ ...ctx.runnerOptions, ingestor: config.ipc, store, retentionMs: config.retentionMs }),
        close: () => store.close(),
      }),
      log,
    );
    return {
      host,
      banner: () => [
        `ipc-ingestor ${config.instanceId} is running`,
        `  cluster ${config.brokers.join(',')}, group ${config.groupId}, topics ${config.topics.otlpMetrics} ${config.topics.ipcMetrics}`,
        `  application store ${config.dataDir}/application.sqlite (bucket ${config.ipc.bucketMs} ms, lateness ${config.ipc.allowedLatenessMs} ms)`,
        `  probes and metrics http://${host.httpAddress}/readyz /healthz /metrics`,
      ],
      stop: () => host.stop(),
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}
