import otlpRoot = require('otlp-proto-definitions/build/src/generated/root');
import { SpanDecoder } from './span-decoder';
import { readRealdata } from './testdata/realdata';

interface Encoder {
  fromObject(value: object): unknown;
  encode(message: unknown): { finish(): Uint8Array };
}
const ExportTraceServiceRequest = (otlpRoot as unknown as { opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: Encoder } } } } } })
  .opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

function otlpProtobuf(request: object): Uint8Array {
  return ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(request)).finish();
}

const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
const TRACE = Buffer.from('5b8efff798038103d269b633813fc60c', 'hex');

describe('decoding OTLP/JSON', () => {
  it('parses the OpenTelemetry example request (otlp/trace.json)', () => {
    const decoder = new SpanDecoder();
    const { spans, rejections } = decoder.otlpJson(readRealdata('otlp/trace.json'));
    expect(rejections).toEqual([]);
    expect(spans).toHaveLength(1);
    const [span] = spans;
    expect(span).toMatchObject({
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      parentSpanId: 'eee19b7ec3c1b173',
      kind: 'server',
      name: "I'm a server span",
      startUs: 1_544_712_660_000_000,
      durationUs: 1_000_000,
      error: false,
      sharedServer: false,
    });
    expect(span?.process).toMatchObject({ service: 'my.service', cluster: 'my.service', appNode: 'app:my.service', clusterNode: 'cluster:my.service' });
    expect(decoder.counters.get('spans_decoded')).toBe(1);
  });

  it('rejects what is not OTLP/JSON, and spans with unusable ids or times, keeping the rest', () => {
    const decoder = new SpanDecoder();
    expect(decoder.otlpJson('{"resourceSpans": [').rejections.map((r) => r.reason)).toEqual(['malformed']);
    const request = {
      resourceSpans: [
        {
          resource: { attributes: [str('service.name', 'orders')] },
          scopeSpans: [
            {
              spans: [
                { traceId: '5b8efff798038103d269b633813fc60c', spanId: '00000000000000aa', kind: 'SPAN_KIND_CLIENT', startTimeUnixNano: '1000000', endTimeUnixNano: '2000000' },
                { traceId: 'xyz', spanId: '00000000000000ab', startTimeUnixNano: '1', endTimeUnixNano: '2' },
                { traceId: '5b8efff798038103d269b633813fc60c', spanId: '00000000000000ac', startTimeUnixNano: '5000', endTimeUnixNano: '1000' },
              ],
            },
          ],
        },
        { resource: { attributes: [] }, scopeSpans: [{ spans: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: '00000000000000ad' }] }] },
      ],
    };
    const { spans, rejections } = decoder.otlpJson(JSON.stringify(request));
    expect(spans.map((s) => [s.spanId, s.kind, s.startUs, s.durationUs])).toEqual([['00000000000000aa', 'client', 1_000, 1_000]]);
    expect(rejections.map((r) => r.reason).sort()).toEqual(['invalid-time', 'invalid-value', 'missing-field']);
    expect(decoder.counters.get('spans_rejected')).toBe(4);
  });
});

describe('decoding OTLP protobuf (ExportTraceServiceRequest)', () => {
  it('reads ids, kinds, nanosecond times, status and the cluster and region of the resource', () => {
    const request = {
      resourceSpans: [
        {
          resource: {
            attributes: [
              str('service.name', 'checkout'),
              str('k8s.deployment.name', 'checkout-deploy'),
              str('topology.cluster', 'checkout-prod-v012'),
              str('cloud.region', 'eu-west-1'),
            ],
          },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: TRACE,
                  spanId: Buffer.from('00000000000000c1', 'hex'),
                  parentSpanId: Buffer.from('00000000000000c0', 'hex'),
                  name: 'POST /pay',
                  kind: 3,
                  startTimeUnixNano: '1700000000123456789',
                  endTimeUnixNano: '1700000000125456789',
                  status: { code: 2 },
                  attributes: [str('server.address', 'api.psp.example'), str('peer.service', 'payments')],
                },
              ],
            },
          ],
        },
        { resource: { attributes: [str('service.name', 'payments'), str('k8s.statefulset.name', 'payments-0')] }, scopeSpans: [{ spans: [{ traceId: TRACE, spanId: Buffer.from('00000000000000d1', 'hex'), kind: 2 }] }] },
      ],
    };
    const decoder = new SpanDecoder();
    const { spans, rejections } = decoder.otlpProtobuf(otlpProtobuf(request));
    expect(rejections).toEqual([]);
    const [client, server] = spans;
    expect(client).toMatchObject({ traceId: TRACE.toString('hex'), spanId: '00000000000000c1', parentSpanId: '00000000000000c0', kind: 'client', name: 'POST /pay', error: true });
    expect(client?.startUs).toBe(1_700_000_000_123_456);
    expect(client?.durationUs).toBe(2_000);
    // `topology.cluster` outranks the Kubernetes workload name; the region is `cloud.region`.
    expect(client?.process).toMatchObject({ service: 'checkout', cluster: 'checkout-prod-v012', region: 'eu-west-1', clusterNode: 'cluster:checkout-prod-v012' });
    // A service name outranks an address when both name the peer.
    expect(client?.peer).toMatchObject({ name: 'payments', source: 'service', node: 'app:payments' });
    expect(server).toMatchObject({ kind: 'server', parentSpanId: '', peer: undefined });
    expect(server?.process.cluster).toBe('payments-0');
  });

  it('rejects bytes that are not a request, and spans with zero ids or no service, one rejection per reason', () => {
    const decoder = new SpanDecoder();
    expect(decoder.otlpProtobuf(Buffer.from('not protobuf at all, just text')).rejections.map((r) => r.reason)).toEqual(['malformed']);
    const request = {
      resourceSpans: [
        {
          resource: { attributes: [str('service.name', 'a')] },
          scopeSpans: [{ spans: [1, 2, 3].map(() => ({ traceId: Buffer.alloc(16), spanId: Buffer.from('00000000000000c1', 'hex') })) }],
        },
        { resource: { attributes: [] }, scopeSpans: [{ spans: [{ traceId: TRACE, spanId: Buffer.from('00000000000000c1', 'hex') }] }] },
      ],
    };
    const { spans, rejections } = decoder.otlpProtobuf(otlpProtobuf(request));
    expect(spans).toEqual([]);
    expect(rejections.map((r) => [r.reason, r.message])).toEqual([
      ['invalid-value', '3 spans rejected; the first: trace id "00000000000000000000000000000000" is not 16 non-zero bytes'],
      ['missing-field', 'resource has no service.name'],
    ]);
  });
});

describe('decoding Zipkin v2 JSON', () => {
  it('reads kinds, microsecond times, shared server halves, error tags and remote service names', () => {
    const decoder = new SpanDecoder();
    const { spans, rejections } = decoder.zipkinJson(readRealdata('zipkin/skew.json'));
    expect(rejections).toEqual([]);
    expect(spans.map((s) => [s.process.service, s.kind, s.spanId, s.sharedServer])).toEqual([
      ['serviceb', 'internal', '43210ae0c10d1234', false],
      ['serviceb', 'server', '74280ae0c10d8062', true],
      ['servicea', 'server', 'bf396325699c84bf', false],
      ['servicea', 'client', '74280ae0c10d8062', false],
    ]);
    expect(spans[3]).toMatchObject({ startUs: 1470150004074202, durationUs: 94539, parentSpanId: 'bf396325699c84bf' });

    const kafka = decoder.zipkinJson(readRealdata('zipkin/messaging-kafka.json')).spans;
    expect(kafka.filter((s) => s.error).length).toBeGreaterThan(0);
    expect(new Set(kafka.filter((s) => s.kind === 'producer').map((s) => s.peer?.node))).toEqual(new Set(['app:kafka']));
  });

  it('rejects a span without a local service name (the real Envoy example) and what is not a span list', () => {
    const decoder = new SpanDecoder();
    expect(decoder.zipkinJson(readRealdata('zipkin/envoy.json')).rejections.map((r) => r.reason)).toEqual(['missing-field']);
    expect(decoder.zipkinJson(readRealdata('zipkin/zipkin2-client.json')).rejections.map((r) => r.reason)).toEqual(['malformed']);
    expect(decoder.zipkinJson('[{"traceId":"1","id":"2"}').rejections.map((r) => r.reason)).toEqual(['malformed']);
    const odd = decoder.zipkinJson(JSON.stringify([{ traceId: 'aaaaaaaaaaaaaaaa', id: 'bbbbbbbbbbbbbbbb', kind: 'SIDEWAYS', localEndpoint: { serviceName: 'x' } }]));
    expect(odd.rejections.map((r) => r.reason)).toEqual(['invalid-value']);
  });
});
