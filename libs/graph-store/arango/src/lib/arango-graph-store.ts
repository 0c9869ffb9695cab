import { readFileSync } from 'fs';
import { join } from 'path';
import { Database } from 'arangojs';
import { isArangoError } from 'arangojs/errors';
import {
  BucketMerger,
  CounterSet,
  Direction,
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
  endpointNode,
  foldBuckets,
  granularityOfKind,
  isVisible,
  layerEdgeRecord,
  nodeUpsertViolation,
  StoredBucket,
} from '@topology/graph-store-contract';
import { bucketDocumentKey, edgeDocumentKey, nodeKey } from './arango-keys';

export interface ArangoGraphStoreConfig {
  /** Coordinator or single-server URL(s), e.g. `http://arangodb:8529`. */
  url: string | string[];
  /** One database per deployment; every layer has its own collections and named graph in it. */
  databaseName: string;
  auth?: { username: string; password?: string } | { token: string };
  layer: Layer;
  /** Width of history buckets in milliseconds; recorded on first open, a different width is refused. */
  bucketMs: number;
  /** A reader neither creates the database nor its collections, indexes and graph. Default false. */
  readonly?: boolean;
  /** Server-side limit on one query's run time, in milliseconds. Default 10 000. */
  queryTimeoutMs?: number;
}

export const ARANGO_GRAPH_STORE_COUNTERS = {
  records_rejected: 'Records refused as invalid (label: node or bucket); the rest of their batch was written.',
  traversals_cut: 'Traversals whose candidate subgraph hit maxVisited on the server and were reported truncated.',
} as const;
export type ArangoGraphStoreCounter = keyof typeof ARANGO_GRAPH_STORE_COUNTERS;

const ERROR_DUPLICATE_NAME = 1207;
const ERROR_GRAPH_DUPLICATE = 1925;
const ERROR_QUERY_KILLED = 1500;

const DIRECTION_KEYWORD: Record<Direction, string> = { down: 'OUTBOUND', up: 'INBOUND', both: 'ANY' };

const aqlCache = new Map<string, string>();
function aql(name: string): string {
  let text = aqlCache.get(name);
  if (text === undefined) {
    text = readFileSync(join(__dirname, 'aql', `${name}.aql`), 'utf8');
    aqlCache.set(name, text);
  }
  return text;
}

/** The traversal query for a direction; the keyword is one of three constants, never query input. */
function traversalAql(direction: Direction): string {
  return aql('traverse').split('{{direction}}').join(DIRECTION_KEYWORD[direction]);
}

/** Names of one layer's collections and graph. */
export function layerCollections(layer: Layer) {
  return {
    nodes: `${layer}_nodes`,
    edges: `${layer}_edges`,
    buckets: `${layer}_buckets`,
    graph: `${layer}_graph`,
    meta: 'topology_store_meta',
  };
}

interface EdgeWithBuckets<P> {
  src: NodeId;
  dst: NodeId;
  buckets: StoredBucket<P>[];
}

function storeFailure(error: unknown): unknown {
  if (error instanceof StoreError) return error;
  if (isArangoError(error)) {
    return new StoreError(error.errorNum === ERROR_QUERY_KILLED ? 'timeout' : 'unavailable', `arangodb: ${error.message}`);
  }
  if (error instanceof Error) return new StoreError('unavailable', `arangodb: ${error.message}`);
  return error;
}

function ignoreDuplicate(errorNum: number) {
  return (error: unknown): void => {
    if (!(isArangoError(error) && error.errorNum === errorNum)) throw error;
  };
}

/**
 * An upsert as its document: `reportsIpcMetrics` only ever goes out as `true`, so the merge that
 * replaces given attributes can set the fact and nothing can take it back.
 */
function withoutUnsetFact(node: NodeUpsert): NodeUpsert {
  if (node.reportsIpcMetrics === undefined || node.reportsIpcMetrics === true) return node;
  const { reportsIpcMetrics: _unset, ...rest } = node;
  return rest;
}

/** Folds same-key upserts of one batch in order, so each key is upserted once per query. */
function mergeInOrder(nodes: NodeUpsert[]): NodeUpsert[] {
  const byId = new Map<NodeId, NodeUpsert>();
  for (const upsert of nodes) {
    const node = withoutUnsetFact(upsert);
    const prev = byId.get(node.id);
    if (prev === undefined) {
      byId.set(node.id, node);
      continue;
    }
    const given = Object.fromEntries(Object.entries(node).filter(([, v]) => v !== undefined));
    byId.set(node.id, {
      ...prev,
      ...given,
      firstSeenMs: Math.min(prev.firstSeenMs, node.firstSeenMs),
      lastSeenMs: Math.max(prev.lastSeenMs, node.lastSeenMs),
    } as NodeUpsert);
  }
  return [...byId.values()];
}

/**
 * The graph-layer store on ArangoDB: per layer a node collection, an edge collection, a bucket
 * collection and a named graph (see ADR 008). Traversal is one AQL graph traversal that returns a
 * candidate subgraph with its buckets; payloads are folded here with the layer's merger and the
 * shared breadth-first pass makes the answer exact. Writes of one instance are applied one after
 * another, each batch in one stream transaction.
 */
export class ArangoGraphStore<P> implements GraphLayerStore<P>, DeletesEdgeBuckets {
  readonly layer: Layer;
  readonly bucketMs: number;
  readonly counters = new CounterSet<ArangoGraphStoreCounter>(ARANGO_GRAPH_STORE_COUNTERS);

  private readonly names: ReturnType<typeof layerCollections>;
  private writes: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly db: Database,
    private readonly merger: BucketMerger<P>,
    private readonly config: ArangoGraphStoreConfig,
  ) {
    this.layer = config.layer;
    this.bucketMs = config.bucketMs;
    this.names = layerCollections(config.layer);
  }

  static async open<P>(config: ArangoGraphStoreConfig, merger: BucketMerger<P>): Promise<ArangoGraphStore<P>> {
    if (merger.layer !== config.layer) throw new Error(`merger of layer ${merger.layer} given for layer ${config.layer}`);
    if (!Number.isSafeInteger(config.bucketMs) || config.bucketMs <= 0) throw new Error(`bucketMs must be a positive integer, got ${config.bucketMs}`);
    const server = new Database({ url: config.url, ...(config.auth ? { auth: config.auth } : {}) });
    const db = server.database(config.databaseName);
    try {
      if (!config.readonly) {
        if (!(await db.exists())) await server.createDatabase(config.databaseName).catch(ignoreDuplicate(ERROR_DUPLICATE_NAME));
        await ensureLayer(db, config);
      }
      await checkBucketWidth(db, config);
    } catch (error: unknown) {
      server.close();
      throw storeFailure(error);
    }
    return new ArangoGraphStore(db, merger, config);
  }

  async upsertNodes(nodes: NodeUpsert[]): Promise<void> {
    const valid: NodeUpsert[] = [];
    const rejected: { record: NodeUpsert; reason: string }[] = [];
    for (const node of nodes) {
      const reason = nodeUpsertViolation(node);
      if (reason === undefined) valid.push(node);
      else rejected.push({ record: node, reason });
    }
    if (valid.length > 0) {
      const documents = mergeInOrder(valid).map((n) => ({
        ...n,
        _key: nodeKey(n.id),
        ...(n.granularity === undefined && granularityOfKind(n.kind) ? { granularity: granularityOfKind(n.kind) } : {}),
      }));
      await this.serially(() =>
        this.db.withTransaction({ write: [this.names.nodes] }, (step) =>
          step(() => this.db.query(aql('upsert-nodes'), { nodes: documents, '@nodes': this.names.nodes })),
        ),
      );
    }
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
    if (valid.length > 0) {
      const { endpoints, edges, bucketDocs } = this.bucketDocuments(valid);
      const n = this.names;
      await this.serially(() =>
        this.db.withTransaction({ write: [n.nodes, n.edges, n.buckets] }, async (step) => {
          await step(() => this.db.query(aql('upsert-endpoints'), { endpoints, '@nodes': n.nodes }));
          await step(() => this.db.query(aql('upsert-edges'), { edges, '@edges': n.edges }));
          await step(() => this.db.query(aql('put-buckets'), { buckets: bucketDocs, '@buckets': n.buckets }));
        }),
      );
    }
    this.reject('bucket', buckets.length, rejected);
  }

  async getNodes(ids: NodeId[]): Promise<NodeRecord[]> {
    const unique = [...new Set(ids)];
    const found = await this.query<NodeRecord>(aql('get-nodes'), { keys: unique.map((id) => nodeKey(id)), '@nodes': this.names.nodes });
    const byId = new Map(found.map((n) => [n.id, n]));
    return unique.flatMap((id) => {
      const node = byId.get(id);
      return node ? [node] : [];
    });
  }

  async traverse(query: TraversalQuery): Promise<TraversalResult> {
    const n = this.names;
    const [subgraph] = await this.query<{ cut: boolean; nodes: NodeRecord[]; edges: EdgeWithBuckets<P>[] }>(traversalAql(query.direction), {
      ...this.edgeBindings(query.granularity, query.range, query.includeHops),
      roots: [...new Set(query.roots)].map((id) => `${n.nodes}/${nodeKey(id)}`),
      depth: Math.max(1, Math.floor(query.depth)),
      graph: n.graph,
      tiers: query.filters?.tiers ?? [],
      domains: query.filters?.domains ?? [],
      owners: query.filters?.owners ?? [],
      regions: query.filters?.regions ?? [],
      health: query.filters?.health ?? [],
      candidateLimit: Math.max(1, query.maxVisited),
      '@edges': n.edges,
      '@buckets': n.buckets,
    });
    if (subgraph === undefined) return { nodes: [], edges: [], truncated: false };
    const leaving = new Map<NodeId, EdgeRecord[]>();
    const entering = new Map<NodeId, EdgeRecord[]>();
    for (const edge of this.visible(subgraph.edges, query.granularity, query.includeHops)) {
      const out = leaving.get(edge.src);
      if (out) out.push(edge);
      else leaving.set(edge.src, [edge]);
      const into = entering.get(edge.dst);
      if (into) into.push(edge);
      else entering.set(edge.dst, [edge]);
    }
    const nodes = new Map(subgraph.nodes.map((node) => [node.id, node]));
    const result = breadthFirst(query, {
      edgesAt: (frontier, side) => frontier.flatMap((id) => (side === 'out' ? leaving : entering).get(id) ?? []),
      nodes: (ids) => ids.flatMap((id) => nodes.get(id) ?? []),
    });
    if (!subgraph.cut) return result;
    // The server stopped collecting candidates at maxVisited; nodes beyond may be missing.
    this.counters.inc('traversals_cut');
    return { ...result, truncated: true };
  }

  async listEdges(query: EdgeListQuery): Promise<EdgeRecord[]> {
    const bindings = { ...this.edgeBindings(query.granularity, query.range, query.includeHops), '@edges': this.names.edges, '@buckets': this.names.buckets };
    const rows =
      query.nodes === undefined
        ? await this.query<EdgeWithBuckets<P>>(aql('list-edges'), bindings)
        : await this.query<EdgeWithBuckets<P>>(aql('list-edges-touching'), { ...bindings, handles: query.nodes.map((id) => `${this.names.nodes}/${nodeKey(id)}`) });
    return this.visible(rows, query.granularity, query.includeHops).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Per-bucket history of one edge; `granularity` as for the embedded store (cluster first when the pair exists at both). */
  async edgeHistory(key: EdgeKey, range: TimeRange, granularity?: Granularity): Promise<EdgeHistoryPoint<P>[]> {
    const { src, dst } = parseEdgeKey(key);
    const edge = await this.edgeKeyFor(src, dst, granularity);
    const window = bucketWindow(range, this.bucketMs);
    return this.query<EdgeHistoryPoint<P>>(aql('edge-history'), {
      edge,
      firstStartMs: window.firstStartMs,
      toMs: window.toMs,
      '@buckets': this.names.buckets,
    });
  }

  /**
   * Retention. Not one transaction: each step is idempotent and only touches data older than any
   * live query reads, so a run cut short is completed by the next.
   */
  async deleteBefore(beforeMs: number): Promise<number> {
    const lastDeletableStartMs = beforeMs - this.bucketMs;
    const n = this.names;
    return this.serially(async () => {
      const [deleted] = await this.query<number>(aql('delete-buckets-before'), { lastDeletableStartMs, '@buckets': n.buckets });
      await this.query(aql('delete-edges-before'), { lastDeletableStartMs, '@edges': n.edges });
      await this.query(aql('narrow-edge-bounds'), { lastDeletableStartMs, '@edges': n.edges, '@buckets': n.buckets });
      await this.query(aql('delete-nodes-before'), { beforeMs, '@nodes': n.nodes, '@edges': n.edges });
      return deleted ?? 0;
    });
  }

  /** Removes single buckets (for example withdrawn ones); see `DeletesEdgeBuckets`. */
  async deleteEdgeBuckets(refs: EdgeBucketRef[]): Promise<number> {
    if (refs.length === 0) return 0;
    const edgeKeys = new Set<string>();
    const bucketKeys = new Set<string>();
    for (const ref of refs) {
      const edge = edgeDocumentKey(ref.granularity, ref.src, ref.dst);
      edgeKeys.add(edge);
      bucketKeys.add(bucketDocumentKey(edge, ref.bucketStartMs));
    }
    const n = this.names;
    return this.serially(() =>
      this.db.withTransaction({ write: [n.edges, n.buckets] }, async (step) => {
        const cursor = await step(() => this.db.query<number>(aql('delete-buckets'), { keys: [...bucketKeys], '@buckets': n.buckets }));
        const [deleted] = await cursor.all();
        await step(() => this.db.query(aql('delete-edges-without-buckets'), { keys: [...edgeKeys], '@edges': n.edges, '@buckets': n.buckets }));
        return deleted ?? 0;
      }),
    );
  }

  async close(): Promise<void> {
    await this.writes.catch(() => undefined);
    this.db.close();
  }

  private edgeBindings(granularity: Granularity, range: TimeRange, includeHops: boolean | undefined) {
    const window = bucketWindow(range, this.bucketMs);
    // null compares below every number in AQL, so with hops included the resolved bound admits all.
    return { granularity, firstStartMs: window.firstStartMs, toMs: window.toMs, resolvedFromMs: includeHops ? null : window.firstStartMs };
  }

  private visible(rows: readonly EdgeWithBuckets<P>[], granularity: Granularity, includeHops: boolean | undefined): EdgeRecord[] {
    const edges: EdgeRecord[] = [];
    for (const row of rows) {
      const folded = foldBuckets(this.merger, row.buckets);
      if (folded !== undefined && isVisible(folded, includeHops)) edges.push(layerEdgeRecord(this.layer, granularity, row.src, row.dst, folded));
    }
    return edges;
  }

  private bucketDocuments(buckets: EdgeBucket<P>[]) {
    const endpoints = new Map<NodeId, { first: number; last: number }>();
    const edges = new Map<string, { _key: string; _from: string; _to: string; src: NodeId; dst: NodeId; granularity: Granularity; firstBucketMs: number; lastBucketMs: number; lastResolvedBucketMs: number | null }>();
    const bucketDocs = new Map<string, Record<string, unknown>>();
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
      const key = edgeDocumentKey(b.granularity, b.src, b.dst);
      const edge = edges.get(key);
      const resolved = hop ? null : b.bucketStartMs;
      if (edge === undefined) {
        edges.set(key, {
          _key: key,
          _from: `${this.names.nodes}/${nodeKey(b.src)}`,
          _to: `${this.names.nodes}/${nodeKey(b.dst)}`,
          src: b.src,
          dst: b.dst,
          granularity: b.granularity,
          firstBucketMs: b.bucketStartMs,
          lastBucketMs: b.bucketStartMs,
          lastResolvedBucketMs: resolved,
        });
      } else {
        edge.firstBucketMs = Math.min(edge.firstBucketMs, b.bucketStartMs);
        edge.lastBucketMs = Math.max(edge.lastBucketMs, b.bucketStartMs);
        if (resolved !== null) edge.lastResolvedBucketMs = Math.max(edge.lastResolvedBucketMs ?? resolved, resolved);
      }
      const bucketKey = bucketDocumentKey(key, b.bucketStartMs);
      bucketDocs.set(bucketKey, {
        _key: bucketKey,
        edge: key,
        bucketStartMs: b.bucketStartMs,
        hop,
        firstSeenMs: b.firstSeenMs,
        lastSeenMs: b.lastSeenMs,
        props: b.props,
      });
      widen(b.src, b.firstSeenMs, b.lastSeenMs);
      widen(b.dst, b.firstSeenMs, b.lastSeenMs);
    }
    return {
      endpoints: [...endpoints].map(([id, seen]) => ({ ...endpointNode(id, seen.first, seen.last), _key: nodeKey(id), health: 'unknown' })),
      edges: [...edges.values()],
      bucketDocs: [...bucketDocs.values()],
    };
  }

  private async edgeKeyFor(src: NodeId, dst: NodeId, granularity: Granularity | undefined): Promise<string> {
    const own = granularity ?? granularityOfKind(parseNodeId(src).kind) ?? granularityOfKind(parseNodeId(dst).kind);
    if (own !== undefined) return edgeDocumentKey(own, src, dst);
    const atCluster = edgeDocumentKey('cluster', src, dst);
    const found = await this.query<string>(aql('existing-edge-keys'), { keys: [atCluster], '@edges': this.names.edges });
    return found.length > 0 ? atCluster : edgeDocumentKey('app', src, dst);
  }

  private async query<T>(text: string, bindVars: Record<string, unknown>): Promise<T[]> {
    try {
      const cursor = await this.db.query<T>(text, bindVars, { maxRuntime: (this.config.queryTimeoutMs ?? 10_000) / 1000, batchSize: 1000 });
      return await cursor.all();
    } catch (error: unknown) {
      throw storeFailure(error);
    }
  }

  /** Runs writes of this instance one after another, in call order. */
  private serially<T>(write: () => Promise<T>): Promise<T> {
    const run = this.writes.then(write, write).catch((error: unknown) => {
      throw storeFailure(error);
    });
    this.writes = run.catch(() => undefined);
    return run;
  }

  private reject<R>(kind: 'node' | 'bucket', total: number, rejected: { record: R; reason: string }[]): void {
    if (rejected.length === 0) return;
    this.counters.inc('records_rejected', rejected.length, kind);
    throw new StoreError('invalid-record', `${rejected.length} of ${total} ${kind} records rejected, first: ${rejected[0]?.reason ?? ''}`, rejected.map((r) => r.record));
  }
}

/** Collections, indexes and the named graph of a layer; every step tolerates a concurrent opener. */
async function ensureLayer(db: Database, config: ArangoGraphStoreConfig): Promise<void> {
  const n = layerCollections(config.layer);
  const documentCollections = [n.nodes, n.buckets, n.meta];
  for (const name of documentCollections) {
    if (!(await db.collection(name).exists())) await db.createCollection(name).catch(ignoreDuplicate(ERROR_DUPLICATE_NAME));
  }
  if (!(await db.collection(n.edges).exists())) await db.createEdgeCollection(n.edges).catch(ignoreDuplicate(ERROR_DUPLICATE_NAME));
  await db.collection(n.nodes).ensureIndex({ type: 'persistent', name: 'by_last_seen', fields: ['lastSeenMs'] });
  // Vertex-centric indexes: traversal looks edges up by endpoint, granularity and bucket bounds.
  await db.collection(n.edges).ensureIndex({ type: 'persistent', name: 'out_by_granularity_time', fields: ['_from', 'granularity', 'lastBucketMs'] });
  await db.collection(n.edges).ensureIndex({ type: 'persistent', name: 'in_by_granularity_time', fields: ['_to', 'granularity', 'lastBucketMs'] });
  await db.collection(n.edges).ensureIndex({ type: 'persistent', name: 'by_granularity_time', fields: ['granularity', 'lastBucketMs'] });
  await db.collection(n.buckets).ensureIndex({ type: 'persistent', name: 'by_edge_start', fields: ['edge', 'bucketStartMs'] });
  await db.collection(n.buckets).ensureIndex({ type: 'persistent', name: 'by_start', fields: ['bucketStartMs'] });
  if (!(await db.graph(n.graph).exists())) {
    await db.createGraph(n.graph, [{ collection: n.edges, from: [n.nodes], to: [n.nodes] }]).catch(ignoreDuplicate(ERROR_GRAPH_DUPLICATE));
  }
  await db.collection(n.meta).save({ _key: config.layer, bucketMs: config.bucketMs }, { overwriteMode: 'ignore' });
}

async function checkBucketWidth(db: Database, config: ArangoGraphStoreConfig): Promise<void> {
  const meta = await db.collection<{ bucketMs: number }>(layerCollections(config.layer).meta).document(config.layer, { graceful: true });
  if (meta === null) throw new StoreError('unavailable', `the ${config.layer} layer does not exist in ${config.databaseName} yet: its writer has not created it`);
  if (meta.bucketMs !== config.bucketMs) {
    throw new Error(`the ${config.layer} layer in ${config.databaseName} has ${meta.bucketMs} ms buckets, opened with ${config.bucketMs} ms`);
  }
}
