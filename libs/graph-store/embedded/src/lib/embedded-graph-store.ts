import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync } from 'fs';
import { join } from 'path';
import {
  BucketMerger,
  CounterSet,
  EdgeBucket,
  EdgeHistoryPoint,
  EdgeKey,
  EdgeListQuery,
  EdgeRecord,
  Granularity,
  GraphLayerStore,
  Layer,
  NodeId,
  NodeRecord,
  NodeUpsert,
  parseEdgeKey,
  parseNodeId,
  StoreError,
  TimeRange,
  TraversalQuery,
  TraversalResult,
} from '@topology/model';
import {
  breadthFirst,
  bucketWindow,
  DeletesEdgeBuckets,
  edgeBucketViolation,
  EdgeBucketRef,
  EdgeSide,
  endpointNode,
  FoldedEdge,
  granularityOfKind,
  isVisible,
  layerEdgeRecord,
  nodeUpsertViolation,
  TraversalGraph,
} from '@topology/graph-store-contract';
import { BucketFoldCache, IndexedBucket } from './bucket-fold-cache';
import { EdgeBounds, EdgeWindow, GraphIndex } from './graph-index';

export interface EmbeddedGraphStoreConfig {
  /** Directory of the store files; the layer lives in `<dir>/<layer>.sqlite`. Created by the writer. */
  dir: string;
  layer: Layer;
  /** Width of history buckets in milliseconds. Fixed when the file is created; opening with another width fails. */
  bucketMs: number;
  /** Open for reading only (any number of reader processes next to the one writer). Default false. */
  readonly?: boolean;
  /**
   * `full` (default): a write is on disk when its promise resolves, even across power loss.
   * `normal`: survives a crash of the process but may lose the last writes on power loss; faster.
   */
  synchronous?: 'full' | 'normal';
  /** Upper bound on cached fold blocks (each one edge's payload over an aligned run of buckets). Default 200 000. */
  foldCacheMaxBlocks?: number;
  /** Changed buckets beyond which a reader drops its whole fold cache instead of invalidating one by one. Default 50 000. */
  maxTrackedChanges?: number;
  /** How long a write waits for a lock held by another connection, in milliseconds. Default 5 000. */
  busyTimeoutMs?: number;
  /**
   * `memory` (default): each instance keeps the layer's edge rows and node records in memory, kept
   * current from the change counters, and traverses without queries. `sql`: one indexed query per
   * traversal level, for layers too large to hold.
   */
  graphIndex?: 'memory' | 'sql';
}

type Settings = Required<EmbeddedGraphStoreConfig>;
const DEFAULTS: Omit<Settings, 'dir' | 'layer' | 'bucketMs'> = {
  readonly: false,
  synchronous: 'full',
  foldCacheMaxBlocks: 200_000,
  maxTrackedChanges: 50_000,
  busyTimeoutMs: 5_000,
  graphIndex: 'memory',
};

export const EMBEDDED_GRAPH_STORE_COUNTERS = {
  records_rejected: 'Records refused as invalid (label: node or bucket); the rest of their batch was written.',
  fold_cache_hits: 'Edge folds answered from the last fold of the same range.',
  fold_cache_misses: 'Edge folds computed from cached blocks and stored buckets.',
  fold_cache_resets: 'Times the whole fold cache was dropped (retention ran, too many changes, or the size bound).',
} as const;
export type EmbeddedGraphStoreCounter = keyof typeof EMBEDDED_GRAPH_STORE_COUNTERS;

const sqlCache = new Map<string, string>();
function sql(name: string): string {
  let text = sqlCache.get(name);
  if (text === undefined) {
    text = readFileSync(join(__dirname, 'sql', `${name}.sql`), 'utf8');
    sqlCache.set(name, text);
  }
  return text;
}

type NodeRow = [
  id: string,
  kind: string,
  granularity: string | null,
  displayName: string,
  app: string | null,
  cluster: string | null,
  account: string | null,
  tier: string | null,
  domain: string | null,
  owner: string | null,
  region: string | null,
  health: string,
  firstSeenMs: number,
  lastSeenMs: number,
  intermediaryType: string | null,
  unknownReason: string | null,
  address: string | null,
  reportsIpcMetrics: number,
];
type EdgeRow = [id: number, src: NodeId, dst: NodeId];
type EdgeBoundsRow = [id: number, src: NodeId, dst: NodeId, granularity: Granularity, firstBucketMs: number, lastBucketMs: number, lastResolvedBucketMs: number | null];

function boundsFromRow([id, src, dst, granularity, firstBucketMs, lastBucketMs, lastResolvedBucketMs]: EdgeBoundsRow): EdgeBounds {
  return { id, src, dst, granularity, firstBucketMs, lastBucketMs, lastResolvedBucketMs };
}
type BucketRow = [bucketStartMs: number, hop: number, firstSeenMs: number, lastSeenMs: number, payload: string];

const NODE_FIELDS = ['app', 'cluster', 'account', 'tier', 'domain', 'owner', 'region', 'intermediaryType', 'unknownReason', 'address'] as const;

function nodeFromRow(row: NodeRow): NodeRecord {
  const [id, kind, granularity, displayName, app, cluster, account, tier, domain, owner, region, health, firstSeenMs, lastSeenMs, intermediaryType, unknownReason, address, reportsIpcMetrics] = row;
  const node: Record<string, unknown> = { id, kind, displayName, health, firstSeenMs, lastSeenMs };
  if (granularity !== null) node['granularity'] = granularity;
  const optional = { app, cluster, account, tier, domain, owner, region, intermediaryType, unknownReason, address };
  for (const field of NODE_FIELDS) if (optional[field] !== null) node[field] = optional[field];
  if (reportsIpcMetrics === 1) node['reportsIpcMetrics'] = true;
  // The columns hold only values that passed nodeUpsertViolation.
  return node as unknown as NodeRecord;
}

function nodeParams(node: NodeUpsert, seq: number): Record<string, string | number | null> {
  return {
    seq,
    id: node.id,
    kind: node.kind,
    granularity: node.granularity ?? granularityOfKind(node.kind) ?? null,
    displayName: node.displayName,
    app: node.app ?? null,
    cluster: node.cluster ?? null,
    account: node.account ?? null,
    tier: node.tier ?? null,
    domain: node.domain ?? null,
    owner: node.owner ?? null,
    region: node.region ?? null,
    health: node.health ?? null,
    firstSeenMs: node.firstSeenMs,
    lastSeenMs: node.lastSeenMs,
    intermediaryType: node.intermediaryType ?? null,
    unknownReason: node.unknownReason ?? null,
    address: node.address ?? null,
    reportsIpcMetrics: node.reportsIpcMetrics === true ? 1 : 0,
  };
}

function storeFailure(error: unknown): unknown {
  if (error instanceof Database.SqliteError) {
    return new StoreError(error.code === 'SQLITE_BUSY' ? 'timeout' : 'unavailable', `embedded graph store: ${error.message}`);
  }
  return error;
}

/**
 * The graph-layer store on one local SQLite file per layer, in WAL mode: one process writes, any
 * number of processes read at the same time, each read seeing one committed snapshot. Traversal
 * runs breadth-first over edge rows held in memory (or one set-based query per level) and folds
 * bucket payloads in this process; every cache is invalidated precisely by the commits of any
 * connection (see ADR 007).
 */
export class EmbeddedGraphStore<P> implements GraphLayerStore<P>, DeletesEdgeBuckets {
  readonly layer: Layer;
  readonly bucketMs: number;
  readonly counters = new CounterSet<EmbeddedGraphStoreCounter>(EMBEDDED_GRAPH_STORE_COUNTERS);

  private readonly folds: BucketFoldCache<P>;
  private readonly records = new WeakMap<FoldedEdge<P>, EdgeRecord>();
  private readonly index: GraphIndex | undefined;
  private readonly maxTrackedChanges: number;
  private seenWriteSeq = -1;
  private seenPurgeGen = -1;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly readTransaction: <T>(read: () => T) => T;
  private reportedFoldCounts = { hits: 0, misses: 0, resets: 0 };

  private constructor(
    private readonly db: Database.Database,
    private readonly merger: BucketMerger<P>,
    private readonly config: Settings,
  ) {
    this.layer = config.layer;
    this.bucketMs = config.bucketMs;
    this.folds = new BucketFoldCache(merger, config.foldCacheMaxBlocks);
    this.index = config.graphIndex === 'memory' ? new GraphIndex() : undefined;
    this.maxTrackedChanges = config.maxTrackedChanges;
    this.statements = prepareStatements(db);
    const transaction = db.transaction((read: () => unknown) => {
      this.refreshCaches();
      return read();
    });
    this.readTransaction = <T>(read: () => T): T => transaction(read) as T;
  }

  static async open<P>(config: EmbeddedGraphStoreConfig, merger: BucketMerger<P>): Promise<EmbeddedGraphStore<P>> {
    const settings: Settings = { ...DEFAULTS, ...config };
    if (merger.layer !== config.layer) throw new Error(`merger of layer ${merger.layer} given for layer ${config.layer}`);
    if (!Number.isSafeInteger(config.bucketMs) || config.bucketMs <= 0) throw new Error(`bucketMs must be a positive integer, got ${config.bucketMs}`);
    const file = join(config.dir, `${config.layer}.sqlite`);
    let db: Database.Database;
    if (config.readonly) {
      if (!existsSync(file)) throw new StoreError('unavailable', `no ${config.layer} store at ${file} yet: its writer has not created it`);
      db = new Database(file, { readonly: true, fileMustExist: true });
    } else {
      mkdirSync(config.dir, { recursive: true });
      db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.exec(sql('schema'));
    }
    try {
      db.pragma(`synchronous = ${settings.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(settings.busyTimeoutMs))}`);
      db.pragma('cache_size = -65536');
      checkIdentity(db, config);
      upgradeSchema(db, config);
    } catch (error: unknown) {
      db.close();
      throw error;
    }
    return new EmbeddedGraphStore(db, merger, settings);
  }

  async upsertNodes(nodes: NodeUpsert[]): Promise<void> {
    const valid: NodeUpsert[] = [];
    const rejected: { record: NodeUpsert; reason: string }[] = [];
    for (const node of nodes) {
      const reason = nodeUpsertViolation(node);
      if (reason === undefined) valid.push(node);
      else rejected.push({ record: node, reason });
    }
    if (valid.length > 0) this.write(() => this.writeNodes(valid));
    this.reject('node', nodes.length, rejected);
  }

  async putEdgeBuckets(buckets: EdgeBucket<P>[]): Promise<void> {
    const valid: EdgeBucket<P>[] = [];
    const rejected: { record: EdgeBucket<P>; reason: string }[] = [];
    for (const bucket of buckets) {
      const reason = edgeBucketViolation(bucket, this.bucketMs);
      if (reason === undefined) valid.push(bucket);
      else rejected.push({ record: bucket, reason });
    }
    if (valid.length > 0) this.write(() => this.writeBuckets(valid));
    this.reject('bucket', buckets.length, rejected);
  }

  async getNodes(ids: NodeId[]): Promise<NodeRecord[]> {
    const found = this.read(() => this.nodesById(ids));
    const byId = new Map(found.map((n) => [n.id, n]));
    const result: NodeRecord[] = [];
    for (const id of new Set(ids)) {
      const node = byId.get(id);
      if (node) result.push(node);
    }
    return result;
  }

  async traverse(query: TraversalQuery): Promise<TraversalResult> {
    const buckets = this.window(query.range);
    const edgeWindow = this.edgeWindow(query.granularity, query.range, query.includeHops);
    const graph: TraversalGraph = {
      edgesAt: (frontier, side) => this.visibleEdges(this.edgesAt(frontier, side, edgeWindow), buckets, query),
      nodes: (ids) => this.nodesById(ids),
    };
    // Readers order what they show (the gateway orders each page): no sort of the whole answer.
    return this.read(() => breadthFirst(query, graph, { edgeOrder: 'followed' }));
  }

  async listEdges(query: EdgeListQuery): Promise<EdgeRecord[]> {
    const buckets = this.window(query.range);
    const edgeWindow = this.edgeWindow(query.granularity, query.range, query.includeHops);
    return this.read(() => {
      let rows: { id: number; src: NodeId; dst: NodeId }[];
      if (query.nodes === undefined) {
        rows = this.index
          ? this.index.edgesIn(edgeWindow)
          : (this.statements.edgesInRange.all({ ...edgeWindow, includeHops: edgeWindow.includeHops ? 1 : 0 }) as EdgeRow[]).map(([id, src, dst]) => ({ id, src, dst }));
      } else {
        const byId = new Map<number, { id: number; src: NodeId; dst: NodeId }>();
        for (const side of ['out', 'in'] as const) for (const row of this.edgesAt(query.nodes, side, edgeWindow)) byId.set(row.id, row);
        rows = [...byId.values()];
      }
      return this.visibleEdges(rows, buckets, query).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    });
  }

  /**
   * Per-bucket history of one edge. The port's key does not name a granularity; an edge between
   * two nodes that exist at both (an intermediary and an external) is read at `granularity`, by
   * default at cluster granularity when it has one there.
   */
  async edgeHistory(key: EdgeKey, range: TimeRange, granularity?: Granularity): Promise<EdgeHistoryPoint<P>[]> {
    const { src, dst } = parseEdgeKey(key);
    const window = bucketWindow(range, this.bucketMs);
    return this.read(() => {
      const edgeId = this.edgeIdFor(src, dst, granularity);
      if (edgeId === undefined) return [];
      const rows = this.statements.selectBuckets.all({ edgeId, fromMs: window.firstStartMs, toMs: window.toMs }) as BucketRow[];
      return rows.map(([bucketStartMs, , , , payload]) => ({ bucketStartMs, props: JSON.parse(payload) as P }));
    });
  }

  async deleteBefore(beforeMs: number): Promise<number> {
    const lastDeletableStartMs = beforeMs - this.bucketMs;
    return this.write(() => {
      const s = this.statements;
      const deleted = s.deleteBucketsBefore.run({ lastDeletableStartMs }).changes;
      s.deleteEdgesBefore.run({ lastDeletableStartMs });
      s.narrowEdgeSpans.run({ lastDeletableStartMs });
      s.clearResolvedBefore.run({ lastDeletableStartMs });
      s.deleteNodesBefore.run({ beforeMs });
      s.forgetDeletedBuckets.run();
      s.markPurge.run();
      return deleted;
    });
  }

  /** Removes single buckets (for example withdrawn ones); see `DeletesEdgeBuckets`. */
  async deleteEdgeBuckets(refs: EdgeBucketRef[]): Promise<number> {
    if (refs.length === 0) return 0;
    return this.write(() => {
      const s = this.statements;
      const [seq] = s.nextWriteSeq.get() as [number];
      const touched = new Set<number>();
      let deleted = 0;
      for (const ref of refs) {
        const [edgeId] = (s.selectEdgeId.get({ src: ref.src, dst: ref.dst, granularity: ref.granularity }) as [number] | undefined) ?? [];
        if (edgeId === undefined) continue;
        if (s.deleteBucket.run({ edgeId, bucketStartMs: ref.bucketStartMs }).changes === 0) continue;
        s.recordDeletedBucket.run({ edgeId, bucketStartMs: ref.bucketStartMs, seq });
        touched.add(edgeId);
        deleted++;
      }
      for (const edgeId of touched) s.deleteEdgeIfEmpty.run({ edgeId });
      return deleted;
    });
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private read<T>(read: () => T): T {
    try {
      const result = this.readTransaction(read);
      this.reportFoldCounts();
      return result;
    } catch (error: unknown) {
      throw storeFailure(error);
    }
  }

  private write<T>(write: () => T): T {
    if (this.config.readonly) throw new Error(`the ${this.layer} store was opened read-only`);
    try {
      return this.db.transaction(write).immediate();
    } catch (error: unknown) {
      throw storeFailure(error);
    }
  }

  private reject<R>(kind: 'node' | 'bucket', total: number, rejected: { record: R; reason: string }[]): void {
    if (rejected.length === 0) return;
    this.counters.inc('records_rejected', rejected.length, kind);
    const first = rejected[0]?.reason ?? '';
    throw new StoreError(
      'invalid-record',
      `${rejected.length} of ${total} ${kind} records rejected, first: ${first}`,
      rejected.map((r) => r.record),
    );
  }

  private writeNodes(nodes: NodeUpsert[]): void {
    const [seq] = this.statements.nextWriteSeq.get() as [number];
    for (const node of nodes) this.statements.upsertNode.run(nodeParams(node, seq));
  }

  private writeBuckets(buckets: EdgeBucket<P>[]): void {
    const s = this.statements;
    const [seq] = s.nextWriteSeq.get() as [number];
    const endpoints = new Map<NodeId, { first: number; last: number }>();
    const widen = (id: NodeId, first: number, last: number) => {
      const seen = endpoints.get(id);
      if (seen === undefined) endpoints.set(id, { first, last });
      else {
        seen.first = Math.min(seen.first, first);
        seen.last = Math.max(seen.last, last);
      }
    };
    for (const b of buckets) {
      const hop = this.merger.isHop(b.props);
      const [edgeId] = s.upsertEdge.get({
        src: b.src,
        dst: b.dst,
        granularity: b.granularity,
        bucketStartMs: b.bucketStartMs,
        resolvedBucketMs: hop ? null : b.bucketStartMs,
        seq,
      }) as [number];
      s.putBucket.run({
        edgeId,
        bucketStartMs: b.bucketStartMs,
        hop: hop ? 1 : 0,
        firstSeenMs: b.firstSeenMs,
        lastSeenMs: b.lastSeenMs,
        seq,
        payload: JSON.stringify(b.props),
      });
      widen(b.src, b.firstSeenMs, b.lastSeenMs);
      widen(b.dst, b.firstSeenMs, b.lastSeenMs);
    }
    for (const [id, seen] of endpoints) {
      const node = endpointNode(id, seen.first, seen.last);
      s.upsertEndpoint.run({
        id: node.id,
        kind: node.kind,
        granularity: node.granularity ?? null,
        displayName: node.displayName,
        firstSeenMs: node.firstSeenMs,
        lastSeenMs: node.lastSeenMs,
        seq,
      });
    }
  }

  /**
   * Brings this instance's caches up to the snapshot of the current read: drops the folds of
   * buckets written or deleted since the last read (by any connection), and refreshes the edge
   * rows and node records that changed. Retention, or more changes than worth tracking, reloads.
   */
  private refreshCaches(): void {
    const s = this.statements;
    const [writeSeq, purgeGen] = s.selectState.get() as [number, number];
    if (writeSeq === this.seenWriteSeq && purgeGen === this.seenPurgeGen) return;
    const since = { sinceSeq: this.seenWriteSeq, limit: this.maxTrackedChanges + 1 };
    if (this.seenWriteSeq < 0 || purgeGen !== this.seenPurgeGen) {
      this.reload();
    } else {
      const changed = s.selectChangedBuckets.all(since) as [number, number][];
      const deleted = s.selectDeletedBuckets.all(since) as [number, number][];
      const edges = this.index ? (s.selectChangedEdges.all(since) as EdgeBoundsRow[]) : [];
      const nodes = this.index ? (s.selectChangedNodes.all(since) as NodeRow[]) : [];
      if (Math.max(changed.length + deleted.length, edges.length, nodes.length) > this.maxTrackedChanges) {
        this.reload();
      } else {
        for (const [edgeId, startMs] of changed) this.folds.invalidate(edgeId, startMs / this.bucketMs);
        for (const [edgeId, startMs] of deleted) this.folds.invalidate(edgeId, startMs / this.bucketMs);
        if (this.index) {
          for (const row of edges) this.index.putEdge(boundsFromRow(row));
          for (const row of nodes) this.index.putNode(Object.freeze(nodeFromRow(row)));
          for (const [edgeId] of deleted) if (s.selectEdgeExists.get({ edgeId }) === undefined) this.index.removeEdge(edgeId);
        }
      }
    }
    this.seenWriteSeq = writeSeq;
    this.seenPurgeGen = purgeGen;
  }

  private reload(): void {
    if (this.seenWriteSeq >= 0) this.folds.reset();
    if (this.index === undefined) return;
    this.index.clear();
    for (const row of this.statements.selectAllEdges.all() as EdgeBoundsRow[]) this.index.putEdge(boundsFromRow(row));
    for (const row of this.statements.selectAllNodes.all() as NodeRow[]) this.index.putNode(Object.freeze(nodeFromRow(row)));
  }

  private reportFoldCounts(): void {
    const { hits, misses, resets } = this.folds;
    const last = this.reportedFoldCounts;
    if (hits > last.hits) this.counters.inc('fold_cache_hits', hits - last.hits);
    if (misses > last.misses) this.counters.inc('fold_cache_misses', misses - last.misses);
    if (resets > last.resets) this.counters.inc('fold_cache_resets', resets - last.resets);
    this.reportedFoldCounts = { hits, misses, resets };
  }

  /** The range as bucket indexes on the grid, `[fromIndex, toIndex)`. */
  private window(range: TimeRange): { fromIndex: number; toIndex: number } {
    const w = bucketWindow(range, this.bucketMs);
    return { fromIndex: w.firstStartMs / this.bucketMs, toIndex: Math.ceil(w.toMs / this.bucketMs) };
  }

  private edgeWindow(granularity: Granularity, range: TimeRange, includeHops: boolean | undefined): EdgeWindow {
    const w = bucketWindow(range, this.bucketMs);
    return { granularity, firstStartMs: w.firstStartMs, toMs: w.toMs, includeHops: includeHops === true };
  }

  private edgesAt(frontier: readonly NodeId[], side: EdgeSide, window: EdgeWindow): { id: number; src: NodeId; dst: NodeId }[] {
    if (this.index) return this.index.edgesAt(frontier, side, window);
    const statement = side === 'out' ? this.statements.edgesLeaving : this.statements.edgesEntering;
    const rows = statement.all({ frontier: JSON.stringify(frontier), ...window, includeHops: window.includeHops ? 1 : 0 }) as EdgeRow[];
    return rows.map(([id, src, dst]) => ({ id, src, dst }));
  }

  private visibleEdges(
    rows: readonly { id: number; src: NodeId; dst: NodeId }[],
    buckets: { fromIndex: number; toIndex: number },
    query: { granularity: Granularity; includeHops?: boolean },
  ): EdgeRecord[] {
    const edges: EdgeRecord[] = [];
    for (const { id, src, dst } of rows) {
      const folded = this.fold(id, buckets.fromIndex, buckets.toIndex);
      if (folded !== undefined && isVisible(folded, query.includeHops)) edges.push(this.edgeRecord(folded, query.granularity, src, dst));
    }
    return edges;
  }

  /**
   * The record of a folded edge, built once per fold: a fold stands for one edge (at the one
   * granularity its id has) over one state of its buckets, so the record lives exactly as long
   * as the fold cache keeps the fold, and repeated queries return the same frozen object.
   */
  private edgeRecord(folded: FoldedEdge<P>, granularity: Granularity, src: NodeId, dst: NodeId): EdgeRecord {
    let record = this.records.get(folded);
    if (record === undefined) {
      record = layerEdgeRecord(this.layer, granularity, src, dst, folded);
      Object.freeze(record.layers);
      Object.freeze(record.props);
      Object.freeze(record);
      this.records.set(folded, record);
    }
    return record;
  }

  private fold(edgeId: number, fromIndex: number, toIndex: number): FoldedEdge<P> | undefined {
    return this.folds.fold(edgeId, fromIndex, toIndex, this.loadBuckets);
  }

  private readonly loadBuckets = (edgeId: number, fromIndex: number, toIndex: number): IndexedBucket<P>[] => {
    const rows = this.statements.selectBuckets.all({ edgeId, fromMs: fromIndex * this.bucketMs, toMs: toIndex * this.bucketMs }) as BucketRow[];
    return rows.map(([startMs, hop, firstSeenMs, lastSeenMs, payload]) => ({
      index: startMs / this.bucketMs,
      hop: hop === 1,
      firstSeenMs,
      lastSeenMs,
      props: JSON.parse(payload) as P,
    }));
  };

  private nodesById(ids: readonly NodeId[]): NodeRecord[] {
    if (ids.length === 0) return [];
    if (this.index) {
      const found: NodeRecord[] = [];
      for (const id of ids) {
        const node = this.index.node(id);
        if (node !== undefined) found.push(node);
      }
      return found;
    }
    return (this.statements.selectNodes.all({ ids: JSON.stringify(ids) }) as NodeRow[]).map(nodeFromRow);
  }

  private edgeIdFor(src: NodeId, dst: NodeId, granularity: Granularity | undefined): number | undefined {
    const find = (g: Granularity) => (this.statements.selectEdgeId.get({ src, dst, granularity: g }) as [number] | undefined)?.[0];
    if (granularity !== undefined) return find(granularity);
    const own = granularityOfKind(parseNodeId(src).kind) ?? granularityOfKind(parseNodeId(dst).kind);
    if (own !== undefined) return find(own);
    return find('cluster') ?? find('app');
  }
}

function prepareStatements(db: Database.Database) {
  const p = (name: string) => db.prepare(sql(name));
  const raw = (name: string) => db.prepare(sql(name)).raw(true);
  return {
    nextWriteSeq: raw('next-write-seq'),
    selectState: raw('select-state'),
    upsertNode: p('upsert-node'),
    upsertEndpoint: p('upsert-endpoint'),
    upsertEdge: raw('upsert-edge'),
    putBucket: p('put-bucket'),
    selectNodes: raw('select-nodes'),
    edgesLeaving: raw('edges-leaving'),
    edgesEntering: raw('edges-entering'),
    edgesInRange: raw('edges-in-range'),
    selectEdgeId: raw('select-edge-id'),
    selectBuckets: raw('select-buckets'),
    selectChangedBuckets: raw('select-changed-buckets'),
    selectDeletedBuckets: raw('select-deleted-buckets'),
    selectChangedEdges: raw('select-changed-edges'),
    selectAllEdges: raw('select-all-edges'),
    selectEdgeExists: raw('select-edge-exists'),
    selectChangedNodes: raw('select-changed-nodes'),
    selectAllNodes: raw('select-all-nodes'),
    deleteBucketsBefore: p('delete-buckets-before'),
    deleteEdgesBefore: p('delete-edges-before'),
    narrowEdgeSpans: p('narrow-edge-spans'),
    clearResolvedBefore: p('clear-resolved-before'),
    deleteNodesBefore: p('delete-nodes-before'),
    markPurge: p('mark-purge'),
    deleteBucket: p('delete-bucket'),
    recordDeletedBucket: p('record-deleted-bucket'),
    deleteEdgeIfEmpty: p('delete-edge-if-empty'),
    forgetDeletedBuckets: p('forget-deleted-buckets'),
  };
}

/**
 * Brings a file written by an earlier version up to the current tables. Only the writer may change
 * the file: a reader of a file its writer has not upgraded yet is told to wait, as for a missing file.
 */
function upgradeSchema(db: Database.Database, config: EmbeddedGraphStoreConfig): void {
  const columns = db.pragma('table_info(nodes)') as { name: string }[];
  if (columns.some((c) => c.name === 'reports_ipc_metrics')) return;
  if (config.readonly) {
    throw new StoreError('unavailable', `the ${config.layer} store file predates nodes that report IPC metrics: its writer upgrades it when it opens it`);
  }
  db.exec(sql('add-reports-ipc-metrics'));
}

/** The file records its layer and bucket width; reading buckets at another width would misplace them. */
function checkIdentity(db: Database.Database, config: EmbeddedGraphStoreConfig): void {
  const read = (key: string) => (db.prepare('SELECT value FROM store_meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  if (!config.readonly) {
    const insert = db.prepare('INSERT OR IGNORE INTO store_meta (key, value) VALUES (?, ?)');
    insert.run('layer', config.layer);
    insert.run('bucket_ms', String(config.bucketMs));
  }
  const layer = read('layer');
  const bucketMs = read('bucket_ms');
  if (layer !== config.layer || bucketMs !== String(config.bucketMs)) {
    throw new Error(`store file holds layer ${layer} with ${bucketMs} ms buckets, opened as ${config.layer} with ${config.bucketMs} ms`);
  }
}
