import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Kafka, logLevel } from 'kafkajs';
import type { Bus, OutgoingMessage } from '@topology/bus';
import { InProcessBus } from '@topology/bus-in-process';
import { KafkaBus } from '@topology/bus-kafka';
import { ChdbExecutor, ClickHouseRequestStore, type ClickHouseExecutor } from '@topology/clickhouse-store';
import { systemClock, type Granularity, type TimeRange } from '@topology/model';
import { TraceAggregateStage, createMetricsRegistry, pipelineTopics, type PipelineTopics } from '@topology/runtime-pipeline';
import { otlpTraceRequest, type SimSpan, type TraceBatch } from '@topology/sim';
import { DEFAULT_TRACE_AGGREGATOR_CONFIG } from '@topology/trace-aggregate';
import { AppProcess, freePort, type MetricSample } from './app-process';
import { builtApps } from './built-apps';

/** Simulated fleets are dated in the past: the request store's TTL must keep their history. */
export const TRACE_TEST_RETENTION_MS = 20 * 365 * 86_400_000;
export const TRACE_TEST_BUCKET_MS = 60_000;

/**
 * Trace waits short enough for a test: a trace is paired a second after its last span, buckets
 * leave memory (and stop holding the checkpoint back) four seconds after their last call.
 */
export const FAST_TRACE_WAITS = { traceIdleMs: 1_000, maxTraceLifeMs: 2_000, bucketIdleMs: 4_000 };

/** Per edge, at each granularity, over the whole range and per bucket: `calls errors p50 p99 operations`. */
export type RequestLayerMap = Map<string, string>;

/**
 * The messages the OpenTelemetry Collector's Kafka exporter writes for a batch of traces with
 * `partition_traces_by_id`: one protobuf ExportTraceServiceRequest per reporting service and trace
 * (each service's SDK exports its own spans), keyed by trace id, no content type.
 */
export function collectorMessages(batch: TraceBatch): OutgoingMessage[] {
  const messages: OutgoingMessage[] = [];
  for (const trace of batch.traces) {
    const byCluster = new Map<string, SimSpan[]>();
    for (const span of trace.spans) {
      const list = byCluster.get(span.cluster);
      if (list === undefined) byCluster.set(span.cluster, [span]);
      else list.push(span);
    }
    for (const spans of byCluster.values()) messages.push({ key: trace.traceId, value: otlpTraceRequest(spans) });
  }
  return messages;
}

/** Reads the request layer a store holds: every edge's fold over `range` and over each bucket in it. */
export async function readRequestLayer(store: ClickHouseRequestStore, range: TimeRange, bucketMs = TRACE_TEST_BUCKET_MS): Promise<RequestLayerMap> {
  const map: RequestLayerMap = new Map();
  for (const granularity of ['app', 'cluster'] as Granularity[]) {
    const ranges: { label: string; range: TimeRange }[] = [{ label: '', range }];
    for (let start = Math.floor(range.fromMs / bucketMs) * bucketMs; start < range.toMs; start += bucketMs) ranges.push({ label: ` @${start}`, range: { fromMs: start, toMs: start + bucketMs } });
    for (const { label, range: r } of ranges) {
      for (const e of await store.listEdges({ granularity, range: r })) {
        const p = e.props.request;
        map.set(`${granularity}${label} ${e.src} -> ${e.dst}`, `${p?.calls} ${p?.errors} ${p?.latencyP50Ms} ${p?.latencyP99Ms} ${p?.operations.join(',')}`);
      }
    }
  }
  return map;
}

/** Opens the embedded engine's folder an app wrote (the app must have exited: one process per folder), reads it, closes it. */
export async function readChdbRequestLayer(dir: string, range: TimeRange): Promise<RequestLayerMap> {
  return withStore(new ChdbExecutor(dir), (store) => readRequestLayer(store, range));
}

/** Opens the request store on an executor with the settings the test apps write with, runs `work`, closes it. */
export async function withStore<T>(executor: ClickHouseExecutor, work: (store: ClickHouseRequestStore) => Promise<T>): Promise<T> {
  let store: ClickHouseRequestStore;
  try {
    store = await ClickHouseRequestStore.open(executor, { bucketMs: TRACE_TEST_BUCKET_MS, retentionMs: TRACE_TEST_RETENTION_MS, refreshIntervalMs: 0 });
  } catch (e) {
    await executor.close();
    throw e;
  }
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/**
 * The reference: the same messages through the trace-aggregator stage in this process, over the
 * in-process bus, into the embedded engine in a folder of its own (removed after), as the
 * all-in-one runs it. Traces still waiting at the end are paired, as the all-in-one's drain does.
 */
export async function requestLayerInProcess(batches: readonly TraceBatch[], range: TimeRange): Promise<RequestLayerMap> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-trace-reference-'));
  try {
    return await withStore(new ChdbExecutor(dir), async (store) => {
      const topics = pipelineTopics();
      const bus = new InProcessBus({ defaultPartitions: 4 });
      await bus.ensureTopics([{ topic: topics.otlpSpans, partitions: 4 }]);
      const stage = new TraceAggregateStage({
        bus,
        clock: systemClock,
        registry: createMetricsRegistry(),
        instanceId: 'reference',
        flushIntervalMs: 100,
        maxPendingRecords: 1_000,
        log: () => undefined,
        writerId: 'reference',
        aggregator: { ...DEFAULT_TRACE_AGGREGATOR_CONFIG, bucketMs: TRACE_TEST_BUCKET_MS },
        store,
      });
      await stage.start();
      for (const batch of batches) await bus.publish(topics.otlpSpans, collectorMessages(batch));
      await bus.settled();
      await stage.settle();
      await stage.stop();
      await bus.close();
      return readRequestLayer(store, range);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface TraceAggregatorRunOptions {
  brokers: string;
  /** Folder of the run: the app's data (`data/request` for the embedded engine) and its log. */
  runDir: string;
  /** Topic and group prefix that keeps this run apart from others on the same brokers. */
  prefix: string;
  partitions?: number;
  /** Extra environment of the app (a ClickHouse server, other waits). */
  env?: Record<string, string>;
}

/** A trace-aggregator process from the built apps over the local broker, with what a test needs around it. */
export class TraceAggregatorRun {
  readonly topics: PipelineTopics;
  readonly dataDir: string;

  private constructor(
    readonly options: TraceAggregatorRunOptions,
    readonly app: AppProcess,
  ) {
    this.topics = pipelineTopics(options.prefix);
    this.dataDir = path.join(options.runDir, 'data');
  }

  /** Where the embedded engine keeps the request layer. */
  get requestDir(): string {
    return path.join(this.dataDir, 'request');
  }

  static async start(options: TraceAggregatorRunOptions): Promise<TraceAggregatorRun> {
    const env: Record<string, string> = {
      TOPOLOGY_KAFKA_BROKERS: options.brokers,
      TOPOLOGY_TOPIC_PREFIX: options.prefix,
      TOPOLOGY_TOPIC_PARTITIONS: String(options.partitions ?? 4),
      TOPOLOGY_DATA_DIR: path.join(options.runDir, 'data'),
      TOPOLOGY_RETENTION_MS: String(TRACE_TEST_RETENTION_MS),
      TOPOLOGY_BUCKET_MS: String(TRACE_TEST_BUCKET_MS),
      TOPOLOGY_KAFKA_LOG_LEVEL: 'error',
      TOPOLOGY_TRACE_IDLE_MS: String(FAST_TRACE_WAITS.traceIdleMs),
      TOPOLOGY_TRACE_MAX_LIFE_MS: String(FAST_TRACE_WAITS.maxTraceLifeMs),
      TOPOLOGY_TRACE_BUCKET_IDLE_MS: String(FAST_TRACE_WAITS.bucketIdleMs),
      // A killed member leaves its group within seconds rather than half a minute.
      TOPOLOGY_KAFKA_SESSION_TIMEOUT_MS: '6000',
      TOPOLOGY_KAFKA_REBALANCE_TIMEOUT_MS: '6000',
      TOPOLOGY_KAFKA_HEARTBEAT_INTERVAL_MS: '500',
      ...options.env,
    };
    const app = new AppProcess('trace-aggregator', 'trace-aggregator', builtApps(), env, await freePort(), path.join(options.runDir, 'logs'));
    const run = new TraceAggregatorRun(options, app);
    app.start();
    try {
      await app.waitReady();
    } catch (e) {
      await app.stop();
      throw e;
    }
    return run;
  }

  /** A bus on the broker to publish spans with, as the Collector would. */
  bus(): Bus {
    return new KafkaBus({ brokers: this.options.brokers.split(','), clientId: `${this.options.prefix}collector`, logLevel: 'error' });
  }

  async publish(bus: Bus, batches: readonly TraceBatch[]): Promise<number> {
    let messages = 0;
    for (const batch of batches) {
      const list = collectorMessages(batch);
      await bus.publish(this.topics.otlpSpans, list);
      messages += list.length;
    }
    return messages;
  }

  /** Starts the app again after a crash, with the same settings. */
  async restart(): Promise<void> {
    this.app.start();
    await this.app.waitReady();
  }

  /**
   * Waits until the app has handled every span message written, holds no span waiting for its trace
   * (so every trace is paired and written), and nothing changed for `stableMs`.
   */
  async waitQuiet(timeoutMs = 60_000, stableMs = 1_500): Promise<MetricSample[]> {
    const admin = new Kafka({ brokers: this.options.brokers.split(','), clientId: `${this.options.prefix}watcher`, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const deadline = Date.now() + timeoutMs;
    let last = '';
    let quietSince = Number.POSITIVE_INFINITY;
    let behind: string[] = [];
    try {
      while (Date.now() < deadline) {
        const samples = await this.app.metrics().catch((): MetricSample[] => []);
        behind = [];
        const ends: string[] = [];
        for (const { partition, high } of await admin.fetchTopicOffsets(this.topics.otlpSpans)) {
          ends.push(`${partition}=${high}`);
          if (high === '0') continue;
          const position = samples.find((s) => s.name === 'topology_trace_aggregator_consumer_position' && s.labels['topic'] === this.topics.otlpSpans && s.labels['partition'] === String(partition))?.value ?? -1;
          if (position < Number(high)) behind.push(`partition ${partition} at ${position} of ${high}`);
        }
        const waiting = samples.find((s) => s.name === 'topology_trace_aggregator_waiting_spans')?.value ?? -1;
        if (waiting !== 0) behind.push(`${waiting} spans waiting`);
        const paired = samples.filter((s) => s.name === 'topology_trace_aggregator_traces_paired_total').reduce((n, s) => n + s.value, 0);
        const now = `${ends.join(' ')} ${paired}`;
        if (behind.length > 0 || now !== last) quietSince = Number.POSITIVE_INFINITY;
        else if (quietSince === Number.POSITIVE_INFINITY) quietSince = Date.now();
        last = now;
        if (Date.now() - quietSince >= stableMs) return samples;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error(`trace-aggregator not quiet within ${timeoutMs} ms: ${behind.join('; ')}\n${this.app.logTail()}`);
    } finally {
      await admin.disconnect();
    }
  }

  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null> {
    return this.app.stop();
  }
}
