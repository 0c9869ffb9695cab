import generatedRoot from 'otlp-proto-definitions/build/src/generated/root';

/**
 * OTLP messages through the protobufjs root that `@opentelemetry/otlp-transformer@0.52.1` (installed
 * as `otlp-proto-definitions`) generated from opentelemetry-proto: the same definitions encode and
 * decode, and OTLP/JSON is read by its `fromObject` after the JSON mapping's few departures from
 * protobuf JSON are undone (hex trace and span ids). See docs/adr/014-otlp-decoding.md.
 *
 * The generated declarations type the root loosely, so the shapes read here are declared below;
 * they list only the fields this code uses.
 */

export interface OtlpLong {
  low: number;
  high: number;
}
export type OtlpInt = number | OtlpLong | null | undefined;

export interface OtlpAnyValue {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: OtlpInt;
  doubleValue?: number | null;
}

export interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue | null;
}

export interface OtlpHistogramDataPoint {
  attributes: OtlpKeyValue[];
  startTimeUnixNano?: OtlpInt;
  timeUnixNano?: OtlpInt;
  count?: OtlpInt;
  bucketCounts: OtlpInt[];
  explicitBounds: number[];
}

export interface OtlpExponentialHistogramDataPoint {
  attributes: OtlpKeyValue[];
  startTimeUnixNano?: OtlpInt;
  timeUnixNano?: OtlpInt;
  count?: OtlpInt;
}

export interface OtlpMetric {
  name: string;
  unit: string;
  histogram?: { dataPoints: OtlpHistogramDataPoint[]; aggregationTemporality?: number | null } | null;
  exponentialHistogram?: { dataPoints: OtlpExponentialHistogramDataPoint[]; aggregationTemporality?: number | null } | null;
  sum?: object | null;
  gauge?: object | null;
  summary?: object | null;
}

export interface OtlpResourceMetrics {
  resource?: { attributes: OtlpKeyValue[] } | null;
  scopeMetrics: { metrics: OtlpMetric[] }[];
}

export interface ExportMetricsServiceRequest {
  resourceMetrics: OtlpResourceMetrics[];
}

export interface ExportTraceServiceRequest {
  resourceSpans: {
    resource?: { attributes: OtlpKeyValue[] } | null;
    scopeSpans: { scope?: object | null; spans: { traceId?: Uint8Array | null }[] }[];
  }[];
}

interface StaticMessageType<T> {
  decode(bytes: Uint8Array): T;
  encode(message: T): { finish(): Uint8Array };
  fromObject(object: Record<string, unknown>): T;
}

interface GeneratedRoot {
  opentelemetry: {
    proto: {
      collector: {
        metrics: { v1: { ExportMetricsServiceRequest: StaticMessageType<ExportMetricsServiceRequest>; ExportMetricsServiceResponse: StaticMessageType<object> } };
        trace: { v1: { ExportTraceServiceRequest: StaticMessageType<ExportTraceServiceRequest>; ExportTraceServiceResponse: StaticMessageType<object> } };
      };
    };
  };
}

const root = generatedRoot as unknown as GeneratedRoot;
const metricsV1 = root.opentelemetry.proto.collector.metrics.v1;
const traceV1 = root.opentelemetry.proto.collector.trace.v1;

export type OtlpSignal = 'metrics' | 'traces';

/** Input that is not OTLP of the expected signal and encoding. */
export class OtlpFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OtlpFormatError';
  }
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function decodeMetricsRequest(bytes: Uint8Array): ExportMetricsServiceRequest {
  try {
    return metricsV1.ExportMetricsServiceRequest.decode(bytes);
  } catch (e) {
    throw new OtlpFormatError(`not a protobuf ExportMetricsServiceRequest: ${reason(e)}`);
  }
}

export function decodeTraceRequest(bytes: Uint8Array): ExportTraceServiceRequest {
  try {
    return traceV1.ExportTraceServiceRequest.decode(bytes);
  } catch (e) {
    throw new OtlpFormatError(`not a protobuf ExportTraceServiceRequest: ${reason(e)}`);
  }
}

function parseJson(json: string | Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(typeof json === 'string' ? json : Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8'));
  } catch (e) {
    throw new OtlpFormatError(`not JSON: ${reason(e)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new OtlpFormatError('OTLP/JSON must be an object');
  return value as Record<string, unknown>;
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** OTLP/JSON writes trace and span ids as hex where protobuf JSON would use base64. */
function hexIdsToBytes(o: Record<string, unknown>, fields: readonly string[]): void {
  for (const f of fields) {
    const v = o[f];
    if (typeof v !== 'string') continue;
    if (!HEX.test(v)) throw new OtlpFormatError(`${f} ${JSON.stringify(v)} is not hex`);
    o[f] = Buffer.from(v, 'hex');
  }
}

function objects(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? (v.filter((x) => x !== null && typeof x === 'object') as Record<string, unknown>[]) : [];
}

const ID_FIELDS = ['traceId', 'spanId', 'parentSpanId'] as const;

function fixTraceIds(request: Record<string, unknown>): void {
  for (const rs of objects(request['resourceSpans'])) {
    for (const ss of objects(rs['scopeSpans'])) {
      for (const span of objects(ss['spans'])) {
        hexIdsToBytes(span, ID_FIELDS);
        for (const link of objects(span['links'])) hexIdsToBytes(link, ID_FIELDS);
      }
    }
  }
}

function fixMetricIds(request: Record<string, unknown>): void {
  for (const rm of objects(request['resourceMetrics'])) {
    for (const sm of objects(rm['scopeMetrics'])) {
      for (const metric of objects(sm['metrics'])) {
        for (const kind of ['gauge', 'sum', 'histogram', 'exponentialHistogram'] as const) {
          const data = metric[kind];
          if (data === null || typeof data !== 'object') continue;
          for (const point of objects((data as Record<string, unknown>)['dataPoints'])) {
            for (const exemplar of objects(point['exemplars'])) hexIdsToBytes(exemplar, ID_FIELDS);
          }
        }
      }
    }
  }
}

function fromJson<T>(type: StaticMessageType<T>, object: Record<string, unknown>, what: string): T {
  try {
    return type.fromObject(object);
  } catch (e) {
    throw new OtlpFormatError(`not an OTLP/JSON ${what}: ${reason(e)}`);
  }
}

export function decodeMetricsRequestJson(json: string | Uint8Array): ExportMetricsServiceRequest {
  const object = parseJson(json);
  fixMetricIds(object);
  return fromJson(metricsV1.ExportMetricsServiceRequest, object, 'ExportMetricsServiceRequest');
}

export function decodeTraceRequestJson(json: string | Uint8Array): ExportTraceServiceRequest {
  const object = parseJson(json);
  fixTraceIds(object);
  return fromJson(traceV1.ExportTraceServiceRequest, object, 'ExportTraceServiceRequest');
}

export function encodeMetricsRequest(request: ExportMetricsServiceRequest): Uint8Array {
  return metricsV1.ExportMetricsServiceRequest.encode(request).finish();
}

/** Builds and encodes a request from its protobuf-JSON shape (camelCase fields, int64 as numbers or strings). */
export function encodeMetricsRequestObject(object: Record<string, unknown>): Uint8Array {
  return encodeMetricsRequest(metricsV1.ExportMetricsServiceRequest.fromObject(object));
}

export function encodeTraceRequest(request: ExportTraceServiceRequest): Uint8Array {
  return traceV1.ExportTraceServiceRequest.encode(request).finish();
}

/** OTLP/JSON → the protobuf bytes of the same request, as a Collector's Kafka exporter would publish them. */
export function otlpJsonToProtobuf(signal: OtlpSignal, json: string | Uint8Array): Uint8Array {
  return signal === 'metrics' ? encodeMetricsRequest(decodeMetricsRequestJson(json)) : encodeTraceRequest(decodeTraceRequestJson(json));
}

/** Checks that protobuf bytes decode as a request of the signal; throws `OtlpFormatError` if not. */
export function checkOtlpProtobuf(signal: OtlpSignal, bytes: Uint8Array): void {
  if (signal === 'metrics') decodeMetricsRequest(bytes);
  else decodeTraceRequest(bytes);
}

/** The full-success response: an empty Export*ServiceResponse, in the request's encoding. */
export function exportResponse(signal: OtlpSignal, encoding: 'protobuf' | 'json'): Uint8Array {
  if (encoding === 'json') return Buffer.from('{}');
  const type = signal === 'metrics' ? metricsV1.ExportMetricsServiceResponse : traceV1.ExportTraceServiceResponse;
  return type.encode(type.fromObject({})).finish();
}

/** Epoch milliseconds of a `fixed64` nanosecond timestamp, without passing through an imprecise 64-bit float. */
export function nanosToMs(v: OtlpInt): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return Math.floor(v / 1e6);
  return Math.floor((v.high >>> 0) * 4294.967296 + (v.low >>> 0) / 1e6);
}

/** A uint64 count as a number (exact below 2^53). */
export function countOf(v: OtlpInt): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  return (v.high >>> 0) * 4294967296 + (v.low >>> 0);
}
