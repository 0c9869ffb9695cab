import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ChdbExecutor, ClickHouseRequestStore } from '@topology/clickhouse-store';
import { ContentTypes, Headers, Topics } from '@topology/contracts';
import { ManualClock, type Direction, type Granularity, type NodeId, type TimeRange } from '@topology/model';
import { TopologyQueryService } from '@topology/query';
import { createTopologyClient, type DirectionName, type GranularityName } from '@topology/runtime-gateway';
import { generateIpcMetrics, generateTraces, generateTraffic, otlpTraceRequest, planFleet, Random, type SimTrace } from '@topology/sim';
import { DEFAULT_TRACE_AGGREGATOR_CONFIG, SpanDecoder, TraceAggregator, type RequestEdgeBucket, type TraceSpan } from '@topology/trace-aggregate';
import { AllInOne, testConfig } from './lib/all-in-one-under-test';
import { timeTraversalsFromAnotherProcess } from './lib/client-process';
import { publishInterval, renderFleet } from './lib/fleet-feed';
import { readOptions } from './lib/options';
import { BenchReport } from './lib/report';
import { storeWalk } from './lib/store-walk';
import { count, distribution, median, ms } from './lib/stats';

/**
 * The request layer: spans per CPU-second through decoding (OTLP protobuf), pairing and
 * aggregation on one core; the ClickHouse (chdb) insert rate of the span index and of edge bucket
 * rows; and the latency of a unified three-layer, three-hop traversal on the all-in-one once it has
 * mapped the simulated fleet's flows, IPC metrics and traces.
 * Run: `npm run build && node dist/tools/bench/src/trace-aggregate.bench.js --sample-rate 0.1`.
 */
const options = readOptions({
  seed: { default: 42, description: 'fleet seed' },
  minutes: { default: 10, description: 'minutes of simulated traffic' },
  'sample-rate': { default: 0.1, description: 'share of requests traced for the throughput rounds (the fleet samples 1% by default)' },
  'traces-per-payload': { default: 20, description: 'traces per ExportTraceServiceRequest' },
  rounds: { default: 5, description: 'timed throughput rounds' },
  queries: { default: 1000, description: 'timed unified queries' },
  warmup: { default: 200, description: 'untimed unified queries first' },
  'skip-unified': { default: false, description: 'skip the unified three-layer query part (it starts an all-in-one)' },
  'skip-throughput': { default: false, description: 'skip the pairing, aggregation and insert rates (time the unified queries alone)' },
  json: { default: '', description: 'write the result as JSON to this file' },
});

const TARGET_SPANS_PER_SECOND = 100_000;
const TARGET_P99_MS = 20;
const INTERVAL_MS = 10_000;

interface Payload {
  /** Index of the reporting interval the traces started in. */
  interval: number;
  value: Uint8Array;
  spans: number;
}

function renderTraces(traceBatches: { index: number; traces: SimTrace[] }[], perPayload: number): Payload[] {
  const out: Payload[] = [];
  for (const batch of traceBatches) {
    for (let i = 0; i < batch.traces.length; i += perPayload) {
      const traces = batch.traces.slice(i, i + perPayload);
      const spans = traces.flatMap((t) => t.spans);
      out.push({ interval: batch.index, value: otlpTraceRequest(spans), spans: spans.length });
    }
  }
  return out;
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

/**
 * One pass of the payloads through decode → wait → pair → aggregate, as the stage runs it, with time
 * moving per interval. What each flush returns is let go, as the stage does once it is written,
 * unless `keep` (for the store part).
 */
function aggregateRound(payloads: readonly Payload[], startMs: number, keep: boolean): { spans: number; rows: RequestEdgeBucket[]; indexed: TraceSpan[]; cpu: number; wall: number } {
  const clock = new ManualClock(startMs);
  const decoder = new SpanDecoder();
  const aggregator = new TraceAggregator(DEFAULT_TRACE_AGGREGATOR_CONFIG, clock);
  const rows: RequestEdgeBucket[] = [];
  const indexed: TraceSpan[] = [];
  let interval = -1;
  let spans = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (const payload of payloads) {
    if (payload.interval !== interval) {
      interval = payload.interval;
      clock.set(startMs + interval * INTERVAL_MS);
      const out = aggregator.flush();
      if (keep) {
        for (const r of out.buckets) rows.push(r);
        for (const s of out.spans) indexed.push(s);
      }
    }
    const decoded = decoder.otlpProtobuf(payload.value);
    aggregator.accept(decoded.spans, 'bench/otlp_spans/0');
    spans += decoded.spans.length;
  }
  const out = aggregator.settle();
  const cpu = cpuSeconds(cpu0);
  const wall = (performance.now() - t0) / 1000;
  if (keep) {
    for (const r of out.buckets) rows.push(r);
    for (const s of out.spans) indexed.push(s);
  }
  return { spans, rows, indexed, cpu, wall };
}

/** Pairing and aggregation alone, on spans decoded beforehand. */
function pairingRound(decoded: readonly { interval: number; spans: TraceSpan[] }[], startMs: number): { spans: number; cpu: number } {
  const clock = new ManualClock(startMs);
  const aggregator = new TraceAggregator(DEFAULT_TRACE_AGGREGATOR_CONFIG, clock);
  let interval = -1;
  let spans = 0;
  const cpu0 = process.cpuUsage();
  for (const d of decoded) {
    if (d.interval !== interval) {
      interval = d.interval;
      clock.set(startMs + interval * INTERVAL_MS);
      aggregator.flush();
    }
    aggregator.accept(d.spans, 'bench/otlp_spans/0');
    spans += d.spans.length;
  }
  aggregator.settle();
  return { spans, cpu: cpuSeconds(cpu0) };
}

async function storeRates(report: BenchReport, indexed: readonly TraceSpan[], rows: readonly RequestEdgeBucket[]): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trace-bench-store-'));
  const store = await ClickHouseRequestStore.open(new ChdbExecutor(dir), { retentionMs: 20 * 365 * 86_400_000, refreshIntervalMs: 0 });
  try {
    const chunk = 50_000;
    let t0 = performance.now();
    let cpu0 = process.cpuUsage();
    for (let i = 0; i < indexed.length; i += chunk) await store.indexSpans(indexed.slice(i, i + chunk));
    const spanSeconds = (performance.now() - t0) / 1000;
    const spanCpu = cpuSeconds(cpu0);
    report.add({ name: `span index insert (chdb, ${count(chunk)} per insert)`, value: indexed.length / spanSeconds, unit: 'spans/s', text: `${count(indexed.length / spanSeconds)} spans/s` });
    report.note(`  ${count(indexed.length / spanCpu)} spans per CPU-second of this process (JS and the engine's threads)`);

    t0 = performance.now();
    cpu0 = process.cpuUsage();
    const rowChunk = 5_000;
    for (let i = 0; i < rows.length; i += rowChunk) await store.writeEdgeBuckets(rows.slice(i, i + rowChunk));
    const rowSeconds = (performance.now() - t0) / 1000;
    const rowCpu = cpuSeconds(cpu0);
    report.add({ name: `edge bucket insert (chdb, ${count(rowChunk)} per insert)`, value: rows.length / rowSeconds, unit: 'rows/s', text: `${count(rows.length / rowSeconds)} rows/s` });
    report.note(`  ${count(rows.length / rowCpu)} rows per CPU-second of this process`);

    // What one flush costs the stage: a typical flush of the live fleet writes a few hundred rows and a few thousand spans.
    const flushes: number[] = [];
    for (let i = 0; i + 3_000 <= indexed.length && flushes.length < 20; i += 3_000) {
      const t = performance.now();
      await store.indexSpans(indexed.slice(i, i + 3_000));
      await store.writeEdgeBuckets(rows.slice(0, 300));
      flushes.push(performance.now() - t);
    }
    const d = distribution(flushes);
    report.add({ name: 'one flush write (3,000 spans + 300 bucket rows): p50', value: d.p50, unit: 'ms', text: ms(d.p50) });
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const DIRECTIONS: readonly Direction[] = ['down', 'up', 'both'];
const DIRECTION_NAMES: Record<Direction, DirectionName> = { down: 'DIRECTION_DOWN', up: 'DIRECTION_UP', both: 'DIRECTION_BOTH' };
const GRANULARITY_NAMES: Record<Granularity, GranularityName> = { app: 'GRANULARITY_APP', cluster: 'GRANULARITY_CLUSTER' };

/** The all-in-one fed the fleet's flows, IPC metrics and 1% traces, then queried across the three layers. */
async function unifiedQueries(report: BenchReport): Promise<void> {
  const fleet = planFleet({ seed: options.seed, minutes: options.minutes });
  const config = testConfig();
  const app = await AllInOne.start(config, { log: (m) => (m.includes('failed') ? console.error(m) : undefined) });
  const client = createTopologyClient(app.grpcAddress);
  try {
    for (const interval of renderFleet(fleet)) await publishInterval(app.bus, interval);
    await app.drain();
    const protobuf = { [Headers.contentType]: ContentTypes.otlpProtobuf };
    for (const batch of generateIpcMetrics(fleet, generateTraffic(fleet))) {
      await app.bus.publish(Topics.otlpMetrics, batch.requests.map((r) => ({ key: r.app, value: r.request, headers: protobuf })));
    }
    let spans = 0;
    for (const batch of generateTraces(fleet)) {
      await app.bus.publish(Topics.otlpSpans, batch.traces.map((t) => ({ key: t.traceId, value: otlpTraceRequest(t.spans), headers: protobuf })));
      spans += batch.traces.reduce((n, t) => n + t.spans.length, 0);
    }
    await app.drain();
    const range: TimeRange = { fromMs: fleet.startMs, toMs: fleet.endMs + 60_000 };
    const requestApp = await app.request.store.listEdges({ granularity: 'app', range });
    const requestCluster = await app.request.store.listEdges({ granularity: 'cluster', range });
    const networkApp = await app.store.listEdges({ granularity: 'app', range });
    report.note(
      `all-in-one: ${count(networkApp.length)} network app edges, ${count(requestApp.length)} request app edges and ${count(requestCluster.length)} request cluster edges from ${count(spans)} spans`,
    );

    const roots: Record<Granularity, NodeId[]> = {
      app: [...new Set(requestApp.flatMap((e) => [e.src, e.dst]).filter((id) => id.startsWith('app:')))].sort(),
      cluster: [...new Set(requestCluster.flatMap((e) => [e.src, e.dst]).filter((id) => id.startsWith('cluster:')))].sort(),
    };
    // The all-in-one's own query composition, without the gRPC server in front.
    const service = new TopologyQueryService(
      [
        { layer: 'network', reader: app.store },
        { layer: 'application', reader: app.application.store },
        { layer: 'request', reader: app.request.store },
      ],
      { liveTtlMs: config.liveTtlMs },
    );
    const random = new Random(options.seed).fork('trace-bench-queries');
    const mix = (n: number) =>
      Array.from({ length: n }, (_, i) => {
        const granularity: Granularity = i % 2 === 0 ? 'app' : 'cluster';
        return { root: random.pick(roots[granularity]), direction: DIRECTIONS[Math.floor(i / 2) % 3] as Direction, granularity };
      });
    type UnifiedQuery = { root: NodeId; direction: Direction; granularity: Granularity };
    const grpcRequest = (q: UnifiedQuery) => ({ roots: [q.root], direction: DIRECTION_NAMES[q.direction], depth: 3, granularity: GRANULARITY_NAMES[q.granularity], range });
    const warmup = mix(options.warmup);
    const timed = mix(options.queries);
    const record = (name: string, latencies: number[], sizes: number[], target: boolean) => {
      const d = distribution(latencies);
      report.note(`${name}: median answer ${count(median(sizes))} nodes (max ${count(Math.max(...sizes))})`);
      report.add({ name: `${name}: p50`, value: d.p50, unit: 'ms', text: ms(d.p50) });
      report.add({ name: `${name}: p99`, value: d.p99, unit: 'ms', text: ms(d.p99), ...(target ? { target: { max: TARGET_P99_MS, text: `p99 < ${TARGET_P99_MS} ms` } } : {}) });
      for (const direction of DIRECTIONS) {
        for (const granularity of ['app', 'cluster'] as const) {
          const sub = distribution(latencies.filter((_, i) => timed[i]?.direction === direction && timed[i]?.granularity === granularity));
          report.note(`  ${direction.padEnd(4)} ${granularity.padEnd(7)} p50 ${ms(sub.p50)}  p90 ${ms(sub.p90)}  p99 ${ms(sub.p99)}  (${sub.count})`);
        }
      }
    };

    // The API as a client sees it: the CLI or a UI runs in a process of its own.
    const fromClient = await timeTraversalsFromAnotherProcess(app.grpcAddress, warmup.map(grpcRequest), timed.map(grpcRequest));
    for (const r of fromClient.nodes) if (r === 0) throw new Error('a unified query answered no node');
    record('unified 3-layer 3-hop traverse, gRPC client in its own process', fromClient.latencies, fromClient.nodes, true);

    const paths = [
      {
        name: 'unified 3-layer 3-hop traverse, gRPC client in the gateway process',
        run: async (q: UnifiedQuery) => {
          const r = await client.traverse(grpcRequest(q));
          if (r.layerStatus.some((s) => s.state !== 'STATE_OK')) throw new Error(`a layer did not answer: ${JSON.stringify(r.layerStatus)}`);
          return r.nodes.length;
        },
      },
      {
        name: 'unified 3-layer 3-hop traverse, in process (no gRPC)',
        run: async (q: UnifiedQuery) => (await service.traverse({ roots: [q.root], direction: q.direction, depth: 3, granularity: q.granularity, range })).nodes.length,
      },
      {
        name: 'request layer alone, 3-hop store traversal',
        run: async (q: UnifiedQuery) => (await storeWalk(app.request.store, { roots: [q.root], direction: q.direction, depth: 3, granularity: q.granularity, range, maxVisited: 5_000 })).nodes,
      },
    ];
    for (const p of paths) {
      for (const q of warmup) await p.run(q);
      const latencies: number[] = [];
      const sizes: number[] = [];
      for (const q of timed) {
        const t0 = performance.now();
        sizes.push(await p.run(q));
        latencies.push(performance.now() - t0);
      }
      record(p.name, latencies, sizes, false);
    }
  } finally {
    client.close();
    await app.stop();
    fs.rmSync(config.dataDir, { recursive: true, force: true });
  }
}

/** Decode, pairing and store figures; everything they hold is let go when this returns. */
async function throughput(report: BenchReport): Promise<void> {
  const fleet = planFleet({ seed: options.seed, minutes: options.minutes });
  const traceBatches = [...generateTraces(fleet, undefined, { sampleRate: options['sample-rate'] })];
  const payloads = renderTraces(traceBatches, options['traces-per-payload']);
  const totalSpans = payloads.reduce((n, p) => n + p.spans, 0);
  const bytes = payloads.reduce((n, p) => n + p.value.length, 0);
  report.note(`input: ${count(totalSpans)} spans of ${count(traceBatches.reduce((n, b) => n + b.traces.length, 0))} traces in ${count(payloads.length)} OTLP payloads (${(bytes / 1_048_576).toFixed(0)} MiB), ${options.minutes} minutes of the fleet at ${options['sample-rate'] * 100}% sampling`);

  const rates: number[] = [];
  const wallRates: number[] = [];
  // The first round warms the JIT up, and keeps its output for the store part.
  const kept = aggregateRound(payloads, fleet.startMs, true);
  for (let round = 0; round < options.rounds; round++) {
    const r = aggregateRound(payloads, fleet.startMs, false);
    rates.push(r.spans / r.cpu);
    wallRates.push(r.spans / r.wall);
  }
  report.add({
    name: 'decode + pair + aggregate (OTLP protobuf), one core',
    value: median(rates),
    unit: 'spans/CPU-s',
    text: `${count(median(rates))} spans/s`,
    target: { min: TARGET_SPANS_PER_SECOND, text: `≥ ${count(TARGET_SPANS_PER_SECOND)} spans/s` },
  });
  report.note(`wall clock: ${count(median(wallRates))} spans/s; ${count(kept.rows.length)} bucket rows written over the run`);

  const decoder = new SpanDecoder();
  const decoded = payloads.map((p) => ({ interval: p.interval, spans: decoder.otlpProtobuf(p.value).spans }));
  const pairingRates: number[] = [];
  for (let round = 0; round <= options.rounds; round++) {
    const r = pairingRound(decoded, fleet.startMs);
    if (round > 0) pairingRates.push(r.spans / r.cpu);
  }
  report.add({ name: 'pair + aggregate alone (decoded spans), one core', value: median(pairingRates), unit: 'spans/CPU-s', text: `${count(median(pairingRates))} spans/s` });

  await storeRates(report, kept.indexed, kept.rows);
}

async function main(): Promise<void> {
  const report = new BenchReport('trace-aggregator: pairing, aggregation and the request store', options.json);
  if (!options['skip-throughput']) await throughput(report);
  // The throughput rounds' spans would otherwise stretch the queries' garbage collections.
  (globalThis as { gc?: () => void }).gc?.();
  if (!options['skip-unified']) await unifiedQueries(report);
  report.finish();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
