import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import * as zlib from 'zlib';
import * as grpc from '@grpc/grpc-js';
import * as protobuf from 'protobufjs';
import type { BusMessage } from '@topology/bus';
import { InProcessBus } from '@topology/bus-in-process';
import { Topics } from '@topology/contracts';
import { decodeMetricsRequest, decodeTraceRequest, encodeMetricsRequestObject } from '@topology/ipc-ingest';
import { loadAllInOneConfig } from './all-in-one.config';
import { ConfigError } from './env';
import { createMetricsRegistry } from './metrics';
import { OtlpIntake } from './otlp-receiver';
import { OTLP_GRPC_SERVICES, OtlpGrpcReceiver } from './otlp-receiver.grpc';
import { OtlpHttpReceiver } from './otlp-receiver.http';

/** The OpenTelemetry project's own OTLP/JSON examples (opentelemetry-proto examples/). */
const REALDATA = path.resolve(__dirname, '../../../../../../shared/realdata/otlp');

const Status = new protobuf.Type('Status').add(new protobuf.Field('code', 1, 'int32')).add(new protobuf.Field('message', 2, 'string'));

function metricsRequest(service: string): Uint8Array {
  return encodeMetricsRequestObject({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeMetrics: [{ metrics: [{ name: 'rpc.client.call.duration', unit: 's', histogram: { aggregationTemporality: 1, dataPoints: [{ count: 3, timeUnixNano: 1, bucketCounts: [3], explicitBounds: [] }] } }] }],
      },
    ],
  });
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function post(address: string, urlPath: string, body: Uint8Array, headers: Record<string, string>, method = 'POST'): Promise<Reply> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path: urlPath, method, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the OTLP receivers', () => {
  let bus: InProcessBus;
  let httpReceiver: OtlpHttpReceiver;
  let grpcReceiver: OtlpGrpcReceiver;
  const published: BusMessage[] = [];

  beforeAll(async () => {
    bus = new InProcessBus({ defaultPartitions: 2 });
    await bus.subscribe({
      topics: [Topics.otlpMetrics, Topics.otlpSpans],
      groupId: 'observer',
      handler: async (batch) => {
        published.push(...batch.messages);
      },
    });
    const intake = new OtlpIntake(bus, createMetricsRegistry());
    httpReceiver = await OtlpHttpReceiver.start({ intake, address: '127.0.0.1:0' });
    grpcReceiver = await OtlpGrpcReceiver.start({ intake, address: '127.0.0.1:0' });
  });

  afterAll(async () => {
    await httpReceiver.close();
    await grpcReceiver.close();
    await bus.close();
  });

  async function taken(): Promise<BusMessage[]> {
    await bus.settled();
    return published.splice(0);
  }

  it('HTTP: publishes a protobuf export as it came, keyed by service, and answers an empty protobuf response', async () => {
    const request = metricsRequest('checkout');
    const reply = await post(httpReceiver.address, '/v1/metrics', request, { 'content-type': 'application/x-protobuf' });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/x-protobuf');
    expect(reply.body.length).toBe(0);
    const [message, ...more] = await taken();
    expect(more).toEqual([]);
    expect(message?.topic).toBe(Topics.otlpMetrics);
    expect(message?.key).toBe('checkout');
    expect(Buffer.from(message?.value ?? []).equals(Buffer.from(request))).toBe(true);
  });

  it('HTTP: re-encodes OTLP/JSON (here gzip-compressed) to protobuf and answers JSON', async () => {
    const json = fs.readFileSync(path.join(REALDATA, 'metrics.json'));
    const reply = await post(httpReceiver.address, '/v1/metrics', zlib.gzipSync(json), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(JSON.parse(reply.body.toString())).toEqual({});
    const [message] = await taken();
    const decoded = decodeMetricsRequest(message?.value ?? new Uint8Array());
    expect(decoded.resourceMetrics[0]?.scopeMetrics[0]?.metrics.map((m) => m.name)).toEqual(['my.counter', 'my.gauge', 'my.histogram', 'my.exponential.histogram']);
  });

  it('HTTP: splits a trace export per trace, keyed by the trace id, as the Collector Kafka exporter partitions traces', async () => {
    const json = fs.readFileSync(path.join(REALDATA, 'trace.json'));
    const reply = await post(httpReceiver.address, '/v1/traces', json, { 'content-type': 'application/json' });
    expect(reply.status).toBe(200);
    const messages = await taken();
    expect(messages.map((m) => [m.topic, m.key])).toEqual([[Topics.otlpSpans, '5b8efff798038103d269b633813fc60c']]);
    const spans = decodeTraceRequest(messages[0]?.value ?? new Uint8Array()).resourceSpans[0]?.scopeSpans[0]?.spans ?? [];
    expect(spans.length).toBeGreaterThan(0);
    expect(Buffer.from(spans[0]?.traceId ?? []).toString('hex')).toBe('5b8efff798038103d269b633813fc60c');
  });

  it('HTTP: refuses what it cannot take with the status the specification gives, and a google.rpc.Status body', async () => {
    const bad = await post(httpReceiver.address, '/v1/metrics', Buffer.from([0x0a, 0xff, 0xff]), { 'content-type': 'application/x-protobuf' });
    expect(bad.status).toBe(400);
    expect(Status.toObject(Status.decode(bad.body))).toEqual(expect.objectContaining({ code: 3 }));
    const badJson = await post(httpReceiver.address, '/v1/traces', Buffer.from('{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}'), { 'content-type': 'application/json' });
    expect(badJson.status).toBe(400);
    expect(JSON.parse(badJson.body.toString())).toEqual(expect.objectContaining({ code: 3 }));
    const badGzip = await post(httpReceiver.address, '/v1/metrics', Buffer.from('not gzip'), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(badGzip.status).toBe(400);
    expect((await post(httpReceiver.address, '/v1/metrics', Buffer.from('x'), { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post(httpReceiver.address, '/v1/metrics', Buffer.from('x'), { 'content-type': 'application/x-protobuf', 'content-encoding': 'br' })).status).toBe(415);
    expect((await post(httpReceiver.address, '/v1/logs', Buffer.from('x'), { 'content-type': 'application/x-protobuf' })).status).toBe(404);
    expect((await post(httpReceiver.address, '/v1/metrics', Buffer.alloc(0), {}, 'GET')).status).toBe(405);
    expect(await taken()).toEqual([]);
  });

  it('gRPC: MetricsService/Export takes a gzip-compressed request and publishes it; unreadable bytes are INVALID_ARGUMENT', async () => {
    const client = new grpc.Client(grpcReceiver.address, grpc.credentials.createInsecure(), { 'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip });
    const call = (bytes: Uint8Array) =>
      new Promise<Buffer>((resolve, reject) =>
        client.makeUnaryRequest(
          `/${OTLP_GRPC_SERVICES.metrics}/Export`,
          (b: Uint8Array) => Buffer.from(b),
          (b: Buffer) => b,
          bytes,
          (error, response) => (error ? reject(error) : resolve(response ?? Buffer.alloc(0))),
        ),
      );
    try {
      const request = metricsRequest('catalog');
      expect((await call(request)).length).toBe(0);
      const [message] = await taken();
      expect(message?.key).toBe('catalog');
      expect(Buffer.from(message?.value ?? []).equals(Buffer.from(request))).toBe(true);
      await expect(call(Buffer.from([0x0a, 0xff, 0xff]))).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    } finally {
      client.close();
    }
  });

  it('answers 503 (retry later) when the bus cannot take an export', async () => {
    const closed = new InProcessBus({ defaultPartitions: 1 });
    await closed.close();
    const receiver = await OtlpHttpReceiver.start({ intake: new OtlpIntake(closed, createMetricsRegistry()), address: '127.0.0.1:0' });
    try {
      const reply = await post(receiver.address, '/v1/metrics', metricsRequest('a'), { 'content-type': 'application/x-protobuf' });
      expect(reply.status).toBe(503);
      expect(reply.headers['retry-after']).toBeDefined();
    } finally {
      await receiver.close();
    }
  });

  it('listens where the all-in-one configuration says, and refuses two listeners on one port', () => {
    const c = loadAllInOneConfig({ TOPOLOGY_OTLP_HTTP_ADDRESS: '127.0.0.1:14318', TOPOLOGY_OTLP_GRPC_ADDRESS: ':14317' });
    expect([c.otlpHttpAddress, c.otlpGrpcAddress]).toEqual(['127.0.0.1:14318', ':14317']);
    expect(loadAllInOneConfig({}).otlpHttpAddress).toBe('0.0.0.0:4318');
    expect(() => loadAllInOneConfig({ TOPOLOGY_OTLP_GRPC_ADDRESS: '0.0.0.0:4318' })).toThrow(ConfigError);
  });
});
