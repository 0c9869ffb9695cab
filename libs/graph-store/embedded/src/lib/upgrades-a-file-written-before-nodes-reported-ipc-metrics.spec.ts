import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { networkBucketMerger, StoreError } from '@topology/model';
import { app, NetworkFixture } from '@topology/graph-store-contract';
import { EmbeddedGraphStore, EmbeddedGraphStoreConfig } from './embedded-graph-store';

describe('a store file written before nodes kept whether an app reports IPC metrics', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'graph-store-upgrade-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A file as the earlier version left it: the same tables without the column, holding one node. */
  async function earlierFile(): Promise<void> {
    const store = await EmbeddedGraphStore.open({ dir, layer: 'network', bucketMs: 60_000 }, networkBucketMerger);
    const f = new NetworkFixture(store);
    await store.upsertNodes([f.node(app('web'), { owner: 'team-web' })]);
    await store.close();
    const db = new Database(join(dir, 'network.sqlite'));
    db.exec('ALTER TABLE nodes DROP COLUMN reports_ipc_metrics');
    db.close();
  }

  const config = (readonly: boolean): EmbeddedGraphStoreConfig => ({ dir, layer: 'network', bucketMs: 60_000, readonly });
  const open = (readonly: boolean) => EmbeddedGraphStore.open(config(readonly), networkBucketMerger);

  it('is refused to a reader as not ready until its writer opened it, then read by both with the fact', async () => {
    await earlierFile();
    const refused = await open(true).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StoreError);
    expect(refused).toMatchObject({ code: 'unavailable' });

    const writer = await open(false);
    const reader = await open(true);
    try {
      const f = new NetworkFixture(writer);
      expect(await writer.getNodes([app('web')])).toEqual([expect.objectContaining({ owner: 'team-web' })]);
      expect((await writer.getNodes([app('web')]))[0]?.reportsIpcMetrics).toBeUndefined();
      await writer.upsertNodes([f.node(app('web'), { reportsIpcMetrics: true })]);
      expect(await reader.getNodes([app('web')])).toEqual([expect.objectContaining({ owner: 'team-web', reportsIpcMetrics: true })]);
    } finally {
      await reader.close();
      await writer.close();
    }
  });
});
