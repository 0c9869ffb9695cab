import * as http from 'http';
import type { AddressInfo } from 'net';
import { promisify } from 'util';
import * as zlib from 'zlib';

const DECOMPRESS = { gzip: promisify(zlib.gunzip), deflate: promisify(zlib.inflate) } as const;

/** A compression a receiver accepts in `content-encoding`. */
export type ContentCoding = keyof typeof DECOMPRESS;

/** A request that cannot be taken, with the HTTP status that says why. */
export class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A request's body, decompressed: 413 beyond `maxBytes` (before and after decompression), 415 for
 * a content coding not in `codings`, 400 for a body that is not what its coding says.
 */
export async function readRequestBody(req: http.IncomingMessage, maxBytes: number, codings: readonly ContentCoding[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new HttpFailure(413, `body larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const coding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (coding === 'identity' || coding === '') return body;
  const accepted = codings.find((c) => c === coding);
  if (accepted === undefined) throw new HttpFailure(415, `content-encoding ${coding} is not supported: use gzip or none`);
  try {
    return await DECOMPRESS[accepted](body, { maxOutputLength: maxBytes });
  } catch (e) {
    throw new HttpFailure(400, `body is not valid ${accepted}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A plain HTTP server on `host:port` (port 0 picks one), with the address it actually bound. */
export class HttpListener {
  private constructor(
    private readonly server: http.Server,
    readonly address: string,
  ) {}

  /**
   * Starts a server whose handler is async; a handler that throws is logged as `label` and answered
   * 500 if nothing was sent yet.
   */
  static async start(
    address: string,
    label: string,
    handle: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>,
    log?: (message: string) => void,
  ): Promise<HttpListener> {
    const server = http.createServer((req, res) => {
      handle(req, res).catch((e: unknown) => {
        log?.(`${label}: ${e instanceof Error ? e.message : String(e)}`);
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    const colon = address.lastIndexOf(':');
    const host = address.slice(0, colon) || '0.0.0.0';
    const port = Number(address.slice(colon + 1));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new HttpListener(server, `${host}:${(server.address() as AddressInfo).port}`);
  }

  get port(): number {
    return Number(this.address.slice(this.address.lastIndexOf(':') + 1));
  }

  /** Stops accepting, drops idle and open connections, and resolves once the server is closed. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
