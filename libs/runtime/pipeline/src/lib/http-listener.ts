import * as http from 'http';
import type { AddressInfo } from 'net';

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
