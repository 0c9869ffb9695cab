import * as fs from 'fs';
import * as path from 'path';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaBus } from '@topology/bus-kafka';
import type { Bus } from '@topology/bus';
import { pipelineTopics, type PipelineTopics } from '@topology/runtime-pipeline';
import { AppProcess, freePort, type AppName, type MetricSample } from './app-process';
import { builtApps } from './built-apps';
import { FAST_REPLAY_WINDOWS } from './network-map';
import type { NetworkWindowSettings } from '@topology/runtime-pipeline';

export interface LocalPipelineOptions {
  /** Brokers of the pipeline cluster, `host:port`. */
  brokers: string;
  /** Regional clusters of the flow-ingestor; by default one region (`local`) on the pipeline cluster. */
  regions?: { region: string; brokers: string }[];
  /** Folder of the run: the shared embedded store and the apps' logs. */
  runDir: string;
  /** Topic and group prefix that keeps this run apart from others on the same brokers. */
  prefix: string;
  /** Partitions of every pipeline topic. */
  partitions?: number;
  /** Instances of the intermediary-resolver, one consumer group. */
  resolvers?: number;
  /** Extra environment of every app, or of one app by its label (`intermediary-resolver-1`). */
  env?: Record<string, string>;
  envOf?: Record<string, Record<string, string>>;
  /** Processes (by label) created but not started; a test starts them later with `restart`. */
  deferred?: string[];
  /** Window settings of every stage; `FAST_REPLAY_WINDOWS` by default. */
  windows?: NetworkWindowSettings;
  /** Leave the apps' Kafka settings at their defaults instead of the small fetches and quick group timeouts tests use. */
  defaultKafkaSettings?: boolean;
  /** Also run the application layer: an ipc-ingestor writing `application.sqlite` beside the network store, which the gateway serves too. */
  application?: boolean;
}

/** Settings that let a killed member leave its group within seconds rather than half a minute. */
const FAST_GROUPS = {
  TOPOLOGY_KAFKA_SESSION_TIMEOUT_MS: '6000',
  TOPOLOGY_KAFKA_REBALANCE_TIMEOUT_MS: '6000',
  TOPOLOGY_KAFKA_HEARTBEAT_INTERVAL_MS: '500',
};

/**
 * The network pipeline as separate processes on this machine, started from the built apps: a
 * flow-ingestor, one or more intermediary-resolvers, an enricher writing the embedded store, and a
 * query gateway reading it; with `application`, also an ipc-ingestor writing the application layer's
 * store in the same folder. Each can be killed (SIGKILL) and started again.
 */
export class LocalPipeline {
  readonly topics: PipelineTopics;
  readonly dataDir: string;
  private constructor(
    readonly options: LocalPipelineOptions,
    readonly ingestor: AppProcess,
    readonly resolvers: AppProcess[],
    readonly enricher: AppProcess,
    readonly gateway: AppProcess,
    readonly grpcAddress: string,
    readonly ipcIngestor: AppProcess | undefined,
  ) {
    this.topics = pipelineTopics(options.prefix);
    this.dataDir = path.join(options.runDir, 'data');
  }

  get stages(): AppProcess[] {
    return [this.ingestor, ...this.resolvers, this.enricher, ...(this.ipcIngestor === undefined ? [] : [this.ipcIngestor])];
  }

  get all(): AppProcess[] {
    return [...this.stages, this.gateway];
  }

  static async start(options: LocalPipelineOptions): Promise<LocalPipeline> {
    const dist = builtApps();
    const dataDir = path.join(options.runDir, 'data');
    const logs = path.join(options.runDir, 'logs');
    fs.mkdirSync(dataDir, { recursive: true });
    const windows = options.windows ?? FAST_REPLAY_WINDOWS;
    const common: Record<string, string> = {
      TOPOLOGY_KAFKA_BROKERS: options.brokers,
      TOPOLOGY_TOPIC_PREFIX: options.prefix,
      TOPOLOGY_TOPIC_PARTITIONS: String(options.partitions ?? 4),
      TOPOLOGY_DATA_DIR: dataDir,
      // Simulated fleets are dated in the past: keep their history.
      TOPOLOGY_RETENTION_MS: String(20 * 365 * 86_400_000),
      TOPOLOGY_KAFKA_LOG_LEVEL: 'error',
      TOPOLOGY_WINDOW_MS: String(windows.windowMs),
      TOPOLOGY_BUCKET_MS: String(windows.bucketMs),
      TOPOLOGY_MAX_OUT_OF_ORDER_MS: String(windows.maxOutOfOrderMs),
      TOPOLOGY_ALLOWED_LATENESS_MS: String(windows.allowedLatenessMs),
      TOPOLOGY_HOLD_BACK_MS: String(windows.holdBackMs),
      ...(options.defaultKafkaSettings
        ? {}
        : {
            // A small simulated fleet writes little per partition: small fetches keep partitions in step in event time.
            TOPOLOGY_KAFKA_MAX_BYTES_PER_PARTITION: '65536',
            ...FAST_GROUPS,
          }),
      ...options.env,
    };
    const regions = options.regions ?? [{ region: 'local', brokers: options.brokers }];
    const regionEnv: Record<string, string> = { TOPOLOGY_REGIONS: regions.map((r) => r.region).join(',') };
    for (const { region, brokers } of regions) regionEnv[`TOPOLOGY_KAFKA_BROKERS_${region.replace(/[^A-Za-z0-9]/g, '_')}`] = brokers;
    const make = async (label: string, app: AppName, extra: Record<string, string> = {}) =>
      new AppProcess(label, app, dist, { ...common, ...extra, ...options.envOf?.[label] }, await freePort(), logs);

    const grpcPort = await freePort();
    const enricher = await make('enricher', 'enricher');
    const resolvers: AppProcess[] = [];
    for (let i = 1; i <= (options.resolvers ?? 1); i++) resolvers.push(await make(`intermediary-resolver-${i}`, 'intermediary-resolver'));
    const ingestor = await make('flow-ingestor', 'flow-ingestor', regionEnv);
    const ipcIngestor = options.application ? await make('ipc-ingestor', 'ipc-ingestor') : undefined;
    const gateway = await make('query-gateway', 'query-gateway', {
      TOPOLOGY_GRPC_ADDRESS: `127.0.0.1:${grpcPort}`,
      ...(options.application ? { TOPOLOGY_APPLICATION_DATA_DIR: dataDir } : { TOPOLOGY_APPLICATION_LAYER: 'false' }),
    });
    const pipeline = new LocalPipeline(options, ingestor, resolvers, enricher, gateway, `127.0.0.1:${grpcPort}`, ipcIngestor);
    try {
      // The enricher creates the store and the topics first; the others then start side by side.
      if (!options.deferred?.includes(enricher.label)) {
        enricher.start();
        await enricher.waitReady();
      }
      const rest = [...resolvers, ingestor, ...(ipcIngestor === undefined ? [] : [ipcIngestor]), gateway].filter((p) => !options.deferred?.includes(p.label));
      for (const p of rest) p.start();
      await Promise.all(rest.map((p) => p.waitReady()));
    } catch (e) {
      await pipeline.stop();
      throw e;
    }
    return pipeline;
  }

  /** Buses on the pipeline cluster and on each region's cluster, to publish a fleet with. */
  buses(): { home: Bus; regions: Map<string, Bus>; close: () => Promise<void> } {
    const config = (brokers: string) => ({ brokers: brokers.split(','), clientId: `${this.options.prefix}feeder`, logLevel: 'error' as const });
    // No retry beyond the adapter's: a publish retried after a failure may write its messages twice, and input has no identity to spot that by.
    const bus = (brokers: string) => new KafkaBus(config(brokers));
    const home = bus(this.options.brokers);
    const regions = new Map<string, Bus>();
    for (const { region, brokers } of this.options.regions ?? []) regions.set(region, brokers === this.options.brokers ? home : bus(brokers));
    return {
      home,
      regions,
      close: async () => {
        await Promise.all([...new Set([home, ...regions.values()])].map((b) => b.close()));
      },
    };
  }

  /**
   * Waits until every stage has read `messages` messages of the metadata topic, as a deployment
   * knows its inventory before its traffic: stages read metadata and records on separate
   * consumers, so records published right after their metadata could otherwise be read first.
   */
  async waitForMetadata(messages: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let behind = 0;
      for (const p of this.stages) {
        if (!p.running) continue;
        const stage = p.app.replace(/-/g, '_');
        const read = (await p.metrics())
          .filter((s) => s.name === `topology_${stage}_consumed_records_total` && s.labels['topic'] === this.topics.metadata)
          .reduce((sum, s) => sum + s.value, 0);
        if (read < messages) behind++;
      }
      if (behind === 0) return;
      if (Date.now() > deadline) throw new Error(`${behind} stages did not read ${messages} metadata messages within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Restarts one process after a crash (or a stop), and waits until it is ready. */
  async restart(process: AppProcess): Promise<void> {
    process.start();
    await process.waitReady();
  }

  /**
   * Waits until every stage has handled every message of its inputs, holds no flow back, and
   * nothing new was written to any input for `stableMs`.
   */
  async waitQuiet(timeoutMs = 180_000, stableMs = 2_000, only?: AppName[]): Promise<void> {
    const all: { stage: string; input: string; topics: string[]; brokers: string }[] = [
      ...(this.options.regions ?? [{ region: 'local', brokers: this.options.brokers }]).map((r) => ({
        stage: 'flow_ingestor',
        input: r.region,
        topics: [this.topics.flowsCanonical, this.topics.flowsVpc, this.topics.flowsHubble],
        brokers: r.brokers,
      })),
      { stage: 'intermediary_resolver', input: 'main', topics: [this.topics.flowsPartial], brokers: this.options.brokers },
      { stage: 'enricher', input: 'main', topics: [this.topics.edgesResolved], brokers: this.options.brokers },
      ...(this.ipcIngestor === undefined ? [] : [{ stage: 'ipc_ingestor', input: 'main', topics: [this.topics.otlpMetrics, this.topics.ipcMetrics], brokers: this.options.brokers }]),
    ];
    const inputs = only === undefined ? all : all.filter((i) => only.some((app) => app.replace(/-/g, '_') === i.stage));
    const admins = new Map<string, ReturnType<Kafka['admin']>>();
    const adminOf = async (brokers: string) => {
      let admin = admins.get(brokers);
      if (admin === undefined) {
        admin = new Kafka({ brokers: brokers.split(','), clientId: `${this.options.prefix}watcher`, logLevel: logLevel.NOTHING }).admin();
        await admin.connect();
        admins.set(brokers, admin);
      }
      return admin;
    };
    const deadline = Date.now() + timeoutMs;
    let lastEnds = '';
    let quietSince = Number.POSITIVE_INFINITY;
    let behind: string[] = [];
    try {
      while (Date.now() < deadline) {
        const samples: MetricSample[] = [];
        for (const p of this.stages) if (p.running) samples.push(...(await p.metrics().catch(() => [])));
        behind = [];
        const ends: string[] = [];
        for (const { stage, input, topics, brokers } of inputs) {
          const admin = await adminOf(brokers);
          for (const topic of topics) {
            // A broker that has just restarted answers NOT_LEADER until its partitions are loaded: not quiet yet.
            const offsets = await admin.fetchTopicOffsets(topic).catch((e: unknown) => {
              if ((e as { retriable?: unknown }).retriable === true) return undefined;
              throw e;
            });
            if (offsets === undefined) {
              behind.push(`${topic} has no leader yet`);
              continue;
            }
            for (const { partition, high } of offsets) {
              ends.push(`${brokers}/${topic}/${partition}=${high}`);
              if (high === '0') continue;
              const position = Math.max(
                -1,
                ...samples
                  .filter((s) => s.name === `topology_${stage}_consumer_position` && s.labels['input'] === input && s.labels['topic'] === topic && s.labels['partition'] === String(partition))
                  .map((s) => s.value),
              );
              if (position < Number(high)) behind.push(`${stage} ${input} ${topic}/${partition} at ${position} of ${high}`);
            }
          }
        }
        const held = samples.filter((s) => s.name === 'topology_flow_ingestor_held_flows').reduce((sum, s) => sum + s.value, 0);
        if (held > 0) behind.push(`${held} flows held back`);
        const endsNow = ends.join(' ');
        if (behind.length > 0 || endsNow !== lastEnds) quietSince = Number.POSITIVE_INFINITY;
        else if (quietSince === Number.POSITIVE_INFINITY) quietSince = Date.now();
        lastEnds = endsNow;
        if (Date.now() - quietSince >= stableMs) return;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      throw new Error(`pipeline not quiet within ${timeoutMs} ms: ${behind.slice(0, 8).join('; ')}`);
    } finally {
      await Promise.all([...admins.values()].map((a) => a.disconnect()));
    }
  }

  /** SIGTERM to every process; resolves with their exit codes by label. */
  async stop(): Promise<Record<string, number | null>> {
    const codes: Record<string, number | null> = {};
    await Promise.all(
      this.all.map(async (p) => {
        codes[p.label] = await p.stop();
      }),
    );
    return codes;
  }
}
