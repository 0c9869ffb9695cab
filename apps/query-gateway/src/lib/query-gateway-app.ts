import { EmbeddedGraphStore } from '@topology/graph-store-embedded';
import { StoreError, networkBucketMerger, type NetworkEdgeProps } from '@topology/model';
import { TopologyQueryService } from '@topology/query';
import { createGatewayMicroservice } from '@topology/runtime-gateway';
import { Liveness, Readiness, createMetricsRegistry, listenOps, startTracing, type RunningApp } from '@topology/runtime-pipeline';
import type { QueryGatewayAppConfig } from './query-gateway.config';
import { TracedLayerReader } from './traced-layer-reader';

export interface QueryGatewayApp extends RunningApp {
  grpcAddress: string;
  httpAddress: string;
}

/**
 * The query API as its own process: `topology.v1.TopologyService` over gRPC on the network layer
 * the enricher writes, read from the shared embedded store (read-only; readers see each write
 * whole). Until the enricher has created the store, the gateway waits and is not ready.
 */
export async function startQueryGateway(config: QueryGatewayAppConfig, log: (message: string) => void = (m) => console.error(m)): Promise<QueryGatewayApp> {
  const tracing = startTracing({ enabled: config.tracing, serviceName: 'topology-query-gateway', instanceId: config.instanceId });
  const registry = createMetricsRegistry({ app: 'query-gateway' });
  const readiness = new Readiness(['network-store', 'grpc']);
  const { http, address: httpAddress } = await listenOps(config.httpAddress, registry, readiness, new Liveness());
  let store: EmbeddedGraphStore<NetworkEdgeProps> | undefined;
  try {
    store = await openWhenCreated(config, log);
    readiness.ready('network-store');
    const service = new TopologyQueryService([{ layer: 'network', reader: new TracedLayerReader('network', store) }], { liveTtlMs: config.liveTtlMs });
    const gateway = await createGatewayMicroservice({ url: config.grpcAddress, service });
    readiness.ready('grpc');
    const opened = store;
    return {
      grpcAddress: gateway.address,
      httpAddress,
      banner: () => [
        `query-gateway ${config.instanceId} is running`,
        `  gRPC API      ${gateway.address}   (grpcurl -plaintext localhost:${gateway.port} list)`,
        `  network store ${config.dataDir}/network.sqlite (read-only)`,
        `  probes and metrics http://${httpAddress}/readyz /healthz /metrics`,
      ],
      stop: async () => {
        readiness.waitFor('stopping');
        await gateway.close();
        await opened.close();
        await http.close();
        await tracing.shutdown();
      },
    };
  } catch (e) {
    await Promise.allSettled([store?.close(), http.close(), tracing.shutdown()]);
    throw e;
  }
}

async function openWhenCreated(config: QueryGatewayAppConfig, log: (message: string) => void): Promise<EmbeddedGraphStore<NetworkEdgeProps>> {
  let waitingSince: number | undefined;
  for (;;) {
    try {
      return await EmbeddedGraphStore.open<NetworkEdgeProps>({ dir: config.dataDir, layer: 'network', bucketMs: config.bucketMs, readonly: true }, networkBucketMerger);
    } catch (e) {
      if (!(e instanceof StoreError) || e.code !== 'unavailable') throw e;
      if (waitingSince === undefined) {
        waitingSince = Date.now();
        log(`[query-gateway] ${e.message}; waiting for the enricher`);
      }
      await new Promise((resolve) => setTimeout(resolve, config.storeRetryMs));
    }
  }
}
