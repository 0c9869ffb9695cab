import { EmbeddedGraphStore } from '@topology/graph-store-embedded';
import { applicationBucketMerger } from '@topology/ipc-ingest';
import { StoreError, networkBucketMerger, type ApplicationEdgeProps, type BucketMerger, type Layer, type NetworkEdgeProps } from '@topology/model';
import { TopologyQueryService, type LayerSource } from '@topology/query';
import { createGatewayMicroservice } from '@topology/runtime-gateway';
import { Liveness, Readiness, createMetricsRegistry, listenOps, startTracing, type RunningApp } from '@topology/runtime-pipeline';
import type { QueryGatewayAppConfig } from './query-gateway.config';
import { StoreOpenedLater } from './store-opened-later';
import { TracedLayerReader } from './traced-layer-reader';

export interface QueryGatewayApp extends RunningApp {
  grpcAddress: string;
  httpAddress: string;
  /** Resolves once the application store is open (never, when the deployment serves no application layer and none appears). */
  applicationOpened: Promise<void>;
}

/**
 * The query API as its own process: `topology.v1.TopologyService` over gRPC on the network layer
 * the enricher writes and the application layer the ipc-ingestor writes, each read from its shared
 * embedded store (read-only; readers see each write whole). Until the enricher has created the
 * network store, the gateway waits and is not ready. The application store is waited for in the
 * background: until it exists, answers carry the application layer as failed, saying why, and a
 * deployment without application metrics serves the network layer all the same.
 */
export async function startQueryGateway(config: QueryGatewayAppConfig, log: (message: string) => void = (m) => console.error(m)): Promise<QueryGatewayApp> {
  const tracing = startTracing({ enabled: config.tracing, serviceName: 'topology-query-gateway', instanceId: config.instanceId });
  const registry = createMetricsRegistry({ app: 'query-gateway' });
  const readiness = new Readiness(['network-store', 'grpc']);
  const { http, address: httpAddress } = await listenOps(config.httpAddress, registry, readiness, new Liveness());
  const stores: { close(): Promise<void> }[] = [];
  let stopped = false;
  try {
    const network = await openWhenCreated<NetworkEdgeProps>(config, 'network', config.dataDir, networkBucketMerger, log, () => stopped);
    if (network === undefined) throw new Error('stopped before the network store was created');
    stores.push(network);
    readiness.ready('network-store');
    const sources: LayerSource[] = [{ layer: 'network', reader: new TracedLayerReader('network', network) }];
    let applicationOpened: Promise<void> = new Promise(() => undefined);
    const applicationDir = config.applicationDataDir;
    if (applicationDir !== undefined) {
      const application = new StoreOpenedLater('application', `${applicationDir}/application.sqlite: waiting for the ipc-ingestor`);
      sources.push({ layer: 'application', reader: new TracedLayerReader('application', application) });
      applicationOpened = openWhenCreated<ApplicationEdgeProps>(config, 'application', applicationDir, applicationBucketMerger, log, () => stopped).then(async (store) => {
        if (store === undefined) return;
        if (stopped) {
          await store.close();
          return;
        }
        stores.push(store);
        application.open(store);
        log(`[query-gateway] application store ${applicationDir}/application.sqlite is open`);
      });
      applicationOpened.catch((e: unknown) => log(`[query-gateway] the application store cannot be opened: ${e instanceof Error ? e.message : String(e)}`));
    }
    const service = new TopologyQueryService(sources, { liveTtlMs: config.liveTtlMs });
    const gateway = await createGatewayMicroservice({ url: config.grpcAddress, service });
    readiness.ready('grpc');
    return {
      grpcAddress: gateway.address,
      httpAddress,
      applicationOpened,
      banner: () => [
        `query-gateway ${config.instanceId} is running`,
        `  gRPC API          ${gateway.address}   (grpcurl -plaintext localhost:${gateway.port} list)`,
        `  network store     ${config.dataDir}/network.sqlite (read-only)`,
        `  application store ${applicationDir === undefined ? 'not served' : `${applicationDir}/application.sqlite (read-only, served once the ipc-ingestor created it)`}`,
        `  probes and metrics http://${httpAddress}/readyz /healthz /metrics`,
      ],
      stop: async () => {
        stopped = true;
        readiness.waitFor('stopping');
        await gateway.close();
        await Promise.all(stores.map((s) => s.close()));
        await http.close();
        await tracing.shutdown();
      },
    };
  } catch (e) {
    stopped = true;
    await Promise.allSettled([...stores.map((s) => s.close()), http.close(), tracing.shutdown()]);
    throw e;
  }
}

/** Opens a layer's store read-only once its writer has created it; undefined when the gateway stopped first. */
async function openWhenCreated<P>(
  config: QueryGatewayAppConfig,
  layer: Layer,
  dir: string,
  merger: BucketMerger<P>,
  log: (message: string) => void,
  stopped: () => boolean,
): Promise<EmbeddedGraphStore<P> | undefined> {
  let waiting = false;
  while (!stopped()) {
    try {
      return await EmbeddedGraphStore.open<P>({ dir, layer, bucketMs: config.bucketMs, readonly: true }, merger);
    } catch (e) {
      if (!(e instanceof StoreError) || e.code !== 'unavailable') throw e;
      if (!waiting) {
        waiting = true;
        log(`[query-gateway] ${e.message}; waiting for the ${layer === 'network' ? 'enricher' : 'ipc-ingestor'}`);
      }
      await new Promise((resolve) => setTimeout(resolve, config.storeRetryMs));
    }
  }
  return undefined;
}
