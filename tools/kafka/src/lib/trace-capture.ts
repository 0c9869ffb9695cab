import * as http from 'http';
import type { AddressInfo } from 'net';
import otlpRoot = require('otlp-proto-definitions/build/src/generated/root');

// The parts of the generated OTLP messages read here; the package types its root as a bare protobufjs Root.
interface PbValue {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: number | { low: number } | null;
  doubleValue?: number | null;
}
interface PbKeyValue {
  key: string;
  value?: PbValue | null;
}
interface PbExportTraceServiceRequest {
  resourceSpans: { resource?: { attributes: PbKeyValue[] } | null; scopeSpans: { spans: { name?: string | null; attributes: PbKeyValue[] }[] }[] }[];
}
interface OtlpMessages {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: { decode(bytes: Uint8Array): PbExportTraceServiceRequest } } } } } };
}
const ExportTraceServiceRequest = (otlpRoot as unknown as OtlpMessages).opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

export interface CapturedSpan {
  service: string;
  name: string;
  attributes: Record<string, unknown>;
}

/** An OTLP/HTTP traces endpoint that keeps the spans exporters send it (protobuf ExportTraceServiceRequest). */
export class TraceCapture {
  readonly spans: CapturedSpan[] = [];
  private constructor(
    private readonly server: http.Server,
    readonly endpoint: string,
  ) {}

  static async start(): Promise<TraceCapture> {
    const holder: { capture?: TraceCapture } = {};
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces') holder.capture?.take(Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const capture = new TraceCapture(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    holder.capture = capture;
    return capture;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private take(body: Buffer): void {
    const request = ExportTraceServiceRequest.decode(body);
    for (const resourceSpans of request.resourceSpans ?? []) {
      const service = String(resourceSpans.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue ?? '');
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          const attributes: Record<string, unknown> = {};
          for (const a of span.attributes ?? []) attributes[String(a.key)] = a.value?.stringValue ?? a.value?.intValue ?? a.value?.boolValue ?? a.value?.doubleValue;
          this.spans.push({ service, name: String(span.name ?? ''), attributes });
        }
      }
    }
  }
}
