import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ChdbExecutor } from './chdb-executor';
import { ClickHouseRequestStore } from './clickhouse-request-store';
import { describeRequestStore } from './testing/request-store-scenarios';

jest.setTimeout(60_000);

// One data directory for the file: chdb holds one per process at a time, and a restart reopens it.
const dir = mkdtempSync(join(tmpdir(), 'request-store-'));

describe('a reader of a request store no writer created yet', () => {
  it('is refused as unavailable, and creates no table', async () => {
    const executor = new ChdbExecutor(mkdtempSync(join(tmpdir(), 'request-store-empty-')));
    try {
      await expect(ClickHouseRequestStore.open(executor, {}, { readOnly: true })).rejects.toMatchObject({ name: 'StoreError', code: 'unavailable' });
      expect(await executor.rows("SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE 'request_%'")).toEqual([]);
    } finally {
      await executor.close();
    }
  });
});

describeRequestStore('chdb (in process), with its data directory reopened for a restart', async () => new ChdbExecutor(dir));
