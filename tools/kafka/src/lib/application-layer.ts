import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Bus, OutgoingMessage } from '@topology/bus';
import { ContentTypes, Headers } from '@topology/contracts';
import { InProcessBus } from '@topology/bus-in-process';
import { EmbeddedGraphStore } from '@topology/graph-store-embedded';
import {
  DEFAULT_IPC_INGESTOR_CONFIG,
  applicationBucketMerger,
  countOf,
  decodeMetricsRequest,
  encodeMetricsRequestObject,
  nanosToMs,
  type OtlpAnyValue,
  type OtlpKeyValue,
} from '@topology/ipc-ingest';
import { systemClock, type ApplicationEdgeProps, type EdgeRecord, type TimeRange } from '@topology/model';
import { createTopologyClient, type EdgeMessage } from '@topology/runtime-gateway';
import { DEFAULT_TOPICS, IpcIngestStage, lineChunks, pipelineTopicSpecs, type PipelineTopics } from '@topology/runtime-pipeline';
import { fleetMetadata, type Fleet, type IpcMetricsBatch } from '@topology/sim';
import { Registry } from 'prom-client';

export const APPLICATION_TEST_BUCKET_MS = 60_000;

/** What the application layer says about one edge, in a form two runs can be compared in. */
export interface ApplicationEdgeSummary {
  calls: number;
  errors: number;
  serverReported: boolean;
  /** Sorted by endpoint and protocol. */
  endpoints: { endpoint: string; protocol: string; calls: number; errors: number; serverReportedOnly: boolean; p50Ms?: number; p99Ms?: number }[];
}

/** Edges of the application layer by `<range> <src> -> <dst>`: `all` for the whole range, else the bucket start. */
export type ApplicationMap = Map<string, ApplicationEdgeSummary>;

type Attribute = { key: string; value: Record<string, unknown> };

function valueOf(v: OtlpAnyValue | null | undefined): Record<string, unknown> {
  if (v?.stringValue !== null && v?.stringValue !== undefined) return { stringValue: v.stringValue };
  if (v?.intValue !== null && v?.intValue !== undefined) return { intValue: countOf(v.intValue) };
  if (v?.doubleValue !== null && v?.doubleValue !== undefined) return { doubleValue: v.doubleValue };
  return { boolValue: v?.boolValue === true };
}

const attributesOf = (list: readonly OtlpKeyValue[]): Attribute[] => list.map((kv) => ({ key: kv.key, value: valueOf(kv.value) }));
const nanos = (ms: number) => String(BigInt(ms) * 1_000_000n);

interface SeriesTotal {
  metric: string;
  unit: string;
  attributes: Attribute[];
  count: number;
  buckets: number[];
  bounds: number[];
  timeMs: number;
}

/**
 * The messages an OpenTelemetry Collector's Kafka exporter writes for the simulated fleet's IPC
 * exports: one ExportMetricsServiceRequest per reporting app and interval on `otlp_metrics`, keyed
 * by app (`partition_metrics_by_resource_attributes`), no content type. Apps that `cumulative`
 * picks export as an SDK with cumulative temporality does: every series it has seen, at its running
 * total since the series started (before the run), every interval; the others as the simulator
 * writes them (delta).
 */
export class CollectorIpcExports {
  private readonly totals = new Map<string, Map<string, SeriesTotal>>();

  constructor(
    private readonly cumulative: (app: string) => boolean,
    /** When every cumulative series started, epoch milliseconds. */
    private readonly seriesStartMs: number,
  ) {}

  messages(batch: IpcMetricsBatch): OutgoingMessage[] {
    const out: OutgoingMessage[] = [];
    const reported = new Set<string>();
    for (const { app, request } of batch.requests) {
      if (!this.cumulative(app)) {
        out.push({ key: app, value: request });
        continue;
      }
      reported.add(app);
      this.accumulate(app, request);
      out.push({ key: app, value: this.encode(app, batch.window.endMs) });
    }
    // A cumulative SDK exports its series every interval, calls or not.
    for (const app of this.totals.keys()) if (!reported.has(app)) out.push({ key: app, value: this.encode(app, batch.window.endMs) });
    return out;
  }

  private accumulate(app: string, request: Uint8Array): void {
    let series = this.totals.get(app);
    if (series === undefined) {
      series = new Map();
      this.totals.set(app, series);
    }
    for (const rm of decodeMetricsRequest(request).resourceMetrics) {
      for (const sm of rm.scopeMetrics) {
        for (const metric of sm.metrics) {
          for (const point of metric.histogram?.dataPoints ?? []) {
            const attributes = attributesOf(point.attributes);
            const key = `${metric.name} ${JSON.stringify(attributes)}`;
            const counts = point.bucketCounts.map(countOf);
            const known = series.get(key);
            if (known === undefined) {
              series.set(key, { metric: metric.name, unit: metric.unit, attributes, count: countOf(point.count), buckets: counts, bounds: [...point.explicitBounds], timeMs: nanosToMs(point.timeUnixNano) });
            } else {
              known.count += countOf(point.count);
              known.buckets = known.buckets.map((b, i) => b + (counts[i] ?? 0));
            }
          }
        }
      }
    }
  }

  private encode(app: string, timeMs: number): Uint8Array {
    const byMetric = new Map<string, { unit: string; points: Record<string, unknown>[] }>();
    for (const s of this.totals.get(app)?.values() ?? []) {
      let metric = byMetric.get(s.metric);
      if (metric === undefined) {
        metric = { unit: s.unit, points: [] };
        byMetric.set(s.metric, metric);
      }
      metric.points.push({ attributes: s.attributes, startTimeUnixNano: nanos(this.seriesStartMs), timeUnixNano: nanos(timeMs), count: s.count, bucketCounts: s.buckets, explicitBounds: s.bounds });
    }
    return encodeMetricsRequestObject({
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: app } }, { key: 'service.instance.id', value: { stringValue: `${app}-sim` } }] },
          scopeMetrics: [
            {
              scope: { name: 'topology-sim' },
              metrics: [...byMetric].map(([name, m]) => ({ name, unit: m.unit, histogram: { aggregationTemporality: 2, dataPoints: m.points } })),
            },
          ],
        },
      ],
    });
  }
}

/**
 * Publishes a simulated fleet's metadata (the names of external services are there, and app
 * context) as JSON lines on the metadata topic; returns the number of messages.
 */
export async function publishFleetMetadata(fleet: Fleet, topics: PipelineTopics, bus: Bus): Promise<number> {
  const payload = Buffer.from(fleetMetadata(fleet).map((e) => JSON.stringify(e)).join('\n') + '\n');
  const messages = [...lineChunks(payload, 32 * 1024)].map((value) => ({ key: null, value, headers: { [Headers.contentType]: ContentTypes.metadataJsonLines } }));
  await bus.publish(topics.metadata, messages);
  return messages.length;
}

function summary(props: ApplicationEdgeProps): ApplicationEdgeSummary {
  return {
    calls: props.calls,
    errors: props.errors,
    serverReported: props.serverReported === true,
    endpoints: props.endpoints
      .map((e) => ({
        endpoint: e.endpoint,
        protocol: e.protocol,
        calls: e.calls,
        errors: e.errors,
        serverReportedOnly: e.serverReportedOnly === true,
        ...(e.latencyP50Ms === undefined ? {} : { p50Ms: e.latencyP50Ms }),
        ...(e.latencyP99Ms === undefined ? {} : { p99Ms: e.latencyP99Ms }),
      }))
      .sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0)),
  };
}

function addEdges(map: ApplicationMap, label: string, edges: EdgeRecord[]): void {
  for (const e of edges) if (e.props.application !== undefined) map.set(`${label} ${e.src} -> ${e.dst}`, summary(e.props.application));
}

/** The application layer a store holds: each edge over the whole range and in each bucket. */
async function readMap(store: EmbeddedGraphStore<ApplicationEdgeProps>, range: TimeRange): Promise<ApplicationMap> {
  const map: ApplicationMap = new Map();
  addEdges(map, 'all', await store.listEdges({ granularity: 'app', range }));
  for (let start = Math.floor(range.fromMs / APPLICATION_TEST_BUCKET_MS) * APPLICATION_TEST_BUCKET_MS; start < range.toMs; start += APPLICATION_TEST_BUCKET_MS) {
    addEdges(map, String(start), await store.listEdges({ granularity: 'app', range: { fromMs: start, toMs: start + APPLICATION_TEST_BUCKET_MS } }));
  }
  return map;
}

/** Reads the application layer of an embedded store read-only, as the query gateway does. */
export async function readApplicationStore(dataDir: string, range: TimeRange): Promise<ApplicationMap> {
  const store = await EmbeddedGraphStore.open<ApplicationEdgeProps>({ dir: dataDir, layer: 'application', bucketMs: APPLICATION_TEST_BUCKET_MS, readonly: true }, applicationBucketMerger);
  try {
    return await readMap(store, range);
  } finally {
    await store.close();
  }
}

/** Every application-layer edge leaving the roots over the range, one hop, read over gRPC page by page. */
export async function readApplicationEdgesOverGrpc(address: string, roots: string[], range: TimeRange): Promise<EdgeMessage[]> {
  const client = createTopologyClient(address);
  const edges = new Map<string, EdgeMessage>();
  try {
    for (let i = 0; i < roots.length; i += 100) {
      let pageToken = '';
      do {
        const page = await client.traverse({ roots: roots.slice(i, i + 100), direction: 'DIRECTION_DOWN', depth: 1, granularity: 'GRANULARITY_APP', layers: ['LAYER_APPLICATION'], range, pageSize: 1000, pageToken });
        const failed = page.layerStatus.filter((s) => s.state !== 'STATE_OK');
        if (failed.length > 0) throw new Error(`layer failed: ${JSON.stringify(failed)}`);
        for (const e of page.edges) edges.set(`${e.src} -> ${e.dst}`, e);
        pageToken = page.nextPageToken;
      } while (pageToken !== '');
    }
  } finally {
    client.close();
  }
  return [...edges.values()];
}

/**
 * The application layer the all-in-one composition makes of the same messages: the ipc-ingestor
 * stage over the in-process bus into an embedded store, flushed after the last one.
 */
export async function applicationInOneProcess(fleet: Fleet, exports: OutgoingMessage[][], range: TimeRange): Promise<ApplicationMap> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-application-reference-'));
  const bus = new InProcessBus({ defaultPartitions: 4 });
  await bus.ensureTopics(pipelineTopicSpecs(DEFAULT_TOPICS, 4));
  const store = await EmbeddedGraphStore.open<ApplicationEdgeProps>({ dir, layer: 'application', bucketMs: APPLICATION_TEST_BUCKET_MS }, applicationBucketMerger);
  const stage = new IpcIngestStage({
    bus,
    clock: systemClock,
    registry: new Registry(),
    instanceId: 'reference',
    flushIntervalMs: 250,
    maxPendingRecords: 20_000,
    log: () => undefined,
    store,
    retentionMs: 20 * 365 * 86_400_000,
    ingestor: { ...DEFAULT_IPC_INGESTOR_CONFIG, bucketMs: APPLICATION_TEST_BUCKET_MS },
  });
  try {
    await stage.start();
    await publishFleetMetadata(fleet, DEFAULT_TOPICS, bus);
    await bus.settled();
    for (const messages of exports) if (messages.length > 0) await bus.publish(DEFAULT_TOPICS.otlpMetrics, messages);
    await bus.settled();
    await stage.flushNow();
    return await readMap(store, range);
  } finally {
    await stage.stop();
    await bus.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Differences between two maps (at most `limit`). */
export function applicationDifferences(actual: ApplicationMap, expected: ApplicationMap, limit = 10): string[] {
  const out: string[] = [];
  for (const [key, want] of expected) {
    if (out.length >= limit) break;
    const got = actual.get(key);
    if (got === undefined) out.push(`missing ${key}`);
    else if (JSON.stringify(got) !== JSON.stringify(want)) out.push(`differs ${key}: ${JSON.stringify(got)} instead of ${JSON.stringify(want)}`);
  }
  for (const key of actual.keys()) {
    if (out.length >= limit) break;
    if (!expected.has(key)) out.push(`extra ${key}`);
  }
  return out;
}
