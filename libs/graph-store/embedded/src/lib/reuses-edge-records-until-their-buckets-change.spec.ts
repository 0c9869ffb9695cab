import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { EdgeRecord, networkBucketMerger, TraversalResult } from '@topology/model';
import { app, NetworkFixture } from '@topology/graph-store-contract';
import { EmbeddedGraphStore } from './embedded-graph-store';

const BUCKET_MS = 10_000;

function edgeFrom(result: TraversalResult, src: string, dst: string): EdgeRecord {
  const edge = result.edges.find((e) => e.src === src && e.dst === dst);
  if (edge === undefined) throw new Error(`no edge ${src} -> ${dst} in the answer`);
  return edge;
}

describe('edge records of a reader', () => {
  it('are built once per fold, frozen, and rebuilt only for the edges whose buckets another connection changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'graph-store-records-'));
    const writer = await EmbeddedGraphStore.open({ dir, layer: 'network', bucketMs: BUCKET_MS }, networkBucketMerger);
    const reader = await EmbeddedGraphStore.open({ dir, layer: 'network', bucketMs: BUCKET_MS, readonly: true }, networkBucketMerger);
    const f = new NetworkFixture(writer);
    try {
      await writer.putEdgeBuckets([f.bucket(app('a'), app('b'), 3, 100), f.bucket(app('b'), app('c'), 3, 10)]);
      const query = f.query([app('a')], { depth: 2, range: f.range(0, 8) });
      const first = await reader.traverse(query);
      const again = await reader.traverse(query);
      expect(edgeFrom(again, app('a'), app('b'))).toBe(edgeFrom(first, app('a'), app('b')));
      expect(Object.isFrozen(edgeFrom(first, app('a'), app('b')))).toBe(true);
      expect(Object.isFrozen(edgeFrom(first, app('a'), app('b')).layers)).toBe(true);

      await writer.putEdgeBuckets([f.bucket(app('a'), app('b'), 4, 50)]);
      const after = await reader.traverse(query);
      expect(edgeFrom(after, app('a'), app('b'))).not.toBe(edgeFrom(first, app('a'), app('b')));
      expect(edgeFrom(after, app('a'), app('b')).props.network?.bytesSent).toBe(150);
      expect(edgeFrom(after, app('b'), app('c'))).toBe(edgeFrom(first, app('b'), app('c')));
      // Another range folds anew, and so gets its own record.
      const wider = await reader.traverse({ ...query, range: f.range(0, 16) });
      expect(edgeFrom(wider, app('a'), app('b')).props.network?.bytesSent).toBe(150);
    } finally {
      await reader.close();
      await writer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
