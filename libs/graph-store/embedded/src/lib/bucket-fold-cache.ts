import { BucketMerger } from '@topology/model';
import { combineFolds, FoldedEdge } from '@topology/graph-store-contract';

/** A stored bucket by its index on the bucket grid (`bucketStartMs / bucketMs`). */
export interface IndexedBucket<P> extends FoldedEdge<P> {
  index: number;
}

/** Loads an edge's buckets with index in `[fromIndex, toIndex)`, in index order. */
export type BucketLoader<P> = (edgeId: number, fromIndex: number, toIndex: number) => IndexedBucket<P>[];

/** Blocks below this level (fewer than 4 buckets) are folded from rows each time, to bound memory. */
const MIN_CACHED_LEVEL = 2;

interface LastFold<P> {
  fromIndex: number;
  toIndex: number;
  folded: FoldedEdge<P> | null;
  /**
   * Fold of every piece of the range but the last, and where that last piece starts: a write to
   * the newest buckets (the usual case) keeps it, so the refold is one piece and one merge.
   */
  head: FoldedEdge<P> | null;
  tailStart: number;
}

interface EdgeFolds<P> {
  /** Block `(level, j)` covers bucket indexes `[j·2^level, (j+1)·2^level)`; `null` when it holds no bucket. */
  blocks: Map<number, FoldedEdge<P> | null>;
  maxLevel: number;
  last?: LastFold<P>;
  /** Set when a write invalidated `last` only in its tail piece. */
  head?: { fromIndex: number; toIndex: number; folded: FoldedEdge<P> | null };
}

const blockKey = (level: number, j: number): number => j * 64 + level;

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}

/**
 * Folds of bucket payloads over ranges, per edge, kept as an aligned power-of-two block tree
 * (levels ≥ 2) so that a range costs O(log n) merges once warm, a range that slides by one bucket
 * reuses almost every block, and a rewritten bucket invalidates only the blocks that contain it.
 * The last range folded per edge is kept whole, so a repeated query costs one map lookup.
 *
 * Cached payloads are frozen: callers receive them inside query results and must not mutate them.
 */
export class BucketFoldCache<P> {
  private readonly edges = new Map<number, EdgeFolds<P>>();
  private blockCount = 0;
  hits = 0;
  misses = 0;
  resets = 0;

  constructor(
    private readonly merger: BucketMerger<P>,
    private readonly maxBlocks: number,
  ) {}

  /** Fold of the edge's buckets with index in `[fromIndex, toIndex)`, or `undefined` when there are none. */
  fold(edgeId: number, fromIndex: number, toIndex: number, load: BucketLoader<P>): FoldedEdge<P> | undefined {
    let folds = this.edges.get(edgeId);
    if (folds === undefined) {
      folds = { blocks: new Map(), maxLevel: 0 };
      this.edges.set(edgeId, folds);
    }
    const last = folds.last;
    if (last !== undefined && last.fromIndex === fromIndex && last.toIndex === toIndex) {
      this.hits++;
      return last.folded ?? undefined;
    }
    this.misses++;
    const pieces = decompose(fromIndex, toIndex);
    const tail = pieces[pieces.length - 1];
    const head = folds.head !== undefined && folds.head.fromIndex === fromIndex && folds.head.toIndex === toIndex ? folds.head.folded : undefined;
    folds.head = undefined;
    let rows: Map<number, IndexedBucket<P>> | undefined;
    const rowsFor = (): Map<number, IndexedBucket<P>> => {
      if (rows === undefined) rows = this.loadMissing(edgeId, folds as EdgeFolds<P>, head === undefined ? pieces : pieces.slice(-1), load);
      return rows;
    };
    let headFold: FoldedEdge<P> | null = null;
    if (head !== undefined) {
      headFold = head;
    } else {
      for (let i = 0; i < pieces.length - 1; i++) {
        const [level, j] = pieces[i] as [number, number];
        headFold = this.append(headFold, this.block(folds, level, j, rowsFor));
      }
    }
    const folded = tail === undefined ? headFold : this.append(headFold, this.block(folds, tail[0], tail[1], rowsFor));
    if (folded !== null) deepFreeze(folded.props);
    if (headFold !== null) deepFreeze(headFold.props);
    folds.last = { fromIndex, toIndex, folded, head: headFold, tailStart: tail === undefined ? toIndex : tail[1] * 2 ** tail[0] };
    if (this.blockCount > this.maxBlocks) this.reset();
    return folded ?? undefined;
  }

  /** A bucket of the edge was written or replaced. */
  invalidate(edgeId: number, index: number): void {
    const folds = this.edges.get(edgeId);
    if (folds === undefined) return;
    const last = folds.last;
    if (last !== undefined) {
      if (index >= last.tailStart && index < last.toIndex) {
        // Only the last piece changed (the usual write to the newest bucket): the head still holds.
        folds.head = { fromIndex: last.fromIndex, toIndex: last.toIndex, folded: last.head };
        folds.last = undefined;
      } else if (index >= last.fromIndex && index < last.tailStart) {
        folds.head = undefined;
        folds.last = undefined;
      }
    } else if (folds.head !== undefined && index >= folds.head.fromIndex && index < folds.head.toIndex) {
      const pieces = decompose(folds.head.fromIndex, folds.head.toIndex);
      const tail = pieces[pieces.length - 1];
      if (tail === undefined || index < tail[1] * 2 ** tail[0]) folds.head = undefined;
    }
    for (let level = MIN_CACHED_LEVEL; level <= folds.maxLevel; level++) {
      if (folds.blocks.delete(blockKey(level, Math.floor(index / 2 ** level)))) this.blockCount--;
    }
  }

  reset(): void {
    this.edges.clear();
    this.blockCount = 0;
    this.resets++;
  }

  private append(a: FoldedEdge<P> | null, b: FoldedEdge<P> | null): FoldedEdge<P> | null {
    return a === null ? b : b === null ? a : combineFolds(this.merger, a, b);
  }

  /** One query for the span of every uncached block (down to the smallest cached level) the pieces need. */
  private loadMissing(edgeId: number, folds: EdgeFolds<P>, pieces: [number, number][], load: BucketLoader<P>): Map<number, IndexedBucket<P>> {
    const span = { from: Infinity, to: -Infinity };
    for (const [level, j] of pieces) this.collectMissing(folds, level, j, span);
    const rows = new Map<number, IndexedBucket<P>>();
    if (span.from < span.to) for (const row of load(edgeId, span.from, span.to)) rows.set(row.index, row);
    return rows;
  }

  private collectMissing(folds: EdgeFolds<P>, level: number, j: number, span: { from: number; to: number }): void {
    if (level >= MIN_CACHED_LEVEL && folds.blocks.has(blockKey(level, j))) return;
    if (level <= MIN_CACHED_LEVEL) {
      span.from = Math.min(span.from, j * 2 ** level);
      span.to = Math.max(span.to, (j + 1) * 2 ** level);
      return;
    }
    this.collectMissing(folds, level - 1, 2 * j, span);
    this.collectMissing(folds, level - 1, 2 * j + 1, span);
  }

  private block(folds: EdgeFolds<P>, level: number, j: number, rowsFor: () => Map<number, IndexedBucket<P>>): FoldedEdge<P> | null {
    if (level < MIN_CACHED_LEVEL) {
      const rows = rowsFor();
      let folded: FoldedEdge<P> | null = null;
      for (let index = j * 2 ** level; index < (j + 1) * 2 ** level; index++) {
        const row = rows.get(index);
        if (row !== undefined) folded = folded === null ? row : combineFolds(this.merger, folded, row);
      }
      return folded;
    }
    const key = blockKey(level, j);
    const cached = folds.blocks.get(key);
    if (cached !== undefined) return cached;
    const left = this.block(folds, level - 1, 2 * j, rowsFor);
    const right = this.block(folds, level - 1, 2 * j + 1, rowsFor);
    const folded = left === null ? right : right === null ? left : combineFolds(this.merger, left, right);
    if (folded !== null) deepFreeze(folded.props);
    folds.blocks.set(key, folded);
    folds.maxLevel = Math.max(folds.maxLevel, level);
    this.blockCount++;
    return folded;
  }
}

/** Splits `[from, to)` into maximal aligned blocks `(level, j)`, left to right. */
export function decompose(from: number, to: number): [number, number][] {
  const pieces: [number, number][] = [];
  let at = from;
  while (at < to) {
    let level = 0;
    while (at % 2 ** (level + 1) === 0 && at + 2 ** (level + 1) <= to) level++;
    pieces.push([level, at / 2 ** level]);
    at += 2 ** level;
  }
  return pieces;
}
