import { ClickHouseRequestStore, ServerExecutor, redactedUrl } from '@topology/clickhouse-store';
import { EmbeddedGraphStore } from '@topology/graph-store-embedded';
import { applicationBucketMerger } from '@topology/ipc-ingest';
import { StoreError, networkBucketMerger, type ApplicationEdgeProps, type BucketMerger, type Granularity, type Layer, type NetworkEdgeProps } from '@topology/model';
import { TopologyQueryService, type LayerSource, type TracePathAnswer, type TracePathReader } from '@topology/query';
import { createGatewayMicroservice } from '@topology/runtime-gateway';
import { Liveness, Readiness, createMetricsRegistry, listenOps, startTracing, type RunningApp } from '@topology/runtime-pipeline';
import type { QueryGatewayAppConfig, RequestLayerSource } from './query-gateway.config';
import { StoreOpenedLater } from './store-opened-later';
import { TracedLayerReader } from './traced-layer-reader';

export interface QueryGatewayApp extends RunningApp {
  grpcAddress: string;
  httpAddress: string;
  /** Resolves once the application store is open (never, when the deployment serves no application layer and none appears). */
  applicationOpened: Promise<void>;
  /** Resolves once the request store is open (never, when the deployment serves no request layer or its tables never appear). */
  requestOpened: Promise<void>;
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
    let requestOpened: Promise<void> = new Promise(() => undefined);
    let traces: TracePathReader | undefined;
    const requestSource = config.request;
    if (requestSource !== undefined) {
      const where = `ClickHouse ${redactedUrl(requestSource.url)}${requestSource.database === undefined ? '' : `, database ${requestSource.database}`}`;
      const request = new StoreOpenedLater('request', `${where}: waiting for the trace-aggregator's tables`);
      let opened: ClickHouseRequestStore | undefined;
      sources.push({ layer: 'request', reader: new TracedLayerReader('request', request) });
      traces = {
        tracePath: (traceId: string, granularity: Granularity): Promise<TracePathAnswer | undefined> =>
          opened === undefined ? Promise.reject(new Error(`the request store is not open yet (${where})`)) : opened.tracePath(traceId, granularity),
      };
      requestOpened = openRequestWhenCreated(config, requestSource, log, () => stopped).then(async (store) => {
        if (store === undefined) return;
        if (stopped) {
          await store.close();
          return;
        }
        stores.push(store);
        opened = store;
        request.open(store);
        log(`[query-gateway] request store on ${where} is open`);
      });
      requestOpened.catch((e: unknown) => log(`[query-gateway] the request store cannot be opened: ${e instanceof Error ? e.message : String(e)}`));
    }
    const service = new TopologyQueryService(sources, { liveTtlMs: config.liveTtlMs }, traces === undefined ? {} : { traces });
    const gateway = await createGatewayMicroservice({ url: config.grpcAddress, service });
    readiness.ready('grpc');
    return {
      grpcAddress: gateway.address,
      httpAddress,
      applicationOpened,
      requestOpened,
      banner: () => [
        `query-gateway ${config.instanceId} is running`,
        `  gRPC API          ${gateway.address}   (grpcurl -plaintext localhost:${gateway.port} list)`,
        `  network store     ${config.dataDir}/network.sqlite (read-only)`,
        `  application store ${applicationDir === undefined ? 'not served' : `${applicationDir}/application.sqlite (read-only, served once the ipc-ingestor created it)`}`,
        `  request store     ${requestSource === undefined ? 'not served (TOPOLOGY_CLICKHOUSE_URL)' : `ClickHouse ${redactedUrl(requestSource.url)} (read-only, served once the trace-aggregator created its tables)`}`,
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

/**
 * Tries `open` until it succeeds, waiting `retryMs` after each failure `worthWaiting` accepts (any
 * other throws), and logging each new reason once; undefined when the gateway stopped first.
 */
async function openWhenAvailable<T>(open: () => Promise<T>, worthWaiting: (error: unknown) => boolean, retryMs: number, log: (problem: string) => void, stopped: () => boolean): Promise<T | undefined> {
  let lastProblem = '';
  while (!stopped()) {
    try {
      return await open();
    } catch (e) {
      if (!worthWaiting(e)) throw e;
      const problem = e instanceof Error ? e.message : String(e);
      if (problem !== lastProblem) {
        lastProblem = problem;
        log(problem);
      }
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }
  return undefined;
}

/** Opens a layer's store read-only once its writer has created it; undefined when the gateway stopped first. */
function openWhenCreated<P>(
  config: QueryGatewayAppConfig,
  layer: Layer,
  dir: string,
  merger: BucketMerger<P>,
  log: (message: string) => void,
  stopped: () => boolean,
): Promise<EmbeddedGraphStore<P> | undefined> {
  return openWhenAvailable(
    () => EmbeddedGraphStore.open<P>({ dir, layer, bucketMs: config.bucketMs, readonly: true }, merger),
    (e) => e instanceof StoreError && e.code === 'unavailable',
    config.storeRetryMs,
    (problem) => log(`[query-gateway] ${problem}; waiting for the ${layer === 'network' ? 'enricher' : 'ipc-ingestor'}`),
    stopped,
  );
}

/**
 * Opens the request layer read-only on the ClickHouse server once the trace-aggregator has created
 * its tables. A server not answering yet is waited for as well, so a gateway started before
 * ClickHouse serves the other layers meanwhile; undefined when the gateway stopped first.
 */
function openRequestWhenCreated(config: QueryGatewayAppConfig, source: RequestLayerSource, log: (message: string) => void, stopped: () => boolean): Promise<ClickHouseRequestStore | undefined> {
  return openWhenAvailable(
    async () => {
      const executor = new ServerExecutor({ url: source.url, ...(source.database === undefined ? {} : { database: source.database }) });
      try {
        return await ClickHouseRequestStore.open(
          executor,
          { bucketMs: config.bucketMs, memoryHorizonMs: source.memoryHorizonMs, refreshIntervalMs: source.refreshIntervalMs },
          { readOnly: true },
        );
      } catch (e) {
        await executor.close().catch(() => undefined);
        throw e;
      }
    },
    () => true,
    Math.max(config.storeRetryMs, 1_000),
    (problem) => log(`[query-gateway] request store: ${problem}; waiting`),
    stopped,
  );
}
