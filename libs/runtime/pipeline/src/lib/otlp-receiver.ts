import type { Bus, OutgoingMessage } from '@topology/bus';
import { ContentTypes, Headers, Topics } from '@topology/contracts';
import {
  decodeMetricsRequest,
  decodeMetricsRequestJson,
  decodeTraceRequest,
  decodeTraceRequestJson,
  encodeMetricsRequest,
  encodeTraceRequest,
  OtlpFormatError,
  type ExportTraceServiceRequest,
  type OtlpKeyValue,
  type OtlpSignal,
} from '@topology/ipc-ingest';
import { Counter, type Registry } from 'prom-client';

export type OtlpEncoding = 'protobuf' | 'json';

/** What happened to one export request, as both transports report it. */
export type OtlpExportResult = { outcome: 'accepted'; messages: number } | { outcome: 'invalid'; message: string } | { outcome: 'unavailable'; message: string };

function serviceName(attributes: readonly OtlpKeyValue[] | undefined): string | null {
  for (const kv of attributes ?? []) if (kv.key === 'service.name' && typeof kv.value?.stringValue === 'string') return kv.value.stringValue;
  return null;
}

function hex(bytes: Uint8Array | null | undefined): string {
  return bytes === null || bytes === undefined ? '' : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * One request per trace, keyed by trace id, as the Collector's Kafka exporter writes them with
 * `partition_traces_by_id`: every span of a trace reaches the same trace-aggregator partition.
 */
export function splitByTrace(request: ExportTraceServiceRequest): { traceId: string; request: ExportTraceServiceRequest }[] {
  const byTrace = new Map<string, ExportTraceServiceRequest>();
  for (const rs of request.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        const traceId = hex(span.traceId);
        let out = byTrace.get(traceId);
        if (!out) {
          out = { resourceSpans: [] };
          byTrace.set(traceId, out);
        }
        let r = out.resourceSpans[out.resourceSpans.length - 1];
        if (r === undefined || r.resource !== rs.resource) {
          r = { ...rs, scopeSpans: [] };
          out.resourceSpans.push(r);
        }
        let s = r.scopeSpans[r.scopeSpans.length - 1];
        if (s === undefined || s.scope !== ss.scope) {
          s = { ...ss, spans: [] };
          r.scopeSpans.push(s);
        }
        s.spans.push(span);
      }
    }
  }
  return [...byTrace].map(([traceId, r]) => ({ traceId, request: r }));
}

/**
 * The part of the OTLP receivers both transports share: checks an export request, turns OTLP/JSON
 * into protobuf, and publishes the ExportMetricsServiceRequest / ExportTraceServiceRequest bytes
 * onto `otlp_metrics` / `otlp_spans` as the Collector's Kafka exporter would (encoding
 * `otlp_proto`): metrics keyed by service name, spans split per trace and keyed by trace id.
 */
export class OtlpIntake {
  private readonly requests: Counter<'signal' | 'transport' | 'outcome'>;

  constructor(
    private readonly bus: Bus,
    registry: Registry,
  ) {
    this.requests = new Counter({
      name: 'topology_otlp_receiver_requests_total',
      help: 'OTLP export requests received, by signal, transport (http, grpc) and outcome (accepted, invalid, unavailable).',
      labelNames: ['signal', 'transport', 'outcome'],
      registers: [registry],
    });
  }

  async export(signal: OtlpSignal, body: Uint8Array, encoding: OtlpEncoding, transport: 'http' | 'grpc'): Promise<OtlpExportResult> {
    const result = await this.publish(signal, body, encoding);
    this.requests.inc({ signal, transport, outcome: result.outcome });
    return result;
  }

  private async publish(signal: OtlpSignal, body: Uint8Array, encoding: OtlpEncoding): Promise<OtlpExportResult> {
    let messages: OutgoingMessage[];
    const headers = { [Headers.contentType]: ContentTypes.otlpProtobuf };
    try {
      if (signal === 'metrics') {
        const request = encoding === 'json' ? decodeMetricsRequestJson(body) : decodeMetricsRequest(body);
        const value = encoding === 'json' ? encodeMetricsRequest(request) : body;
        messages = [{ key: serviceName(request.resourceMetrics[0]?.resource?.attributes), value, headers }];
      } else {
        const request = encoding === 'json' ? decodeTraceRequestJson(body) : decodeTraceRequest(body);
        messages = splitByTrace(request).map((t) => ({ key: t.traceId, value: encodeTraceRequest(t.request), headers }));
      }
    } catch (e) {
      if (e instanceof OtlpFormatError) return { outcome: 'invalid', message: e.message };
      throw e;
    }
    if (messages.length === 0) return { outcome: 'accepted', messages: 0 };
    try {
      await this.bus.publish(signal === 'metrics' ? Topics.otlpMetrics : Topics.otlpSpans, messages);
    } catch (e) {
      return { outcome: 'unavailable', message: `the bus did not take the export: ${e instanceof Error ? e.message : String(e)}` };
    }
    return { outcome: 'accepted', messages: messages.length };
  }
}
