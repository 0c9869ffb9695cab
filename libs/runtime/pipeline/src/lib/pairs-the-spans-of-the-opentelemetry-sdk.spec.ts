import { execFile } from 'child_process';
import { mkdtempSync } from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import otlpRoot = require('otlp-proto-definitions/build/src/generated/root');
import { InProcessBus } from '@topology/bus-in-process';
import { ChdbExecutor, ClickHouseRequestStore } from '@topology/clickhouse-store';
import { ContentTypes, Headers, Topics } from '@topology/contracts';
import { systemClock } from '@topology/model';
import { DEFAULT_TRACE_AGGREGATOR_CONFIG, type RequestEdgeBucket, type RequestLayerWriter, type RequestNode, type TraceSpan } from '@topology/trace-aggregate';
import { createMetricsRegistry } from './metrics';
import { TraceAggregateStage } from './trace-aggregate.stage';

jest.setTimeout(60_000);

const REQUESTS = 20;

/** What the services in testdata/otlp-sdk-traces.js call: the edges their traces must give, and nothing else. */
const TRUE_APP_EDGES = [
  'app:checkout -> app:payments',
  'app:checkout -> external:kafka/orders',
  'app:frontend -> app:checkout',
  'app:frontend -> app:flags',
  // The database is named by an internal host: the service in its first label.
  'app:payments -> app:payments-db',
];
const TRUE_CLUSTER_EDGES = [
  'cluster:checkout-prod-v014 -> cluster:payments-prod-v003',
  'cluster:checkout-prod-v014 -> external:kafka/orders',
  'cluster:frontend-prod-v001 -> app:flags',
  'cluster:frontend-prod-v001 -> cluster:checkout-prod-v014',
  'cluster:payments-prod-v003 -> app:payments-db',
];

/** An OTLP/HTTP endpoint that keeps what the exporters POST (protobuf ExportTraceServiceRequests). */
async function captureServer(): Promise<{ url: string; bodies: Buffer[]; close: () => Promise<void> }> {
  const bodies: Buffer[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type'] === 'application/x-protobuf') bodies.push(Buffer.concat(chunks));
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/traces`, bodies, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The SDK runs in a process of its own: its exporter loads the HTTP transport with a dynamic import, which a Jest sandbox cannot run. */
async function runServices(url: string, names: 'current' | 'older'): Promise<void> {
  const script = path.join(__dirname, 'testdata', 'otlp-sdk-traces.js');
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, [script, JSON.stringify({ url, requests: REQUESTS, names })], { timeout: 30_000 }, (error, _stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(),
    );
  });
}

/** Forwards to a writer and keeps every bucket row written. */
class RecordingWriter implements RequestLayerWriter {
  readonly rows: RequestEdgeBucket[] = [];
  spans = 0;
  constructor(private readonly next?: RequestLayerWriter) {}
  async writeEdgeBuckets(rows: readonly RequestEdgeBucket[]): Promise<void> {
    this.rows.push(...rows);
    await this.next?.writeEdgeBuckets(rows);
  }
  async writeNodes(nodes: readonly RequestNode[]): Promise<void> {
    await this.next?.writeNodes(nodes);
  }
  async indexSpans(spans: readonly TraceSpan[]): Promise<void> {
    this.spans += spans.length;
    await this.next?.indexSpans(spans);
  }
}

/** Edge totals as the store folds them: the latest row per (edge, bucket, scope), summed. */
function totals(rows: readonly RequestEdgeBucket[]): Map<string, { calls: number; errors: number; latencySumUs: number; operations: string }> {
  const latest = new Map<string, RequestEdgeBucket>();
  for (const r of rows) {
    const id = `${r.granularity} ${r.src} ${r.dst} ${r.bucketStartMs} ${r.scope}`;
    const known = latest.get(id);
    if (known === undefined || known.version < r.version) latest.set(id, r);
  }
  const out = new Map<string, { calls: number; errors: number; latencySumUs: number; operations: string }>();
  for (const r of latest.values()) {
    const id = `${r.granularity} ${r.src} -> ${r.dst}`;
    const t = out.get(id) ?? { calls: 0, errors: 0, latencySumUs: 0, operations: '' };
    t.calls += r.calls;
    t.errors += r.errors;
    t.latencySumUs += r.latencySumUs;
    t.operations = [...new Set([...t.operations.split(','), ...Object.keys(r.operations)])].filter((o) => o !== '').sort().join(',');
    out.set(id, t);
  }
  return out;
}

interface Encoder {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: object): { resourceSpans: { resource: unknown; scopeSpans: { scope: unknown; spans: unknown[] }[] }[] };
  fromObject(value: object): unknown;
  encode(message: unknown): { finish(): Uint8Array };
}
const ExportTraceServiceRequest = (otlpRoot as unknown as { opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: Encoder } } } } } })
  .opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

/** Every span of the exports, shuffled, re-packed into requests of one to three spans each. */
function reshuffled(bodies: readonly Buffer[], seed: number): Uint8Array[] {
  const spans: { resource: unknown; scope: unknown; span: unknown }[] = [];
  for (const body of bodies) {
    const request = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), { bytes: Buffer, longs: String });
    for (const rs of request.resourceSpans) for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ resource: rs.resource, scope: ss.scope, span });
  }
  let state = seed;
  const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296);
  for (let i = spans.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [spans[i], spans[j]] = [spans[j] as (typeof spans)[number], spans[i] as (typeof spans)[number]];
  }
  const out: Uint8Array[] = [];
  for (let at = 0; at < spans.length; ) {
    const part = spans.slice(at, at + 1 + Math.floor(random() * 3));
    at += part.length;
    const request = { resourceSpans: part.map((p) => ({ resource: p.resource, scopeSpans: [{ scope: p.scope, spans: [p.span] }] })) };
    out.push(ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(request)).finish());
  }
  return out;
}

async function aggregate(messages: { key: string | null; value: Uint8Array }[], writer: RequestLayerWriter, partitions: number): Promise<TraceAggregateStage> {
  const bus = new InProcessBus({ defaultPartitions: partitions, maxBatchSize: 7 });
  await bus.ensureTopics([{ topic: Topics.otlpSpans, partitions }]);
  const stage = new TraceAggregateStage({
    bus,
    clock: systemClock,
    registry: createMetricsRegistry(),
    instanceId: 'test',
    flushIntervalMs: 20,
    maxPendingRecords: 1_000,
    writerId: 'test',
    aggregator: { ...DEFAULT_TRACE_AGGREGATOR_CONFIG, traceIdleMs: 60_000, maxTraceLifeMs: 120_000, bucketIdleMs: 600_000 },
    store: writer,
    log: () => undefined,
  });
  await stage.start();
  await bus.publish(
    Topics.otlpSpans,
    messages.map((m) => ({ ...m, headers: { [Headers.contentType]: ContentTypes.otlpProtobuf } })),
  );
  await bus.settled();
  await stage.settle();
  await stage.stop();
  await bus.close();
  return stage;
}

describe('spans the OpenTelemetry JS SDK exports (three services, OTLP protobuf over HTTP)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'trace-stage-'));
  let store: ClickHouseRequestStore;
  let bodies: Buffer[] = [];
  const recorded = new RecordingWriter();
  let stage: TraceAggregateStage;
  const range = { fromMs: Date.now() - 3_600_000, toMs: Date.now() + 3_600_000 };

  beforeAll(async () => {
    const capture = await captureServer();
    try {
      await runServices(capture.url, 'current');
      await runServices(capture.url, 'older');
    } finally {
      await capture.close();
    }
    bodies = capture.bodies;
    store = await ClickHouseRequestStore.open(new ChdbExecutor(dir), { refreshIntervalMs: 0 });
    const writer = new RecordingWriter(store);
    stage = await aggregate(bodies.map((value) => ({ key: null, value })), writer, 1);
    recorded.rows.push(...writer.rows);
    recorded.spans = writer.spans;
  });

  afterAll(async () => {
    await store?.close();
  });

  it('give exactly the true edges, at app and at cluster granularity, read back from the store', async () => {
    expect(bodies.length).toBeGreaterThan(2);
    const app = await store.listEdges({ granularity: 'app', range });
    const cluster = await store.listEdges({ granularity: 'cluster', range });
    expect(app.map((e) => `${e.src} -> ${e.dst}`).sort()).toEqual(TRUE_APP_EDGES);
    expect(cluster.map((e) => `${e.src} -> ${e.dst}`).sort()).toEqual(TRUE_CLUSTER_EDGES);
  });

  it('count every call once, with its errors and the callee operations, from current and older attribute names alike', async () => {
    const app = await store.listEdges({ granularity: 'app', range });
    const calls = Object.fromEntries(app.map((e) => [`${e.src} -> ${e.dst}`, [e.props.request?.calls, e.props.request?.errors]]));
    const both = 2 * REQUESTS;
    expect(calls).toEqual({
      'app:checkout -> app:payments': [both, 2 * (REQUESTS / 5)],
      'app:checkout -> external:kafka/orders': [both, 0],
      'app:frontend -> app:checkout': [both, 0],
      'app:frontend -> app:flags': [both, 0],
      'app:payments -> app:payments-db': [both, 0],
    });
    expect(app.find((e) => e.dst === 'app:payments')?.props.request?.operations).toEqual(['payments.v1.Payments/Charge']);
    expect(stage.aggregator.counters.get('calls_paired')).toBe(2 * both);
    expect(stage.aggregator.counters.get('calls_virtual')).toBe(3 * both);
    expect(stage.aggregator.counters.get('spans_orphaned')).toBe(0);
    expect(recorded.spans).toBe(9 * both);
  });

  it('know the services as nodes with their cluster and region', async () => {
    const nodes = await store.getNodes(['app:payments', 'cluster:payments-prod-v003', 'external:kafka/orders'] as never[]);
    expect(nodes.map((n) => [n.id, n.kind, n.region ?? '', n.app ?? ''])).toEqual([
      ['app:payments', 'app', 'eu-west-1', 'payments'],
      ['cluster:payments-prod-v003', 'cluster', 'eu-west-1', 'payments'],
      ['external:kafka/orders', 'external', '', ''],
    ]);
  });

  it.each([1, 2, 3])('give the same totals when shuffled and split over many messages and partitions (seed %i)', async (seed) => {
    const shuffled = new RecordingWriter();
    const messages = reshuffled(bodies, seed).map((value, i) => ({ key: `k${i % 13}`, value }));
    expect(messages.length).toBeGreaterThan(100);
    await aggregate(messages, shuffled, 4);
    // Scopes differ with the partitions a trace's spans landed in; the folded totals may not.
    expect(totals(shuffled.rows)).toEqual(totals(recorded.rows));
  });
});
