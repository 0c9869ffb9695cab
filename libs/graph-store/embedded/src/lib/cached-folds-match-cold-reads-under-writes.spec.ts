import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { networkBucketMerger, TraversalResult } from '@topology/model';
import { app, NetworkFixture } from '@topology/graph-store-contract';
import { decompose } from './bucket-fold-cache';
import { EmbeddedGraphStore } from './embedded-graph-store';

const BUCKET_MS = 10_000;

/** Deterministic pseudo-random numbers (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Traversals promise no edge order; compare them with edges in key order. */
function edgesByKey(result: TraversalResult): TraversalResult {
  return { ...result, edges: [...result.edges].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) };
}

describe('cached bucket folds', () => {
  it('split a range into maximal aligned blocks that cover it exactly', () => {
    expect(decompose(3, 17)).toEqual([[0, 3], [2, 1], [3, 1], [0, 16]]);
    expect(decompose(8, 8)).toEqual([]);
  });

  it.each(['memory', 'sql'] as const)('give the same answers as a cold reader while a writer replaces, adds, withdraws and expires buckets (%s graph index)', async (graphIndex) => {
    const dir = mkdtempSync(join(tmpdir(), 'graph-store-folds-'));
    const open = (readonly: boolean) => EmbeddedGraphStore.open({ dir, layer: 'network', bucketMs: BUCKET_MS, readonly, graphIndex }, networkBucketMerger);
    const writer = await open(false);
    const cached = await open(true);
    const f = new NetworkFixture(writer);
    const next = random(7);
    const pick = (n: number) => Math.floor(next() * n);
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    let deletedBefore = 0;
    try {
      for (let step = 0; step < 500; step++) {
        const action = next();
        if (action < 0.6) {
          const batch = Array.from({ length: 1 + pick(4) }, () =>
            // Half the writes go to the newest buckets, as live flushes do.
            f.bucket(app(names[pick(6)] as string), app(names[pick(6)] as string), deletedBefore + (next() < 0.5 ? 36 + pick(4) : pick(40)), 1 + pick(1000), {
              hop: next() < 0.2,
            }),
          );
          await writer.putEdgeBuckets(batch);
          if (next() < 0.3) await writer.upsertNodes([f.node(app(names[pick(6)] as string), { owner: `team-${pick(3)}`, lastSeenMs: f.at(deletedBefore + pick(40)) })]);
        } else if (action < 0.7) {
          const refs = Array.from({ length: 1 + pick(4) }, () => ({
            src: app(names[pick(6)] as string),
            dst: app(names[pick(6)] as string),
            granularity: 'app' as const,
            bucketStartMs: f.at(deletedBefore + pick(40)),
          }));
          await writer.deleteEdgeBuckets(refs);
        } else if (action < 0.73) {
          deletedBefore += pick(3);
          await writer.deleteBefore(f.at(deletedBefore));
        } else {
          // Half the reads are the same live range, so cached folds are revised rather than rebuilt.
          const live = next() < 0.5;
          const from = live ? deletedBefore : pick(45);
          const range = live ? f.range(from, from + 40) : f.range(from, from + 1 + pick(45));
          const root = app(names[pick(6)] as string);
          const query = f.query([root], { direction: 'both', depth: 2, range, includeHops: next() < 0.5, filters: next() < 0.3 ? { owners: ['team-1'] } : undefined });
          const cold = await open(true);
          try {
            expect(edgesByKey(await cached.traverse(query))).toEqual(edgesByKey(await cold.traverse(query)));
            expect(await cached.listEdges({ granularity: 'app', range })).toEqual(await cold.listEdges({ granularity: 'app', range }));
            const ids = names.map((name) => app(name));
            expect(await cached.getNodes(ids)).toEqual(await cold.getNodes(ids));
          } finally {
            await cold.close();
          }
        }
      }
      expect(cached.counters.get('fold_cache_hits')).toBeGreaterThan(0);
    } finally {
      await cached.close();
      await writer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
