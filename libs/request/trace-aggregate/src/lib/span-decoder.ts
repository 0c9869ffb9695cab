import type { DeadLetterReason, Rejection } from '@topology/contracts';
import { CounterSet } from '@topology/model';
import otlpRoot = require('otlp-proto-definitions/build/src/generated/root');
import { CLUSTER_ATTRIBUTES, PeerAttributes, REGION_ATTRIBUTE, SERVICE_NAME } from './conventions';
import { isCallerKind, ProcessDirectory, ServiceProcess, SpanKind, TraceSpan } from './span';

/*
 * Decoders of the three span formats into `TraceSpan`: OTLP protobuf (ExportTraceServiceRequest,
 * the Collector Kafka exporter's `otlp_proto`), OTLP/JSON, and Zipkin v2 JSON. A span that cannot
 * be used is rejected on its own; the rest of its payload is kept.
 */

export const SPAN_DECODER_COUNTERS = {
  spans_decoded: 'Spans decoded from OTLP protobuf, OTLP/JSON or Zipkin v2 JSON.',
  spans_rejected: 'Spans (or whole payloads) that could not be used, labelled by reason.',
} as const;
export type SpanDecoderCounter = keyof typeof SPAN_DECODER_COUNTERS;

export interface DecodedSpans {
  spans: TraceSpan[];
  /** At most one per reason and payload; its message says how many spans it stands for. */
  rejections: Rejection[];
}

// The parts of the generated OTLP messages this decoder reads (protobufjs static code: absent
// fields read as null, 64-bit integers as Long).
interface Long {
  low: number;
  high: number;
  unsigned: boolean;
}
interface PbAnyValue {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: Long | number | null;
  doubleValue?: number | null;
}
interface PbKeyValue {
  key: string;
  value?: PbAnyValue | null;
}
interface PbSpan {
  traceId?: Uint8Array | null;
  spanId?: Uint8Array | null;
  parentSpanId?: Uint8Array | null;
  name?: string | null;
  kind?: number | null;
  startTimeUnixNano?: Long | number | null;
  endTimeUnixNano?: Long | number | null;
  attributes: PbKeyValue[];
  status?: { code?: number | null } | null;
}
interface PbResourceSpans {
  resource?: { attributes: PbKeyValue[] } | null;
  scopeSpans: { spans: PbSpan[] }[];
}
interface PbExportTraceServiceRequest {
  resourceSpans: PbResourceSpans[];
}
interface OtlpMessages {
  opentelemetry: {
    proto: {
      collector: { trace: { v1: { ExportTraceServiceRequest: { decode(bytes: Uint8Array): PbExportTraceServiceRequest } } } };
    };
  };
}

// The package types its generated root as a bare protobufjs Root; its namespaces are reached by name.
const ExportTraceServiceRequest = (otlpRoot as unknown as OtlpMessages).opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

const OTLP_KINDS: readonly SpanKind[] = ['internal', 'internal', 'server', 'client', 'producer', 'consumer'];
const OTLP_KIND_NAMES: Readonly<Record<string, SpanKind>> = {
  SPAN_KIND_UNSPECIFIED: 'internal',
  SPAN_KIND_INTERNAL: 'internal',
  SPAN_KIND_SERVER: 'server',
  SPAN_KIND_CLIENT: 'client',
  SPAN_KIND_PRODUCER: 'producer',
  SPAN_KIND_CONSUMER: 'consumer',
};
const STATUS_ERROR = 2;
const ZIPKIN_KINDS: Readonly<Record<string, SpanKind>> = { CLIENT: 'client', SERVER: 'server', PRODUCER: 'producer', CONSUMER: 'consumer' };

const HEX_16 = /^[0-9a-f]{16}$/;
const HEX_32 = /^[0-9a-f]{32}$/;
const HEX_16_OR_32 = /^(?:[0-9a-f]{16}){1,2}$/;
const ZERO_ID = /^0+$/;

/**
 * Unsigned 64-bit nanoseconds to whole microseconds, exactly: a double holds epoch nanoseconds only
 * to about 256 ns, so the division is done on the two 32-bit halves (2^32 = 1000 × 4294967 + 296).
 */
function nanosToMicrosExact(v: Long | number | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return Math.floor(v / 1000);
  const high = v.high >>> 0;
  const low = v.low >>> 0;
  return high * 4294967 + Math.floor((high * 296 + low) / 1000);
}

function hexOf(bytes: Uint8Array | null | undefined): string {
  if (bytes === null || bytes === undefined || bytes.length === 0) return '';
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return buffer.toString('hex');
}

/** Nanoseconds as a decimal string or number (OTLP/JSON writes 64-bit integers as strings) to microseconds. */
function nanosToMicros(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.floor(value / 1000) : NaN;
  if (typeof value !== 'string' || value === '') return value === undefined || value === '' ? 0 : NaN;
  // Dropping the last three digits is exact; converting 19 digits to a double first would not be.
  if (!/^\d+$/.test(value)) return NaN;
  return value.length <= 3 ? 0 : Number(value.slice(0, -3));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Rejected spans of one payload, folded to one rejection per reason. */
class PayloadRejections {
  private readonly byReason = new Map<DeadLetterReason, { count: number; message: string; raw: string | Uint8Array }>();

  constructor(private readonly counters: CounterSet<SpanDecoderCounter>) {}

  add(reason: DeadLetterReason, message: string, raw: () => string | Uint8Array): void {
    this.counters.inc('spans_rejected', 1, reason);
    const seen = this.byReason.get(reason);
    if (seen === undefined) this.byReason.set(reason, { count: 1, message, raw: raw() });
    else seen.count++;
  }

  list(): Rejection[] {
    const out: Rejection[] = [];
    for (const [reason, r] of this.byReason) {
      out.push({ reason, message: r.count === 1 ? r.message : `${r.count} spans rejected; the first: ${r.message}`, raw: r.raw });
    }
    return out;
  }
}

/** Decodes span payloads into `TraceSpan`s, interning processes and peers in its directory. */
export class SpanDecoder {
  readonly counters = new CounterSet<SpanDecoderCounter>(SPAN_DECODER_COUNTERS);
  private readonly peerAttributes = new PeerAttributes();

  constructor(readonly directory: ProcessDirectory = new ProcessDirectory()) {}

  /** An OTLP ExportTraceServiceRequest in protobuf, as the OTLP exporters and the Collector's Kafka exporter send it. */
  otlpProtobuf(payload: Uint8Array): DecodedSpans {
    let request: PbExportTraceServiceRequest;
    try {
      request = ExportTraceServiceRequest.decode(payload);
    } catch (error) {
      this.counters.inc('spans_rejected', 1, 'malformed');
      return { spans: [], rejections: [{ reason: 'malformed', message: `not an OTLP ExportTraceServiceRequest: ${describe(error)}`, raw: payload }] };
    }
    const spans: TraceSpan[] = [];
    const rejections = new PayloadRejections(this.counters);
    for (const resourceSpans of request.resourceSpans) {
      const process = this.resourceProcess(resourceSpans.resource?.attributes ?? []);
      for (const scopeSpans of resourceSpans.scopeSpans) {
        for (const span of scopeSpans.spans) {
          if (process === undefined) {
            rejections.add('missing-field', 'resource has no service.name', () => payload);
            continue;
          }
          const decoded = this.protobufSpan(span, process, rejections, payload);
          if (decoded !== undefined) spans.push(decoded);
        }
      }
    }
    this.counters.inc('spans_decoded', spans.length);
    return { spans, rejections: rejections.list() };
  }

  private resourceProcess(attributes: readonly PbKeyValue[]): ServiceProcess | undefined {
    let service = '';
    let cluster = '';
    let clusterRank: number = CLUSTER_ATTRIBUTES.length;
    let region = '';
    for (const { key, value } of attributes) {
      const text = value?.stringValue;
      if (typeof text !== 'string' || text === '') continue;
      if (key === SERVICE_NAME) service = text;
      else if (key === REGION_ATTRIBUTE) region = text;
      else {
        const rank = (CLUSTER_ATTRIBUTES as readonly string[]).indexOf(key);
        if (rank >= 0 && rank < clusterRank) {
          cluster = text;
          clusterRank = rank;
        }
      }
    }
    return service === '' ? undefined : this.directory.process(service, cluster, region);
  }

  private protobufSpan(span: PbSpan, process: ServiceProcess, rejections: PayloadRejections, payload: Uint8Array): TraceSpan | undefined {
    const traceId = hexOf(span.traceId);
    const spanId = hexOf(span.spanId);
    if (traceId.length !== 32 || ZERO_ID.test(traceId)) {
      rejections.add('invalid-value', `trace id ${JSON.stringify(traceId)} is not 16 non-zero bytes`, () => payload);
      return undefined;
    }
    if (spanId.length !== 16 || ZERO_ID.test(spanId)) {
      rejections.add('invalid-value', `span id ${JSON.stringify(spanId)} is not 8 non-zero bytes`, () => payload);
      return undefined;
    }
    const startUs = nanosToMicrosExact(span.startTimeUnixNano);
    const endUs = nanosToMicrosExact(span.endTimeUnixNano);
    if (endUs < startUs) {
      rejections.add('invalid-time', `span ${spanId} ends before it starts`, () => payload);
      return undefined;
    }
    const kind = OTLP_KINDS[span.kind ?? 0] ?? 'internal';
    let peer;
    if (isCallerKind(kind)) {
      const peers = this.peerAttributes;
      peers.reset();
      for (const { key, value } of span.attributes) {
        const text = value?.stringValue;
        if (typeof text === 'string') peers.offer(key, text);
      }
      peer = peers.peer(this.directory);
    }
    const parent = hexOf(span.parentSpanId);
    return {
      traceId,
      spanId,
      parentSpanId: parent === '' || ZERO_ID.test(parent) ? '' : parent,
      process,
      kind,
      name: span.name ?? '',
      startUs,
      durationUs: endUs - startUs,
      error: span.status?.code === STATUS_ERROR,
      peer,
      sharedServer: false,
    };
  }

  /** OTLP/JSON (the `/v1/traces` JSON body): hex ids, kinds as numbers or names, times as decimal strings. */
  otlpJson(payload: Uint8Array | string): DecodedSpans {
    let request: unknown;
    try {
      request = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('utf8'));
    } catch (error) {
      this.counters.inc('spans_rejected', 1, 'malformed');
      return { spans: [], rejections: [{ reason: 'malformed', message: `OTLP/JSON is not valid JSON: ${describe(error)}`, raw: payload }] };
    }
    if (!isObject(request) || !Array.isArray(request['resourceSpans'])) {
      this.counters.inc('spans_rejected', 1, 'malformed');
      return { spans: [], rejections: [{ reason: 'malformed', message: 'OTLP/JSON has no resourceSpans list', raw: payload }] };
    }
    const spans: TraceSpan[] = [];
    const rejections = new PayloadRejections(this.counters);
    for (const resourceSpans of request['resourceSpans'] as unknown[]) {
      if (!isObject(resourceSpans)) {
        rejections.add('malformed', 'a resourceSpans entry is not an object', () => JSON.stringify(resourceSpans));
        continue;
      }
      const resource = resourceSpans['resource'];
      const process = this.resourceProcess(jsonAttributes(isObject(resource) ? resource['attributes'] : undefined));
      // `instrumentationLibrarySpans` is the name before OTLP 0.15; old exporters still send it.
      const scopes = resourceSpans['scopeSpans'] ?? resourceSpans['instrumentationLibrarySpans'];
      for (const scope of Array.isArray(scopes) ? scopes : []) {
        const list = isObject(scope) ? scope['spans'] : undefined;
        for (const span of Array.isArray(list) ? list : []) {
          if (process === undefined) {
            rejections.add('missing-field', 'resource has no service.name', () => JSON.stringify(span));
            continue;
          }
          const decoded = this.jsonSpan(span, process, rejections);
          if (decoded !== undefined) spans.push(decoded);
        }
      }
    }
    this.counters.inc('spans_decoded', spans.length);
    return { spans, rejections: rejections.list() };
  }

  private jsonSpan(span: unknown, process: ServiceProcess, rejections: PayloadRejections): TraceSpan | undefined {
    const raw = () => JSON.stringify(span);
    if (!isObject(span)) {
      rejections.add('malformed', 'a span is not an object', raw);
      return undefined;
    }
    const traceId = typeof span['traceId'] === 'string' ? span['traceId'].toLowerCase() : '';
    const spanId = typeof span['spanId'] === 'string' ? span['spanId'].toLowerCase() : '';
    if (!HEX_32.test(traceId) || ZERO_ID.test(traceId)) {
      rejections.add(traceId === '' ? 'missing-field' : 'invalid-value', `trace id ${JSON.stringify(span['traceId'])} is not 32 hex digits`, raw);
      return undefined;
    }
    if (!HEX_16.test(spanId) || ZERO_ID.test(spanId)) {
      rejections.add(spanId === '' ? 'missing-field' : 'invalid-value', `span id ${JSON.stringify(span['spanId'])} is not 16 hex digits`, raw);
      return undefined;
    }
    const parent = typeof span['parentSpanId'] === 'string' ? span['parentSpanId'].toLowerCase() : '';
    if (parent !== '' && !HEX_16.test(parent)) {
      rejections.add('invalid-value', `parent span id ${JSON.stringify(span['parentSpanId'])} is not 16 hex digits`, raw);
      return undefined;
    }
    const startUs = nanosToMicros(span['startTimeUnixNano']);
    const endUs = nanosToMicros(span['endTimeUnixNano']);
    if (Number.isNaN(startUs) || Number.isNaN(endUs) || endUs < startUs) {
      rejections.add('invalid-time', `span ${spanId} has unreadable times or ends before it starts`, raw);
      return undefined;
    }
    const kindValue = span['kind'];
    const kind = typeof kindValue === 'number' ? OTLP_KINDS[kindValue] : typeof kindValue === 'string' ? OTLP_KIND_NAMES[kindValue] : 'internal';
    if (kind === undefined) {
      rejections.add('invalid-value', `span ${spanId} has an unknown kind ${JSON.stringify(kindValue)}`, raw);
      return undefined;
    }
    let peer;
    if (isCallerKind(kind)) {
      const peers = this.peerAttributes;
      peers.reset();
      for (const { key, value } of jsonAttributes(span['attributes'])) {
        const text = value?.stringValue;
        if (typeof text === 'string') peers.offer(key, text);
      }
      peer = peers.peer(this.directory);
    }
    const status = span['status'];
    const code = isObject(status) ? status['code'] : undefined;
    return {
      traceId,
      spanId,
      parentSpanId: parent === '' || ZERO_ID.test(parent) ? '' : parent,
      process,
      kind,
      name: typeof span['name'] === 'string' ? span['name'] : '',
      startUs,
      durationUs: endUs - startUs,
      error: code === STATUS_ERROR || code === 'STATUS_CODE_ERROR',
      peer,
      sharedServer: false,
    };
  }

  /**
   * Zipkin v2 JSON (a list of spans, as POSTed to `/api/v2/spans`). Client and server halves of a
   * call may share one span id; the server half then says `shared: true`.
   */
  zipkinJson(payload: Uint8Array | string): DecodedSpans {
    let list: unknown;
    try {
      list = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('utf8'));
    } catch (error) {
      this.counters.inc('spans_rejected', 1, 'malformed');
      return { spans: [], rejections: [{ reason: 'malformed', message: `Zipkin spans are not valid JSON: ${describe(error)}`, raw: payload }] };
    }
    if (!Array.isArray(list)) {
      this.counters.inc('spans_rejected', 1, 'malformed');
      return { spans: [], rejections: [{ reason: 'malformed', message: 'Zipkin v2 JSON must be a list of spans', raw: payload }] };
    }
    const spans: TraceSpan[] = [];
    const rejections = new PayloadRejections(this.counters);
    for (const span of list) {
      const decoded = this.zipkinSpan(span, rejections);
      if (decoded !== undefined) spans.push(decoded);
    }
    this.counters.inc('spans_decoded', spans.length);
    return { spans, rejections: rejections.list() };
  }

  private zipkinSpan(span: unknown, rejections: PayloadRejections): TraceSpan | undefined {
    const raw = () => JSON.stringify(span);
    if (!isObject(span)) {
      rejections.add('malformed', 'a Zipkin span is not an object', raw);
      return undefined;
    }
    const traceId = typeof span['traceId'] === 'string' ? span['traceId'].toLowerCase() : '';
    const spanId = typeof span['id'] === 'string' ? span['id'].toLowerCase() : '';
    if (!HEX_16_OR_32.test(traceId) || ZERO_ID.test(traceId)) {
      rejections.add(traceId === '' ? 'missing-field' : 'invalid-value', `trace id ${JSON.stringify(span['traceId'])} is not 16 or 32 hex digits`, raw);
      return undefined;
    }
    if (!HEX_16.test(spanId) || ZERO_ID.test(spanId)) {
      rejections.add(spanId === '' ? 'missing-field' : 'invalid-value', `span id ${JSON.stringify(span['id'])} is not 16 hex digits`, raw);
      return undefined;
    }
    const parent = typeof span['parentId'] === 'string' ? span['parentId'].toLowerCase() : '';
    if (parent !== '' && !HEX_16.test(parent)) {
      rejections.add('invalid-value', `parent id ${JSON.stringify(span['parentId'])} is not 16 hex digits`, raw);
      return undefined;
    }
    const local = span['localEndpoint'];
    const service = isObject(local) && typeof local['serviceName'] === 'string' ? local['serviceName'] : '';
    if (service === '') {
      rejections.add('missing-field', `span ${spanId} has no localEndpoint.serviceName`, raw);
      return undefined;
    }
    const timestamp = span['timestamp'] ?? 0;
    const duration = span['duration'] ?? 0;
    if (typeof timestamp !== 'number' || typeof duration !== 'number' || !(timestamp >= 0) || !(duration >= 0)) {
      rejections.add('invalid-time', `span ${spanId} has a timestamp or duration that is not a non-negative number of microseconds`, raw);
      return undefined;
    }
    const kindName = span['kind'];
    const kind = kindName === undefined ? 'internal' : typeof kindName === 'string' ? ZIPKIN_KINDS[kindName] : undefined;
    if (kind === undefined) {
      rejections.add('invalid-value', `span ${spanId} has an unknown kind ${JSON.stringify(kindName)}`, raw);
      return undefined;
    }
    const tags = isObject(span['tags']) ? span['tags'] : undefined;
    let peer;
    if (isCallerKind(kind)) {
      const peers = this.peerAttributes;
      peers.reset();
      if (tags !== undefined) for (const key in tags) if (PeerAttributes.reads(key)) peers.offer(key, String(tags[key]));
      const remote = span['remoteEndpoint'];
      if (isObject(remote) && typeof remote['serviceName'] === 'string') peers.offerService(remote['serviceName']);
      peer = peers.peer(this.directory);
    }
    return {
      traceId,
      spanId,
      parentSpanId: parent,
      process: this.directory.process(service, '', ''),
      kind,
      name: typeof span['name'] === 'string' ? span['name'] : '',
      startUs: timestamp,
      durationUs: duration,
      // Zipkin marks a failed span with an `error` tag, whatever its value.
      error: tags !== undefined && tags['error'] !== undefined,
      peer,
      sharedServer: span['shared'] === true && kind === 'server',
    };
  }
}

function jsonAttributes(list: unknown): PbKeyValue[] {
  if (!Array.isArray(list)) return [];
  const out: PbKeyValue[] = [];
  for (const entry of list) {
    if (!isObject(entry) || typeof entry['key'] !== 'string') continue;
    const value = entry['value'];
    out.push({ key: entry['key'], value: isObject(value) ? { stringValue: typeof value['stringValue'] === 'string' ? value['stringValue'] : null } : null });
  }
  return out;
}
