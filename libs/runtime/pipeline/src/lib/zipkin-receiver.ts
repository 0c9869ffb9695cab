import * as http from 'http';
import type { Bus, OutgoingMessage } from '@topology/bus';
import { ContentTypes, Headers, Topics } from '@topology/contracts';
import { HttpFailure, HttpListener, readRequestBody } from './http-listener';

/** Largest accepted body, before and after decompression. */
export const ZIPKIN_MAX_BODY_BYTES = 20 * 1024 * 1024;

export const ZIPKIN_SPANS_PATH = '/api/v2/spans';

export interface ZipkinReceiverOptions {
  bus: Bus;
  /** `host:port`; port 0 picks a free one. */
  address: string;
  maxBodyBytes?: number;
  log?: (message: string) => void;
}

/**
 * The Zipkin v2 span endpoint (`POST /api/v2/spans`, JSON, optionally gzip), as a Zipkin server
 * offers it on port 9411, so Zipkin-instrumented apps and Zipkin exporters can report here. A body
 * that is a JSON list is accepted with 202 and published to `spans.zipkin.v1`, one message per
 * trace keyed by its trace id (so one aggregator sees all of a trace's spans); anything else is
 * 400 with the reason. Spans are checked one by one later, by the trace-aggregator, which
 * dead-letters those it cannot use. 503 when the bus cannot take the spans.
 */
export class ZipkinReceiver {
  private constructor(private readonly listener: HttpListener) {}

  static async start(options: ZipkinReceiverOptions): Promise<ZipkinReceiver> {
    const maxBytes = options.maxBodyBytes ?? ZIPKIN_MAX_BODY_BYTES;
    return new ZipkinReceiver(await HttpListener.start(options.address, 'zipkin receiver', (req, res) => handle(options.bus, maxBytes, req, res), options.log));
  }

  get address(): string {
    return this.listener.address;
  }

  get port(): number {
    return this.listener.port;
  }

  close(): Promise<void> {
    return this.listener.close();
  }
}

function reply(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' }).end(text === '' ? '' : `${text}\n`);
}

async function handle(bus: Bus, maxBytes: number, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const path = (req.url ?? '').split('?')[0] ?? '';
  if (path !== ZIPKIN_SPANS_PATH) {
    req.resume();
    reply(res, 404, `no Zipkin endpoint at ${path}: POST spans to ${ZIPKIN_SPANS_PATH}`);
    return;
  }
  if (req.method !== 'POST') {
    req.resume();
    res.setHeader('allow', 'POST');
    reply(res, 405, 'spans are POSTed');
    return;
  }
  const contentType = String(req.headers['content-type'] ?? 'application/json').split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/json') {
    req.resume();
    reply(res, 415, 'content-type must be application/json (Zipkin v2 JSON)');
    return;
  }
  let spans: unknown;
  try {
    const body = await readRequestBody(req, maxBytes, ['gzip']);
    spans = JSON.parse(body.toString('utf8'));
  } catch (e) {
    const failure = e instanceof HttpFailure ? e : new HttpFailure(400, `body is not JSON: ${e instanceof Error ? e.message : String(e)}`);
    reply(res, failure.status, failure.message);
    return;
  }
  if (!Array.isArray(spans)) {
    reply(res, 400, 'Zipkin v2 JSON is a list of spans');
    return;
  }
  try {
    await bus.publish(Topics.spansZipkin, byTrace(spans));
  } catch (e) {
    res.setHeader('retry-after', '5');
    reply(res, 503, `spans could not be queued: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  reply(res, 202, '');
}

/** One message per trace id, in first-seen order; spans without a usable trace id travel together, unkeyed. */
function byTrace(spans: unknown[]): OutgoingMessage[] {
  const traces = new Map<string, unknown[]>();
  const unkeyed: unknown[] = [];
  for (const span of spans) {
    const traceId = typeof span === 'object' && span !== null && 'traceId' in span ? (span as { traceId: unknown }).traceId : undefined;
    if (typeof traceId !== 'string' || traceId === '') {
      unkeyed.push(span);
      continue;
    }
    const key = traceId.toLowerCase();
    const list = traces.get(key);
    if (list === undefined) traces.set(key, [span]);
    else list.push(span);
  }
  const headers = { [Headers.contentType]: ContentTypes.zipkinJson };
  const messages: OutgoingMessage[] = [];
  for (const [key, list] of traces) messages.push({ key, value: Buffer.from(JSON.stringify(list)), headers });
  if (unkeyed.length > 0) messages.push({ key: null, value: Buffer.from(JSON.stringify(unkeyed)), headers });
  return messages;
}
