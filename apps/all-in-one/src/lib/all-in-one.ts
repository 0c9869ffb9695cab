import * as fs from 'fs';
import * as path from 'path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { InProcessBus } from '@topology/bus-in-process';
import { Topics } from '@topology/contracts';
import { EmbeddedGraphStore } from '@topology/graph-store-embedded';
import { applicationBucketMerger, DEFAULT_IPC_INGESTOR_CONFIG } from '@topology/ipc-ingest';
import { networkBucketMerger, systemClock, type ApplicationEdgeProps, type Clock, type NetworkEdgeProps } from '@topology/model';
import { TopologyQueryService } from '@topology/query';
import { createGatewayMicroservice, type GatewayMicroservice } from '@topology/runtime-gateway';
import { ChdbExecutor, ClickHouseRequestStore, ServerExecutor } from '@topology/clickhouse-store';
import {
  EnrichStage,
  FlowIngestStage,
  HttpIntakeModule,
  IpcIngestStage,
  IpcIntakeModule,
  OtlpGrpcReceiver,
  OtlpHttpReceiver,
  OtlpIntake,
  ResolveStage,
  createMetricsRegistry,
  networkStageConfigs,
  publishMetadata,
  type AllInOneConfig,
  type StageRunnerOptions,
} from '@topology/runtime-pipeline';
import {
  TraceAggregateStage,
  ZipkinReceiver,
  exportCounterSet,
  loadRequestLayerConfig,
  requestStoreConfig,
  traceAggregatorConfig,
  type RequestLayerConfig,
} from '@topology/runtime-pipeline';
import type { INestApplication } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { FLOWS_SIGNAL, IPC_METRICS_SIGNAL, SimulatedSignalFeed, TRACES_SIGNAL } from './simulated-signal-feed';

export interface AllInOneOptions {
  clock?: Clock;
  log?: (message: string) => void;
  /** Observes every persisted flush: arrival times of the records it made queryable. */
  onPersisted?: (ingestedAtMs: number[], persistedAtMs: number) => void;
  /** Request-layer settings over those read from the environment (`loadRequestLayerConfig`). */
  requestLayer?: Partial<RequestLayerConfig>;
}

/** The request layer: its ClickHouse store (chdb in `<dataDir>/request` unless a server is named), its stage and its Zipkin receiver. */
export interface RequestLayer {
  config: RequestLayerConfig;
  store: ClickHouseRequestStore;
  stage: TraceAggregateStage;
  zipkin: ZipkinReceiver;
  /** The simulated fleet's sampled traces, when the fleet is simulated. */
  feed: SimulatedSignalFeed | undefined;
}

/** Partitions of the in-process topics: enough to spread a hot key's neighbours, few enough to stay cheap. */
const PARTITIONS = 4;

/** The application layer: its store (a file of its own), its stage and the OTLP receivers that feed it. */
export interface ApplicationLayer {
  store: EmbeddedGraphStore<ApplicationEdgeProps>;
  otlpHttp: OtlpHttpReceiver;
  otlpGrpc: OtlpGrpcReceiver;
  /** The simulated fleet's IPC metrics, when the fleet is simulated. */
  feed: SimulatedSignalFeed | undefined;
}

@Module({})
class AllInOneHttpModule {}

/**
 * The whole platform in one process: the three network stages over the in-process bus, the
 * embedded network store, the gRPC query API, HTTP intake and probes, and (optionally) the
 * simulated fleet. Stages are the same classes the standalone apps run over Kafka.
 */
export class AllInOne {
  private constructor(
    readonly config: AllInOneConfig,
    readonly bus: InProcessBus,
    readonly store: EmbeddedGraphStore<NetworkEdgeProps>,
    readonly registry: Registry,
    readonly stages: { ingest: FlowIngestStage; resolve: ResolveStage; enrich: EnrichStage; ipc: IpcIngestStage },
    readonly gateway: GatewayMicroservice,
    readonly http: INestApplication,
    readonly httpAddress: string,
    /** The simulated fleet's flows and metadata, when the fleet is simulated. */
    readonly feed: SimulatedSignalFeed | undefined,
    readonly application: ApplicationLayer,
    readonly request: RequestLayer,
  ) {}

  get grpcAddress(): string {
    return this.gateway.address;
  }

  static async start(config: AllInOneConfig, options: AllInOneOptions = {}): Promise<AllInOne> {
    const clock = options.clock ?? systemClock;
    const log = options.log ?? ((m: string) => console.error(m));
    fs.mkdirSync(config.dataDir, { recursive: true });
    const registry = createMetricsRegistry({ app: 'all-in-one' });
    const bus = new InProcessBus({ defaultPartitions: PARTITIONS, clock });
    await bus.ensureTopics(Object.values(Topics).map((topic) => ({ topic, partitions: topic === Topics.metadata ? 1 : PARTITIONS })));
    const store = await EmbeddedGraphStore.open<NetworkEdgeProps>({ dir: config.dataDir, layer: 'network', bucketMs: config.bucketMs }, networkBucketMerger);
    const applicationStore = await EmbeddedGraphStore.open<ApplicationEdgeProps>({ dir: config.dataDir, layer: 'application', bucketMs: config.bucketMs }, applicationBucketMerger);

    const common: StageRunnerOptions = {
      bus,
      clock,
      registry,
      instanceId: `all-in-one-${process.pid}`,
      flushIntervalMs: config.flushIntervalMs,
      // One bus batch: a handler waits for the flush, so a larger bound could never trigger one early.
      maxPendingRecords: 1_000,
      log,
    };
    const stageConfigs = networkStageConfigs(config);
    const stages = {
      enrich: new EnrichStage({
        ...common,
        store,
        retentionMs: config.retentionMs,
        enricher: stageConfigs.enricher,
        ...(options.onPersisted ? { onPersisted: options.onPersisted } : {}),
      }),
      resolve: new ResolveStage({ ...common, resolver: stageConfigs.resolver }),
      ingest: new FlowIngestStage({ ...common, region: config.region, ingestor: stageConfigs.ingestor }),
      ipc: new IpcIngestStage({ ...common, store: applicationStore, retentionMs: config.retentionMs, ingestor: { ...DEFAULT_IPC_INGESTOR_CONFIG, bucketMs: config.bucketMs } }),
    };
    await stages.ipc.start();
    await stages.enrich.start();
    await stages.resolve.start();
    await stages.ingest.start();

    const requestConfig: RequestLayerConfig = { ...loadRequestLayerConfig(process.env, { httpAddress: config.httpAddress }), ...options.requestLayer };
    const requestStore = await ClickHouseRequestStore.open(
      requestConfig.clickhouseUrl === undefined
        ? new ChdbExecutor(path.join(config.dataDir, 'request'))
        : new ServerExecutor({ url: requestConfig.clickhouseUrl, ...(requestConfig.clickhouseDatabase === undefined ? {} : { database: requestConfig.clickhouseDatabase }) }),
      requestStoreConfig(requestConfig, config),
    );
    exportCounterSet(registry, 'topology_request_store', requestStore.counters);
    // The in-process bus starts empty and is never read again: each start writes totals of its own.
    const traceStage = new TraceAggregateStage({ ...common, store: requestStore, writerId: `all-in-one-${clock.now()}`, aggregator: traceAggregatorConfig(requestConfig, config.bucketMs) });
    await traceStage.start();

    if (config.metadataFile) {
      await publishMetadata(bus, fs.readFileSync(path.resolve(config.metadataFile)));
    }

    const service = new TopologyQueryService(
      [
        { layer: 'network', reader: store },
        { layer: 'application', reader: applicationStore },
        { layer: 'request', reader: requestStore },
      ],
      { liveTtlMs: config.liveTtlMs },
      { clock, traces: requestStore },
    );
    const gateway = await createGatewayMicroservice({ url: config.grpcAddress, service });

    const httpModule = { module: AllInOneHttpModule, imports: [HttpIntakeModule.forRoot({ bus, registry }), IpcIntakeModule.forRoot({ bus })] };
    const http = await NestFactory.create(httpModule, { bodyParser: false, logger: ['error', 'warn'] });
    const [host, port] = splitAddress(config.httpAddress);
    await http.listen(port, host);
    const bound = http.getHttpServer().address();
    const httpAddress = `${host}:${typeof bound === 'object' && bound ? bound.port : port}`;
    const otlpIntake = new OtlpIntake(bus, registry);
    const otlpHttp = await OtlpHttpReceiver.start({ intake: otlpIntake, address: config.otlpHttpAddress, log });
    const otlpGrpc = await OtlpGrpcReceiver.start({ intake: otlpIntake, address: config.otlpGrpcAddress });
    const zipkin = await ZipkinReceiver.start({ bus, address: requestConfig.zipkinAddress, log });

    let feed: SimulatedSignalFeed | undefined;
    let ipcFeed: SimulatedSignalFeed | undefined;
    let traceFeed: SimulatedSignalFeed | undefined;
    if (config.simulate) {
      const simulated = { bus, clock, seed: config.simulationSeed, apps: config.simulationApps, intervalMs: config.windowMs, log };
      feed = new SimulatedSignalFeed({ ...simulated, signal: FLOWS_SIGNAL });
      ipcFeed = new SimulatedSignalFeed({ ...simulated, signal: IPC_METRICS_SIGNAL });
      traceFeed = new SimulatedSignalFeed({ ...simulated, signal: TRACES_SIGNAL });
      for (const f of [feed, ipcFeed, traceFeed]) f.start();
    }
    return new AllInOne(config, bus, store, registry, stages, gateway, http, httpAddress, feed, { store: applicationStore, otlpHttp, otlpGrpc, feed: ipcFeed }, {
      config: requestConfig,
      store: requestStore,
      stage: traceStage,
      zipkin,
      feed: traceFeed,
    });
  }

  /**
   * Pushes everything received so far through every stage into the store: flushes the stages in
   * pipeline order until the bus is quiet. Used by tests, the replay command and shutdown.
   */
  async drain(): Promise<void> {
    for (let round = 0; round < 12; round++) {
      const before = this.publishedCount();
      await this.bus.settled();
      await this.stages.ingest.flushNow();
      await this.bus.settled();
      await this.stages.resolve.flushNow();
      await this.bus.settled();
      await this.stages.enrich.flushNow();
      await this.bus.settled();
      await this.stages.ipc.flushNow();
      await this.bus.settled();
      // Traces still waiting for spans are paired now: draining means nothing more is coming.
      await this.request.stage.settle();
      if (this.publishedCount() === before) return;
    }
  }

  /** Stops intake, drains the pipeline into the store, and closes everything. */
  async stop(): Promise<void> {
    await this.feed?.stop();
    await this.application.feed?.stop();
    await this.request.feed?.stop();
    await this.http.close();
    await this.application.otlpHttp.close();
    await this.application.otlpGrpc.close();
    await this.request.zipkin.close();
    await this.drain();
    await this.stages.ingest.stop();
    await this.stages.resolve.stop();
    await this.stages.enrich.stop();
    await this.stages.ipc.stop();
    await this.request.stage.stop();
    await this.gateway.close();
    await this.bus.close();
    await this.store.close();
    await this.application.store.close();
    await this.request.store.close();
  }

  private publishedCount(): number {
    return this.bus.counters.get('messages_published');
  }
}

function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon) || '0.0.0.0', Number(address.slice(colon + 1))];
}
