import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

export type AppName = 'flow-ingestor' | 'intermediary-resolver' | 'enricher' | 'query-gateway' | 'trace-aggregator' | 'ipc-ingestor';

/** One sample of a Prometheus text exposition. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A free TCP port on the loopback interface (the OS picks it; it is free when this resolves). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ host: '127.0.0.1', port: 0 }, () => {
      const bound = probe.address();
      probe.close(() => (bound !== null && typeof bound === 'object' ? resolve(bound.port) : reject(new Error('no free port'))));
    });
  });
}

/**
 * A built app running as a child process (`node <dist>/apps/<app>/src/main.js`), configured by
 * environment variables, with its output in a log file. It can be killed with SIGKILL (a crash)
 * and started again with the same settings and ports.
 */
export class AppProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private starts = 0;

  constructor(
    readonly label: string,
    readonly app: AppName,
    private readonly dist: string,
    readonly env: Record<string, string>,
    readonly httpPort: number,
    private readonly logDir: string,
  ) {}

  get logFile(): string {
    return path.join(this.logDir, `${this.label}.log`);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) throw new Error(`${this.label} is already running`);
    fs.mkdirSync(this.logDir, { recursive: true });
    const log = fs.openSync(this.logFile, 'a');
    fs.writeSync(log, `\n--- start ${++this.starts} at ${new Date().toISOString()}\n`);
    const child = spawn(process.execPath, [path.join(this.dist, 'apps', this.app, 'src', 'main.js')], {
      env: { ...process.env, ...this.env, TOPOLOGY_HTTP_ADDRESS: `127.0.0.1:${this.httpPort}` },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Resolves once `/readyz` answers 200; rejects when the process exits first or after `timeoutMs`. */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.label} exited before it was ready:\n${this.logTail()}`);
      try {
        const res = await fetch(`http://127.0.0.1:${this.httpPort}/readyz`);
        if (res.status === 200) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${this.label} not ready within ${timeoutMs} ms:\n${this.logTail()}`);
  }

  async get(pathname: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${this.httpPort}${pathname}`);
    return { status: res.status, body: await res.text() };
  }

  async metrics(): Promise<MetricSample[]> {
    const { body } = await this.get('/metrics');
    return parsePrometheusText(body);
  }

  /** A crash: SIGKILL, no draining, no commit. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM; resolves with the exit code (SIGKILL after `timeoutMs`). */
  async stop(timeoutMs = 60_000): Promise<number | null> {
    const child = this.child;
    if (child === undefined) return null;
    if (!this.running) return this.exited ?? null;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    try {
      return (await this.exited) ?? null;
    } finally {
      clearTimeout(timer);
    }
  }

  logTail(lines = 40): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheusText(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1');
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}
