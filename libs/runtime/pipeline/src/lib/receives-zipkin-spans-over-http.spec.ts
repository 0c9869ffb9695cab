import { readFileSync } from 'fs';
import * as path from 'path';
import { gzipSync } from 'zlib';
import type { BusMessage } from '@topology/bus';
import { InProcessBus } from '@topology/bus-in-process';
import { Topics } from '@topology/contracts';
import { systemClock } from '@topology/model';
import { DEFAULT_TRACE_AGGREGATOR_CONFIG, type RequestEdgeBucket, type RequestLayerWriter } from '@topology/trace-aggregate';
import { createMetricsRegistry } from './metrics';
import { TraceAggregateStage } from './trace-aggregate.stage';
import { ZipkinReceiver, ZIPKIN_SPANS_PATH } from './zipkin-receiver';

jest.setTimeout(30_000);

const REALDATA = path.resolve(__dirname, '../../../../../../shared/realdata');
const smartthings = readFileSync(path.join(REALDATA, 'zipkin/smartthings-mobile-web-install.json'));
const skew = readFileSync(path.join(REALDATA, 'zipkin/skew.json'));

class RowsWriter implements RequestLayerWriter {
  readonly rows: RequestEdgeBucket[] = [];
  async writeEdgeBuckets(rows: readonly RequestEdgeBucket[]): Promise<void> {
    this.rows.push(...rows);
  }
  async writeNodes(): Promise<void> {
    // Nodes are not what this test looks at.
  }
  async indexSpans(): Promise<void> {
    // Nor the span index.
  }
}

describe('the Zipkin receiver (POST /api/v2/spans)', () => {
  let bus: InProcessBus;
  let receiver: ZipkinReceiver;
  const published: BusMessage[] = [];

  beforeAll(async () => {
    bus = new InProcessBus({ defaultPartitions: 4 });
    await bus.ensureTopics([{ topic: Topics.spansZipkin, partitions: 4 }]);
    await bus.subscribe({ topics: [Topics.spansZipkin], groupId: 'observer', handler: async (b) => void published.push(...b.messages) });
    receiver = await ZipkinReceiver.start({ bus, address: '127.0.0.1:0' });
  });

  afterAll(async () => {
    await receiver?.close();
    await bus?.close();
  });

  const post = (body: Buffer | string, headers: Record<string, string> = { 'content-type': 'application/json' }, urlPath = ZIPKIN_SPANS_PATH, method = 'POST') =>
    fetch(`http://${receiver.address}${urlPath}`, { method, headers, ...(method === 'POST' ? { body } : {}) });

  it('accepts Zipkin v2 JSON, plain or gzip, and publishes it one message per trace, keyed by trace id', async () => {
    published.length = 0;
    expect((await post(smartthings)).status).toBe(202);
    expect((await post(gzipSync(skew), { 'content-type': 'application/json', 'content-encoding': 'gzip' })).status).toBe(202);
    await bus.settled();
    expect(published.map((m) => m.key).sort()).toEqual(['14b60fd9ae504820', '1e223ff1f80f1c69']);
    const spans = published.flatMap((m) => JSON.parse(Buffer.from(m.value).toString('utf8')) as unknown[]);
    expect(spans).toHaveLength(1041 + 4);
  });

  it('answers 400 for a body that is not a span list, 404, 405 and 415 for the wrong path, method and type', async () => {
    expect((await post('{"not": "a list"}')).status).toBe(400);
    expect((await post('[{')).status).toBe(400);
    expect((await post(Buffer.from('not gzip'), { 'content-type': 'application/json', 'content-encoding': 'gzip' })).status).toBe(400);
    expect((await post('[]', { 'content-type': 'application/json' }, '/api/v1/spans')).status).toBe(404);
    expect((await post('', {}, ZIPKIN_SPANS_PATH, 'GET')).status).toBe(405);
    expect((await post('[]', { 'content-type': 'application/x-thrift' })).status).toBe(415);
  });

  it('feeds the trace-aggregator, which pairs the SmartThings trace it received', async () => {
    const writer = new RowsWriter();
    const stage = new TraceAggregateStage({
      bus,
      clock: systemClock,
      registry: createMetricsRegistry(),
      instanceId: 'test',
      flushIntervalMs: 20,
      maxPendingRecords: 1_000,
      writerId: 'test',
      aggregator: DEFAULT_TRACE_AGGREGATOR_CONFIG,
      store: writer,
      log: () => undefined,
    });
    await stage.start();
    await bus.settled();
    await stage.settle();
    await stage.stop();
    const edges = new Set(writer.rows.filter((r) => r.granularity === 'app').map((r) => `${r.src} -> ${r.dst}`));
    expect(edges.size).toBe(28 + 1);
    expect(edges.has('app:servicea -> app:serviceb')).toBe(true);
    expect(edges.has('app:guardian -> app:platformapi')).toBe(true);
    expect(stage.decoder.counters.get('spans_decoded')).toBe(1041 + 4);
  });
});
