import { ContentTypes, DeadLetterCodec, deadLetterTopic, Headers, Topics, type DeadLetterMsg } from '@topology/contracts';
import { testConfig } from '../testing/run-all-in-one';
import { AllInOne } from './all-in-one';

jest.setTimeout(120_000);

/**
 * Bad IPC metrics and bad spans, as exporters and a Collector's Kafka exporter put them on the
 * topics: none crashes a stage, none is lost. Each goes to its topic's dead-letter topic with the
 * reason, the source and the payload, and is counted.
 */
describe('bad metrics and spans', () => {
  let app: AllInOne;
  const deadLetters: DeadLetterMsg[] = [];
  const inputs = [Topics.otlpMetrics, Topics.ipcMetrics, Topics.otlpSpans, Topics.spansZipkin];

  beforeAll(async () => {
    app = await AllInOne.start(testConfig(), { log: () => undefined });
    await app.bus.subscribe({
      topics: inputs.map(deadLetterTopic),
      groupId: 'test-dead-letters',
      fromBeginning: true,
      handler: async (batch) => {
        for (const m of batch.messages) deadLetters.push(DeadLetterCodec.decode(m.value));
      },
    });
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('go to the dead-letter topic of their input with the reason, and the stages go on', async () => {
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]);
    await app.bus.publish(Topics.otlpMetrics, [{ key: null, value: garbage }]);
    await app.bus.publish(Topics.otlpMetrics, [{ key: null, value: Buffer.from('{"resourceMetrics": [{"resource": 7'), headers: { [Headers.contentType]: ContentTypes.otlpJson } }]);
    await app.bus.publish(Topics.ipcMetrics, [{ key: 'web', value: Buffer.from('{"name": "ipc.client.call", "tags": \nnot json\n'), headers: { [Headers.contentType]: ContentTypes.spectatorJsonLines } }]);
    await app.bus.publish(Topics.ipcMetrics, [{ key: 'web', value: Buffer.from('x'), headers: { [Headers.contentType]: 'application/pdf' } }]);
    await app.bus.publish(Topics.otlpSpans, [{ key: null, value: garbage }]);
    await app.bus.publish(Topics.spansZipkin, [{ key: null, value: Buffer.from('[{"traceId": "abc", "id": 12}, not json') }]);
    await app.drain();

    const bySource = (topic: string) => deadLetters.filter((d) => d.sourceTopic === topic);
    for (const topic of inputs) expect({ topic, dead: bySource(topic).length > 0 }).toEqual({ topic, dead: true });
    expect(bySource(Topics.ipcMetrics).map((d) => d.reason)).toEqual(expect.arrayContaining(['unsupported-format']));
    for (const d of deadLetters) {
      expect(d.reason.length).toBeGreaterThan(0);
      expect(d.message.length).toBeGreaterThan(0);
      expect(d.payload.length).toBeGreaterThan(0);
    }

    const metrics = await (await fetch(`http://${app.httpAddress}/metrics`)).text();
    expect(metrics).toMatch(/topology_ipc_ingestor_dead_lettered_total\{topic="otlp_metrics",reason="[a-z-]+"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/topology_trace_aggregator_dead_lettered_total\{topic="otlp_spans",reason="[a-z-]+"[^}]*\} [1-9]/);
  });

  it('leave the trace-aggregator working: good spans that follow still make an edge', async () => {
    const now = Date.now() * 1000;
    const spans = [
      { traceId: '000000000000000000000000000000aa', id: '00000000000000a1', name: 'get /cart', kind: 'SERVER', timestamp: now, duration: 9_000, localEndpoint: { serviceName: 'web' } },
      { traceId: '000000000000000000000000000000aa', id: '00000000000000a2', parentId: '00000000000000a1', name: 'get /items', kind: 'CLIENT', timestamp: now + 100, duration: 5_000, localEndpoint: { serviceName: 'web' } },
      { traceId: '000000000000000000000000000000aa', id: '00000000000000a3', parentId: '00000000000000a2', name: 'get /items', kind: 'SERVER', timestamp: now + 200, duration: 4_000, localEndpoint: { serviceName: 'cart' } },
    ];
    await app.bus.publish(Topics.spansZipkin, [{ key: '000000000000000000000000000000aa', value: Buffer.from(JSON.stringify(spans)), headers: { [Headers.contentType]: ContentTypes.zipkinJson } }]);
    await app.drain();
    const edges = await app.request.store.listEdges({ granularity: 'app', range: { fromMs: Date.now() - 600_000, toMs: Date.now() + 60_000 } });
    expect(edges.map((e) => `${e.src} -> ${e.dst}`)).toContain('app:web -> app:cart');
  });
});
