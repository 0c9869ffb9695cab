import * as http from 'http';
import * as protobuf from 'protobufjs';
import { exportResponse, type OtlpSignal } from '@topology/ipc-ingest';
import type { OtlpEncoding, OtlpIntake } from './otlp-receiver';
import { HttpFailure, HttpListener, readRequestBody } from './http-listener';

/** Largest accepted request body, before and after decompression (the Collector's default is 20 MiB of decompressed data). */
export const OTLP_MAX_BODY_BYTES = 20 * 1024 * 1024;

const PATHS: Readonly<Record<string, OtlpSignal>> = { '/v1/metrics': 'metrics', '/v1/traces': 'traces' };

/** gRPC codes carried in a google.rpc.Status body. */
const INVALID_ARGUMENT = 3;
const UNAVAILABLE = 14;

/** google.rpc.Status, the body of every OTLP/HTTP failure response (details are never sent). */
const RpcStatus = new protobuf.Type('Status').add(new protobuf.Field('code', 1, 'int32')).add(new protobuf.Field('message', 2, 'string'));

function encodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const ct = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (ct === 'application/x-protobuf' || ct === 'application/protobuf') return 'protobuf';
  if (ct === 'application/json') return 'json';
  return undefined;
}

export interface OtlpHttpReceiverOptions {
  intake: OtlpIntake;
  /** `host:port`; port 0 picks a free one. */
  address: string;
  maxBodyBytes?: number;
  log?: (message: string) => void;
}

/**
 * OTLP/HTTP receiver (`POST /v1/metrics`, `POST /v1/traces`), per the OTLP specification: binary
 * protobuf (`application/x-protobuf`) or JSON (`application/json`) bodies, optionally gzip
 * compressed. A full success is 200 with an empty Export*ServiceResponse in the request's
 * encoding; a request that cannot be read is 400 with a google.rpc.Status body (not to be
 * retried); when the bus cannot take it, 503 with `Retry-After`, which exporters retry. Other
 * paths are 404, other methods 405, other content types or encodings 415, large bodies 413.
 */
export class OtlpHttpReceiver {
  private constructor(private readonly listener: HttpListener) {}

  static async start(options: OtlpHttpReceiverOptions): Promise<OtlpHttpReceiver> {
    const maxBytes = options.maxBodyBytes ?? OTLP_MAX_BODY_BYTES;
    return new OtlpHttpReceiver(await HttpListener.start(options.address, 'otlp http receiver', (req, res) => handle(options.intake, maxBytes, req, res), options.log));
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

function send(res: http.ServerResponse, status: number, encoding: OtlpEncoding, body: Uint8Array, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': encoding === 'json' ? 'application/json' : 'application/x-protobuf', 'content-length': String(body.length), ...extra });
  res.end(body);
}

function status(encoding: OtlpEncoding, code: number, message: string): Uint8Array {
  if (encoding === 'json') return Buffer.from(JSON.stringify({ code, message }));
  return RpcStatus.encode(RpcStatus.fromObject({ code, message })).finish();
}

async function handle(intake: OtlpIntake, maxBytes: number, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const path = (req.url ?? '').split('?')[0] ?? '';
  const signal = PATHS[path];
  const encoding = encodingOf(req.headers['content-type']);
  if (signal === undefined) {
    req.resume();
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`no OTLP endpoint at ${path}: use /v1/metrics or /v1/traces\n`);
    return;
  }
  if (req.method !== 'POST') {
    req.resume();
    res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('OTLP exports are POSTed\n');
    return;
  }
  if (encoding === undefined) {
    req.resume();
    res.writeHead(415, { 'content-type': 'text/plain' }).end('content-type must be application/x-protobuf or application/json\n');
    return;
  }
  let body: Buffer;
  try {
    body = await readRequestBody(req, maxBytes, ['gzip', 'deflate']);
  } catch (e) {
    if (!(e instanceof HttpFailure)) throw e;
    send(res, e.status, encoding, status(encoding, INVALID_ARGUMENT, e.message), e.status === 413 ? { connection: 'close' } : {});
    return;
  }
  const result = await intake.export(signal, body, encoding, 'http');
  switch (result.outcome) {
    case 'accepted':
      send(res, 200, encoding, exportResponse(signal, encoding));
      return;
    case 'invalid':
      send(res, 400, encoding, status(encoding, INVALID_ARGUMENT, result.message));
      return;
    case 'unavailable':
      send(res, 503, encoding, status(encoding, UNAVAILABLE, result.message), { 'retry-after': '5' });
      return;
  }
}
