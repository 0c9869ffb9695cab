import * as fs from 'fs';
import * as readline from 'readline';

export interface ReplayOptions {
  file: string;
  /** Base URL of a running all-in-one, e.g. http://127.0.0.1:4380. */
  url: string;
  format: 'canonical' | 'vpc' | 'hubble' | 'metadata';
  vpcFormat?: string;
  /** Lines per HTTP request. */
  linesPerRequest: number;
  /** Where progress goes; a TTY gets one self-updating line. */
  progress: NodeJS.WriteStream;
}

export interface ReplayResult {
  lines: number;
  bytes: number;
  requests: number;
  seconds: number;
}

const CONTENT_TYPES: Record<ReplayOptions['format'], string> = {
  canonical: 'application/x-flow+jsonl',
  vpc: 'text/x-vpc-flow-log',
  hubble: 'application/x-hubble+jsonl',
  metadata: 'application/x-metadata+jsonl',
};

/** Streams a file of records to a running all-in-one's HTTP intake, showing progress. */
export async function replayFile(o: ReplayOptions): Promise<ReplayResult> {
  const total = fs.statSync(o.file).size;
  const started = Date.now();
  const endpoint = `${o.url.replace(/\/$/, '')}/v1/${o.format === 'metadata' ? 'metadata' : 'flows'}`;
  const headers: Record<string, string> = { 'content-type': CONTENT_TYPES[o.format] };
  if (o.vpcFormat) headers['vpc-format'] = o.vpcFormat;
  let lines = 0;
  let bytes = 0;
  let requests = 0;
  let batch: string[] = [];
  let lastDraw = 0;

  const draw = (final: boolean) => {
    const now = Date.now();
    if (!final && now - lastDraw < 200) return;
    lastDraw = now;
    const seconds = Math.max((now - started) / 1000, 0.001);
    const share = total > 0 ? bytes / total : 1;
    const rate = lines / seconds;
    const eta = share > 0 ? (seconds / share) * (1 - share) : 0;
    const text = `${(share * 100).toFixed(1).padStart(5)}%  ${lines.toLocaleString('en')} lines  ${Math.round(rate).toLocaleString('en')} lines/s  ${(bytes / 1e6).toFixed(1)} MB  eta ${eta.toFixed(0)} s`;
    if (o.progress.isTTY) o.progress.write(`\r${text}\x1b[K${final ? '\n' : ''}`);
    else if (final || requests % 20 === 0) o.progress.write(`${text}\n`);
  };

  const send = async () => {
    if (batch.length === 0) return;
    const body = batch.join('\n') + '\n';
    batch = [];
    const response = await fetch(endpoint, { method: 'POST', headers, body });
    if (!response.ok) throw new Error(`${endpoint} answered ${response.status}: ${await response.text()}`);
    requests++;
    draw(false);
  };

  const input = readline.createInterface({ input: fs.createReadStream(o.file), crlfDelay: Infinity });
  for await (const line of input) {
    bytes += Buffer.byteLength(line) + 1;
    if (line.trim() === '') continue;
    batch.push(line);
    lines++;
    if (batch.length >= o.linesPerRequest) await send();
  }
  await send();
  draw(true);
  return { lines, bytes, requests, seconds: (Date.now() - started) / 1000 };
}
