import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Bus } from '@topology/bus';
import { generateTraces, planFleet, traceTruth, type SimSpan, type SimTrace, type TraceBatch } from '@topology/sim';
import type { MetricSample } from './lib/app-process';
import { readChdbRequestLayer, requestLayerInProcess, TraceAggregatorRun, FAST_TRACE_WAITS, type RequestLayerMap } from './lib/trace-layer';
import { describeWithKafka, runPrefix, testBrokers } from './lib/with-kafka';

jest.setTimeout(180_000);

/** Entries that differ between two request-layer maps, at most ten. */
function differences(actual: RequestLayerMap, expected: RequestLayerMap): string[] {
  const out: string[] = [];
  for (const [key, value] of expected) if (actual.get(key) !== value) out.push(`${key}: ${actual.get(key) ?? 'missing'}, expected ${value}`);
  for (const [key, value] of actual) if (!expected.has(key)) out.push(`${key}: ${value}, not expected`);
  return out.slice(0, 10);
}

/** Edges over the whole range at one granularity, `src -> dst`. */
function edgesOf(map: RequestLayerMap, granularity: 'app' | 'cluster'): string[] {
  return [...map.keys()].filter((k) => k.startsWith(`${granularity} `) && !k.includes(' @')).map((k) => k.slice(granularity.length + 1));
}

/**
 * Calls a trace's spans show at app level, counted from parent links alone: a span whose parent
 * runs in another cluster is called by it; a client span nobody answered calls the peer it names.
 */
function callsOf(trace: SimTrace): number {
  const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
  const answered = new Set<string>();
  let calls = 0;
  for (const s of trace.spans) {
    const parent: SimSpan | undefined = byId.get(s.parentSpanId);
    if (parent === undefined || parent.cluster === s.cluster) continue;
    answered.add(parent.spanId);
    calls++;
  }
  for (const s of trace.spans) if (s.kind === 'client' && !answered.has(s.spanId)) calls++;
  return calls;
}

function sum(samples: MetricSample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);
}

describeWithKafka('the trace-aggregator in its own process over Kafka, writing the embedded ClickHouse engine', () => {
  const brokers = testBrokers ?? '';
  const fleet = planFleet({ seed: 42, apps: 40, minutes: 3 });
  const truth = traceTruth(fleet);
  const batches: TraceBatch[] = [...generateTraces(fleet)];
  const range = { fromMs: fleet.startMs, toMs: fleet.endMs + 60_000 };
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-trace-aggregator-'));
  let reference: RequestLayerMap;
  let uninterrupted: RequestLayerMap;

  beforeAll(async () => {
    reference = await requestLayerInProcess(batches, range);
  });

  afterAll(() => {
    fs.rmSync(runDir, { recursive: true, force: true });
  });

  describe('fed the simulated fleet’s traces as the Collector’s Kafka exporter writes them', () => {
    let exitCode: number | null;
    let metrics: MetricSample[];

    beforeAll(async () => {
      const run = await TraceAggregatorRun.start({ brokers, runDir: path.join(runDir, 'clean'), prefix: runPrefix('traces') });
      const bus = run.bus();
      try {
        await run.publish(bus, batches);
        metrics = await run.waitQuiet();
      } finally {
        await bus.close();
        exitCode = await run.stop();
      }
      // The app has exited: the engine's folder can be opened here.
      uninterrupted = await readChdbRequestLayer(run.requestDir, range);
    });

    it('writes the same edges and totals, per bucket and over the run, as the stage in one process', () => {
      expect(edgesOf(uninterrupted, 'app').length).toBeGreaterThan(20);
      expect(differences(uninterrupted, reference)).toEqual([]);
    });

    it('shows only edges the fleet has, at app and cluster level', () => {
      const appTruth = new Set(truth.appEdges.map((e) => `${e.src} -> ${e.dst}`));
      const clusterTruth = new Set(truth.clusterEdges.map((e) => `${e.src} -> ${e.dst}`));
      expect(edgesOf(uninterrupted, 'app').filter((e) => !appTruth.has(e))).toEqual([]);
      expect(edgesOf(uninterrupted, 'cluster').filter((e) => !clusterTruth.has(e))).toEqual([]);
    });

    it('counts every sampled call once', () => {
      const calls = [...uninterrupted].filter(([k]) => k.startsWith('app ') && !k.includes(' @')).reduce((n, [, v]) => n + Number(v.split(' ')[0]), 0);
      expect(calls).toBe(batches.reduce((n, b) => n + b.traces.reduce((m, t) => m + callsOf(t), 0), 0));
    });

    it('reports what it read and paired, and drains and exits 0 on SIGTERM', () => {
      expect(sum(metrics, 'topology_span_decoder_spans_decoded_total')).toBe(batches.reduce((n, b) => n + b.traces.reduce((m, t) => m + t.spans.length, 0), 0));
      expect(sum(metrics, 'topology_trace_aggregator_spans_orphaned_total')).toBe(0);
      expect(sum(metrics, 'topology_trace_aggregator_consumer_lag_records')).toBe(0);
      expect(exitCode).toBe(0);
    });
  });

  describe('killed (SIGKILL) mid-stream and restarted', () => {
    let crashed: RequestLayerMap;
    let beforeKill: MetricSample[];
    let afterRestart: MetricSample[];
    let publishedAfterRestart = 0;

    beforeAll(async () => {
      const run = await TraceAggregatorRun.start({ brokers, runDir: path.join(runDir, 'crash'), prefix: runPrefix('trace-crash') });
      const bus: Bus = run.bus();
      const minute = (m: number) => batches.filter((b) => Math.floor((b.window.startMs - fleet.startMs) / 60_000) === m);
      try {
        await run.publish(bus, minute(0));
        await run.waitQuiet();
        // The first minute's buckets go idle and leave memory: checkpoints may pass its spans.
        await new Promise((resolve) => setTimeout(resolve, FAST_TRACE_WAITS.bucketIdleMs + 1_000));
        await run.publish(bus, minute(1));
        // Mid-stream: traces of the second minute are waiting or held in buckets still in memory.
        await new Promise((resolve) => setTimeout(resolve, 400));
        beforeKill = await run.app.metrics();
        await run.app.kill9();
        await run.restart();
        publishedAfterRestart = await run.publish(bus, minute(2));
        afterRestart = await run.waitQuiet();
      } finally {
        await bus.close();
        await run.stop();
      }
      crashed = await readChdbRequestLayer(run.requestDir, range);
    });

    it('held in memory what a restart had to read again, and had committed past what it no longer held', () => {
      const backlog = sum(beforeKill, 'topology_trace_aggregator_replay_backlog_records');
      const position = sum(beforeKill, 'topology_trace_aggregator_consumer_position');
      expect(backlog).toBeGreaterThan(0);
      expect(position - backlog).toBeGreaterThan(0);
      // The restarted process read again what the killed one held, beyond what came after it.
      expect(sum(afterRestart, 'topology_trace_aggregator_consumed_records_total')).toBeGreaterThan(publishedAfterRestart);
    });

    it('ends with the totals of a run without a crash: nothing lost, nothing counted twice', () => {
      expect(differences(crashed, uninterrupted)).toEqual([]);
    });
  });
});
