import { fork } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { networkBucketMerger } from '@topology/model';
import { app, NetworkFixture } from '@topology/graph-store-contract';
import { EmbeddedGraphStore } from './embedded-graph-store';

const BUCKET_MS = 60_000;

interface ReaderMessage {
  type: 'seen' | 'report' | 'error';
  marker?: number;
  reads?: number;
  torn?: number;
  backwards?: number;
  distinct?: number;
  last?: number;
  message?: string;
}

describe('a reader in another process', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'graph-store-processes-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads while this process writes, and sees every commit whole, never going back', async () => {
    const writer = await EmbeddedGraphStore.open({ dir, layer: 'network', bucketMs: BUCKET_MS }, networkBucketMerger);
    const f = new NetworkFixture(writer);
    const writeMarker = (marker: number) =>
      writer.putEdgeBuckets([f.bucket(app('a'), app('b'), 0, marker), f.bucket(app('c'), app('d'), 0, marker)]);
    await writeMarker(0);

    const range = f.range(0, 1);
    const child = fork(join(__dirname, 'testdata', 'reader-process.js'), [dir, String(BUCKET_MS), String(range.fromMs), String(range.toMs)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const messages: ReaderMessage[] = [];
    const waiters: ((m: ReaderMessage) => void)[] = [];
    child.on('message', (m: ReaderMessage) => {
      const waiter = waiters.shift();
      if (waiter) waiter(m);
      else messages.push(m);
    });
    const next = () => new Promise<ReaderMessage>((resolve) => (messages.length > 0 ? resolve(messages.shift() as ReaderMessage) : waiters.push(resolve)));

    try {
      for (let marker = 1; marker <= 300; marker++) {
        await writeMarker(marker);
        if (marker % 100 === 0) {
          child.send({ type: 'await', marker });
          expect(await next()).toEqual({ type: 'seen', marker: expect.any(Number) });
        }
      }
      child.send({ type: 'finish', marker: 300 });
      const report = await next();
      expect(report.type).toBe('report');
      expect(report).toMatchObject({ torn: 0, backwards: 0, last: 300 });
      expect(report.distinct).toBeGreaterThan(3);
    } finally {
      child.kill();
      await writer.close();
    }
  }, 60_000);
});
