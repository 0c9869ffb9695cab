import otlpRoot = require('otlp-proto-definitions/build/src/generated/root');
import { InProcessBus } from '@topology/bus-in-process';
import { ManualClock } from '@topology/model';
import { DEFAULT_TRACE_AGGREGATOR_CONFIG, type RequestEdgeBucket, type RequestLayerWriter, type RequestNode, type TraceSpan } from '@topology/trace-aggregate';
import { Registry } from 'prom-client';
import { PartitionLog } from '../testing/partition-log';
import { pipelineTopics } from './topic-names';
import { TraceAggregateStage } from './trace-aggregate.stage';

const T0_MS = Date.UTC(2026, 0, 1);
const topics = pipelineTopics();
const PARTITIONS = 3;
const AGGREGATOR = { ...DEFAULT_TRACE_AGGREGATOR_CONFIG, traceIdleMs: 2_500, maxTraceLifeMs: 5_000, bucketIdleMs: 8_000 };

interface OtlpEncoder {
  fromObject(value: object): unknown;
  encode(message: unknown): { finish(): Uint8Array };
}
const ExportTraceServiceRequest = (otlpRoot as unknown as { opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: OtlpEncoder } } } } } })
  .opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

interface Span {
  id: string;
  parent: string;
  kind: 2 | 3;
  name: string;
  startUs: number;
  durationUs: number;
  error: boolean;
  attributes?: Record<string, string>;
}

/** One export of a service (a resource) holding its spans of one trace, as the Collector's Kafka exporter writes it. */
function exportOf(service: string, traceId: string, spans: Span[]): Uint8Array {
  return ExportTraceServiceRequest.encode(
    ExportTraceServiceRequest.fromObject({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }, { key: 'k8s.deployment.name', value: { stringValue: `${service}-prod-v001` } }] },
          scopeSpans: [
            {
              spans: spans.map((s) => ({
                traceId: Buffer.from(traceId, 'hex'),
                spanId: Buffer.from(s.id, 'hex'),
                ...(s.parent === '' ? {} : { parentSpanId: Buffer.from(s.parent, 'hex') }),
                name: s.name,
                kind: s.kind,
                startTimeUnixNano: `${s.startUs}000`,
                endTimeUnixNano: `${s.startUs + s.durationUs}000`,
                attributes: Object.entries(s.attributes ?? {}).map(([key, value]) => ({ key, value: { stringValue: value } })),
                status: { code: s.error ? 2 : 0 },
              })),
            },
          ],
        },
      ],
    }),
  ).finish();
}

const id = (n: number) => n.toString(16).padStart(16, '0');

/**
 * One request: web calls api, which calls orders and an uninstrumented database. Each service
 * exports its own spans, so a trace arrives as three messages keyed by its trace id.
 */
function trace(n: number, startMs: number): { key: string; value: Uint8Array }[] {
  const traceId = (0xabc000 + n).toString(16).padStart(32, '0');
  const us = startMs * 1000;
  const latency = 1_000 + ((n * 7919) % 40_000);
  return [
    { key: traceId, value: exportOf('web', traceId, [{ id: id(1), parent: '', kind: 3, name: 'GET /api', startUs: us, durationUs: latency + 500, error: false }]) },
    {
      key: traceId,
      value: exportOf('api', traceId, [
        { id: id(2), parent: id(1), kind: 2, name: n % 3 === 0 ? 'GET /cart' : 'GET /items', startUs: us + 100, durationUs: latency, error: n % 11 === 0 },
        { id: id(3), parent: id(2), kind: 3, name: 'orders.Get', startUs: us + 200, durationUs: latency / 2, error: false },
        { id: id(4), parent: id(2), kind: 3, name: 'SELECT', startUs: us + 300, durationUs: 800, error: false, attributes: { 'peer.service': 'cartdb' } },
      ]),
    },
    { key: traceId, value: exportOf('orders', traceId, [{ id: id(5), parent: id(3), kind: 2, name: 'orders.Get', startUs: us + 250, durationUs: latency / 2 - 100, error: false }]) },
  ];
}

/** 160 requests over four minutes of event time, then three for the first minute long after it was written. */
function messages(): { key: string; value: Uint8Array }[] {
  const out: { key: string; value: Uint8Array }[] = [];
  for (let n = 0; n < 160; n++) out.push(...trace(n, T0_MS + n * 1_500));
  for (let n = 160; n < 163; n++) out.push(...trace(n, T0_MS + 5_000 + n));
  return out;
}

/** The store's contract: a bucket row replaces the row of the same identity with a lower version. */
class ReplacingStore implements RequestLayerWriter {
  readonly rows = new Map<string, RequestEdgeBucket>();

  async writeEdgeBuckets(rows: readonly RequestEdgeBucket[]): Promise<void> {
    for (const r of rows) {
      const identity = `${r.granularity} ${r.src} ${r.dst} ${r.bucketStartMs} ${r.scope}`;
      const known = this.rows.get(identity);
      if (known === undefined || known.version < r.version) this.rows.set(identity, r);
    }
  }

  async writeNodes(_nodes: readonly RequestNode[]): Promise<void> {
    // Nodes fold by min/max: not what a crash can get wrong.
  }

  async indexSpans(_spans: readonly TraceSpan[]): Promise<void> {
    // Spans are keyed by their ids: written twice, stored once.
  }

  /** Totals per (granularity, edge, bucket), summed over scopes: what a read folds. */
  totals(): Record<string, string> {
    const out = new Map<string, { calls: number; errors: number; latencySumUs: number; counts: number[]; operations: Map<string, number> }>();
    for (const r of this.rows.values()) {
      const key = `${r.granularity} ${r.src} -> ${r.dst} @${(r.bucketStartMs - T0_MS) / 60_000}`;
      const t = out.get(key) ?? { calls: 0, errors: 0, latencySumUs: 0, counts: [], operations: new Map() };
      t.calls += r.calls;
      t.errors += r.errors;
      t.latencySumUs += r.latencySumUs;
      r.latencyCounts.forEach((c, i) => (t.counts[i] = (t.counts[i] ?? 0) + c));
      for (const [name, calls] of Object.entries(r.operations)) t.operations.set(name, (t.operations.get(name) ?? 0) + calls);
      out.set(key, t);
    }
    const result: Record<string, string> = {};
    for (const [key, t] of [...out].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const ops = [...t.operations].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, c]) => `${n}=${c}`);
      result[key] = `calls=${t.calls} errors=${t.errors} latency=${t.latencySumUs} [${t.counts.join(',')}] ${ops.join(' ')}`;
    }
    return result;
  }
}

interface Run {
  totals: Record<string, string>;
  /** Offsets a restart read again, summed over partitions (0 without a crash). */
  replayed: number;
  /** Whether a checkpoint had moved past the start of some partition when the stage crashed. */
  committedPastStart: boolean;
  late: number;
}

/**
 * Reads the spans in rounds of a few messages per partition, a second of processing time apart;
 * after `crashAfter` rounds the stage dies (its later writes are lost) and a new one resumes from
 * the committed checkpoints.
 */
async function run(crashAfter: number | undefined, commitAfterBatch = false): Promise<Run> {
  const clock = new ManualClock(T0_MS + 3_600_000);
  const bus = new InProcessBus({ clock, defaultPartitions: PARTITIONS });
  const log = new PartitionLog(PARTITIONS, commitAfterBatch);
  log.append(topics.otlpSpans, messages());
  const store = new ReplacingStore();
  const start = async (instance: string, writer: RequestLayerWriter) => {
    const stage = new TraceAggregateStage({
      bus,
      clock,
      registry: new Registry(),
      instanceId: instance,
      flushIntervalMs: 10,
      maxPendingRecords: 1,
      log: () => undefined,
      input: log,
      writerId: 'trace-aggregator',
      aggregator: AGGREGATOR,
      store: writer,
    });
    await stage.start();
    return stage;
  };
  // Both lives write the same store; a dead process writes nothing more.
  const into = (life: { dead: boolean }): RequestLayerWriter => ({
    writeEdgeBuckets: (rows) => (life.dead ? Promise.resolve() : store.writeEdgeBuckets(rows)),
    writeNodes: (nodes) => store.writeNodes(nodes),
    indexSpans: (spans) => store.indexSpans(spans),
  });
  let life = { dead: false };
  let stage = await start('first', into(life));
  let replayed = 0;
  let committedPastStart = false;
  let late = 0;
  for (let round = 1; await log.deliver(4); round++) {
    clock.advance(1_000);
    await stage.flushNow();
    if (round !== crashAfter) continue;
    life.dead = true;
    for (let p = 0; p < PARTITIONS; p++) {
      const committed = log.committedOffset('trace-aggregator', topics.otlpSpans, p);
      if (committed > 0) committedPastStart = true;
      replayed += Math.min(round * 4, await log.partitionEnd(topics.otlpSpans, p)) - committed;
    }
    late += stage.aggregator.counters.get('calls_late');
    await stage.stop();
    life = { dead: false };
    stage = await start('second', into(life));
  }
  // Quiet: every trace goes idle and is paired, every bucket written.
  for (let i = 0; i < 4; i++) {
    clock.advance(AGGREGATOR.traceIdleMs);
    await stage.flushNow();
  }
  late += stage.aggregator.counters.get('calls_late');
  await stage.stop();
  await bus.close();
  return { totals: store.totals(), replayed, committedPastStart, late };
}

describe('the trace-aggregator restarted without its memory', () => {
  let uninterrupted: Run;

  beforeAll(async () => {
    uninterrupted = await run(undefined);
  });

  it('is a stream where buckets leave memory mid-run and calls for a forgotten bucket are dropped as late', () => {
    const minutes = new Set(Object.keys(uninterrupted.totals).map((k) => k.slice(k.indexOf('@'))));
    expect(minutes).toEqual(new Set(['@0', '@1', '@2', '@3']));
    expect(uninterrupted.totals['app app:web -> app:api @0']).toMatch(/^calls=40 errors=4 /);
    expect(uninterrupted.totals['cluster cluster:api-prod-v001 -> app:cartdb @2']).toMatch(/^calls=40 /);
    // Three calls of each of the three late traces.
    expect(uninterrupted.late).toBe(9);
  });

  it.each([3, 9, 15, 22, 30])('writes the same totals when it dies after %i rounds and a new one resumes from the checkpoints', async (crashAfter) => {
    const crashed = await run(crashAfter);
    expect(crashed.replayed).toBeGreaterThan(0);
    expect(crashed.totals).toEqual(uninterrupted.totals);
  });

  it('commits past the spans of buckets it wrote and forgot, and resumes knowing them', async () => {
    const crashed = await run(30);
    expect(crashed.committedPastStart).toBe(true);
    expect(crashed.totals).toEqual(uninterrupted.totals);
  });

  it('would lose calls if offsets were committed after each batch', async () => {
    const crashed = await run(15, true);
    expect(crashed.totals).not.toEqual(uninterrupted.totals);
  });
});
