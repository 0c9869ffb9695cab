import { bucketWindow, breadthFirst, TraversalGraph } from '@topology/graph-store-contract';
import {
  CounterSet,
  EdgeListQuery,
  EdgeRecord,
  edgeKey,
  GRANULARITIES,
  Granularity,
  isNodeId,
  NODE_KINDS,
  NodeId,
  NodeKind,
  NodeRecord,
  StoreError,
  TimeRange,
  TraversalQuery,
  TraversalResult,
} from '@topology/model';
import {
  emptyRequestEdgeFold,
  PEER_SOURCES,
  PeerSource,
  ProcessDirectory,
  RequestEdgeBucket,
  RequestEdgeFold,
  requestEdgeProps,
  RequestLayerWriter,
  RequestNode,
  SPAN_KINDS,
  SpanKind,
  TracePath,
  tracePath,
  TraceSpan,
} from '@topology/trace-aggregate';
import { ClickHouseExecutor, sqlFile } from './clickhouse-executor';
import { EdgeSeries, RequestEdgeWindow } from './request-edge-window';

/** Settings of the request-layer store. Every default is in `DEFAULT_REQUEST_STORE_CONFIG`. */
export interface RequestStoreConfig {
  /** Width of the aggregator's time buckets, milliseconds: a read takes every bucket overlapping its range. */
  bucketMs: number;
  /** Edge buckets and nodes older than this (event time) are deleted by ClickHouse TTL, milliseconds. */
  retentionMs: number;
  /** Spans are deleted this long after they were written, milliseconds. */
  spanRetentionMs: number;
  /** Recent history held in memory for traversals, milliseconds back from the newest bucket. */
  memoryHorizonMs: number;
  /** How often rows written by other processes are read into memory, milliseconds; 0: never (this process writes alone). */
  refreshIntervalMs: number;
  /** Most spans read for one trace overlay. */
  maxTraceSpans: number;
}

export const DEFAULT_REQUEST_STORE_CONFIG: Readonly<RequestStoreConfig> = {
  bucketMs: 60_000,
  retentionMs: 7 * 24 * 3_600_000,
  spanRetentionMs: 3 * 24 * 3_600_000,
  memoryHorizonMs: 2 * 3_600_000,
  refreshIntervalMs: 5_000,
  maxTraceSpans: 10_000,
};

export const REQUEST_STORE_COUNTERS = {
  rows_rejected: 'Rows refused as invalid (label edge or node); the rest of their batch was written.',
  reads_from_memory: 'Traversals and edge lists answered from the in-memory window.',
  reads_from_clickhouse: 'Traversals and edge lists whose range starts before the in-memory window, answered by a ClickHouse query.',
  refreshes: 'Reads of rows other processes wrote.',
} as const;
export type RequestStoreCounter = keyof typeof REQUEST_STORE_COUNTERS;

const MAX_TTL_SECONDS = 0xffffffff;

const BUCKET_COLUMNS = [
  'granularity',
  'src',
  'dst',
  'bucket_start_ms',
  'scope',
  'version',
  'calls',
  'errors',
  'latency_counts',
  'latency_sum_us',
  'operations',
  'first_seen_ms',
  'last_seen_ms',
] as const;
const NODE_COLUMNS = ['id', 'kind', 'granularity', 'display_name', 'app', 'cluster', 'region', 'first_seen_ms', 'last_seen_ms'] as const;
const SPAN_COLUMNS = [
  'trace_id',
  'span_id',
  'parent_span_id',
  'service',
  'cluster',
  'region',
  'kind',
  'name',
  'start_us',
  'duration_us',
  'error',
  'shared_server',
  'peer_name',
  'peer_source',
] as const;
/** Rows written this long before the last refresh are read again: an insert may commit after a later one. */
const REFRESH_OVERLAP_MS = 10_000;

interface BucketRowOut {
  granularity: string;
  src: string;
  dst: string;
  bucket_start_ms: number | string;
  scope: string;
  version: number | string;
  calls: number | string;
  errors: number | string;
  latency_counts: (number | string)[];
  latency_sum_us: number | string;
  operations: Record<string, number | string>;
  first_seen_ms: number | string;
  last_seen_ms: number | string;
  written_ms: number | string;
}

type FoldedRowOut = Pick<BucketRowOut, 'src' | 'dst' | 'calls' | 'errors' | 'latency_counts' | 'latency_sum_us' | 'operations' | 'first_seen_ms' | 'last_seen_ms'>;

interface NodeRowOut {
  id: string;
  kind: string;
  granularity: string;
  display_name: string;
  app: string;
  cluster: string;
  region: string;
  first_seen_ms: number | string;
  last_seen_ms: number | string;
  written_ms: number | string;
}

interface SpanRowOut {
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  service: string;
  cluster: string;
  region: string;
  kind: string;
  name: string;
  start_us: number | string;
  duration_us: number | string;
  error: boolean | number;
  shared_server: boolean | number;
  peer_name: string;
  peer_source: string;
}

/**
 * The request layer on ClickHouse: edge totals per time bucket, nodes, and a span index for trace
 * overlays, with one set of SQL (`sql/*.sql`, bind parameters only) run by either executor.
 *
 * Writes follow `RequestLayerWriter`'s contract (idempotent; replace per bucket, scope and version).
 * Reads implement the gateway's layer port (`traverse`, `getNodes`, `listEdges`): a range that
 * starts inside the in-memory window (`memoryHorizonMs` back from the newest bucket) is answered
 * from memory, any other by one ClickHouse query folding every edge of the range. This process's
 * writes enter the window as they are written; other writers' every `refreshIntervalMs`.
 */
export class ClickHouseRequestStore implements RequestLayerWriter {
  readonly layer = 'request' as const;
  readonly counters = new CounterSet<RequestStoreCounter>(REQUEST_STORE_COUNTERS);
  private readonly window: RequestEdgeWindow;
  private readonly nodes = new Map<NodeId, NodeRecord>();
  private readonly directory = new ProcessDirectory();
  private lastBucketsWrittenMs = 0;
  private lastNodesWrittenMs = 0;
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  private constructor(
    readonly executor: ClickHouseExecutor,
    readonly config: RequestStoreConfig,
  ) {
    this.window = new RequestEdgeWindow(config.memoryHorizonMs);
  }

  /**
   * Creates the tables if needed, applies the retention, and loads the in-memory window. A reader
   * (`readOnly`, the query gateway beside a trace-aggregator) changes no table: it fails with a
   * StoreError `unavailable` until the writer has created them, and leaves retention to the writer.
   */
  static async open(executor: ClickHouseExecutor, config: Partial<RequestStoreConfig> = {}, options: { readOnly?: boolean } = {}): Promise<ClickHouseRequestStore> {
    const resolved = resolveRequestStoreConfig(config);
    const store = new ClickHouseRequestStore(executor, resolved);
    if (options.readOnly === true) {
      for (const table of STORE_TABLES) {
        const [found] = await executor.rows<{ engine_full: string }>(sqlFile('select-table-engine'), { table });
        if (found === undefined) throw new StoreError('unavailable', `the request store has no table ${table} yet: no trace-aggregator has written to this database`);
      }
    } else {
      const retention = { retention_s: ttlSeconds(resolved.retentionMs) };
      const spanRetention = { retention_s: ttlSeconds(resolved.spanRetentionMs) };
      await createTable(executor, 'request_edge_buckets', 'edge-buckets', retention);
      await createTable(executor, 'request_nodes', 'nodes', retention);
      await createTable(executor, 'request_spans', 'spans', spanRetention);
    }
    const [newest] = await executor.rows<{ newest_ms: number | string; buckets: number | string }>(sqlFile('select-newest-bucket'));
    const hasRows = newest !== undefined && Number(newest.buckets) > 0;
    store.window.cover(hasRows ? Number(newest.newest_ms) - resolved.memoryHorizonMs : Number.NEGATIVE_INFINITY);
    await store.refresh();
    if (resolved.refreshIntervalMs > 0) {
      store.refreshTimer = setInterval(() => void store.refresh().catch(() => undefined), resolved.refreshIntervalMs);
      store.refreshTimer.unref();
    }
    return store;
  }

  /** Rows held in memory, for metrics and tests. */
  get rowsInMemory(): number {
    return this.window.size;
  }

  // Writes.

  async writeEdgeBuckets(rows: readonly RequestEdgeBucket[]): Promise<void> {
    const valid: RequestEdgeBucket[] = [];
    const rejected: unknown[] = [];
    for (const row of rows) (bucketViolation(row) === undefined ? valid : rejected).push(row);
    await this.executor.insert(
      'request_edge_buckets',
      BUCKET_COLUMNS,
      valid.map((r) => [r.granularity, r.src, r.dst, r.bucketStartMs, r.scope, r.version, r.calls, r.errors, r.latencyCounts, r.latencySumUs, r.operations, r.firstSeenMs, r.lastSeenMs]),
    );
    for (const row of valid) this.window.put(row);
    this.refuse('edge', rejected, (r) => bucketViolation(r as RequestEdgeBucket));
  }

  async writeNodes(nodes: readonly RequestNode[]): Promise<void> {
    const valid: RequestNode[] = [];
    const rejected: unknown[] = [];
    for (const node of nodes) (nodeViolation(node) === undefined ? valid : rejected).push(node);
    await this.executor.insert(
      'request_nodes',
      NODE_COLUMNS,
      valid.map((n) => [n.id, n.kind, n.granularity ?? '', n.displayName, n.app ?? '', n.cluster ?? '', n.region ?? '', n.firstSeenMs, n.lastSeenMs]),
    );
    for (const node of valid) this.mergeNode(node);
    this.refuse('node', rejected, (n) => nodeViolation(n as RequestNode));
  }

  async indexSpans(spans: readonly TraceSpan[]): Promise<void> {
    const rows = new Array<unknown[]>(spans.length);
    for (let i = 0; i < spans.length; i++) {
      const s = spans[i] as TraceSpan;
      const process = s.process;
      rows[i] = [
        s.traceId,
        s.spanId,
        s.parentSpanId,
        process.service,
        process.cluster,
        process.region ?? '',
        s.kind,
        s.name,
        s.startUs,
        s.durationUs,
        s.error,
        s.sharedServer,
        s.peer?.name ?? '',
        s.peer?.source ?? '',
      ];
    }
    await this.executor.insert('request_spans', SPAN_COLUMNS, rows);
  }

  private refuse(what: 'edge' | 'node', rejected: unknown[], why: (record: unknown) => string | undefined): void {
    if (rejected.length === 0) return;
    this.counters.inc('rows_rejected', rejected.length, what);
    throw new StoreError('invalid-record', `${rejected.length} ${what} rows refused; the first: ${why(rejected[0])}`, rejected);
  }

  // Reads (the gateway's layer port).

  async getNodes(ids: NodeId[]): Promise<NodeRecord[]> {
    const out: NodeRecord[] = [];
    for (const id of ids) {
      const node = this.nodes.get(id);
      if (node !== undefined) out.push(node);
    }
    return out;
  }

  async listEdges(query: EdgeListQuery): Promise<EdgeRecord[]> {
    const graph = await this.graph(query.granularity, query.range);
    if (query.nodes === undefined) return graph.all();
    // Edges at the given nodes only: one lookup per node and side, not a fold of every edge.
    const found = new Map<string, EdgeRecord>();
    for (const side of ['out', 'in'] as const) for (const edge of graph.edgesAt(query.nodes, side)) found.set(edge.key, edge);
    return [...found.values()];
  }

  async traverse(query: TraversalQuery): Promise<TraversalResult> {
    const graph = await this.graph(query.granularity, query.range);
    return breadthFirst(query, graph);
  }

  /** The service path of one trace at a granularity, from the span index; undefined when no span of it is stored. */
  async tracePath(traceId: string, granularity: Granularity): Promise<TracePath | undefined> {
    const rows = await this.executor.rows<SpanRowOut>(sqlFile('select-trace-spans'), { trace_id: traceId, max_spans: this.config.maxTraceSpans });
    if (rows.length === 0) return undefined;
    return tracePath(traceId, rows.map((r) => this.spanOf(r)), granularity);
  }

  /** Reads rows other processes wrote since the last refresh into memory. */
  refresh(): Promise<void> {
    // One refresh at a time; callers that ask meanwhile share it.
    this.refreshing ??= this.readWritten().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  async close(): Promise<void> {
    if (this.refreshTimer !== undefined) clearInterval(this.refreshTimer);
    await this.refreshing?.catch(() => undefined);
    await this.executor.close();
  }

  private async readWritten(): Promise<void> {
    this.counters.inc('refreshes');
    const buckets = await this.executor.rows<BucketRowOut>(sqlFile('select-buckets-written-since'), {
      since_ms: Math.max(0, this.lastBucketsWrittenMs - REFRESH_OVERLAP_MS),
      from_ms: Number.isFinite(this.window.coveredFromMs) ? Math.max(0, this.window.coveredFromMs) : 0,
    });
    for (const r of buckets) {
      this.window.put(bucketOf(r));
      const written = Number(r.written_ms);
      if (written > this.lastBucketsWrittenMs) this.lastBucketsWrittenMs = written;
    }
    const nodes = await this.executor.rows<NodeRowOut>(sqlFile('select-nodes-written-since'), { since_ms: Math.max(0, this.lastNodesWrittenMs - REFRESH_OVERLAP_MS) });
    for (const r of nodes) {
      this.mergeNode(nodeOf(r));
      const written = Number(r.written_ms);
      if (written > this.lastNodesWrittenMs) this.lastNodesWrittenMs = written;
    }
  }

  private mergeNode(node: RequestNode): void {
    const known = this.nodes.get(node.id);
    if (known === undefined) {
      this.nodes.set(node.id, {
        id: node.id,
        kind: node.kind,
        ...(node.granularity === undefined ? {} : { granularity: node.granularity }),
        displayName: node.displayName,
        ...(node.app === undefined ? {} : { app: node.app }),
        ...(node.cluster === undefined ? {} : { cluster: node.cluster }),
        ...(node.region === undefined ? {} : { region: node.region }),
        health: 'unknown',
        firstSeenMs: node.firstSeenMs,
        lastSeenMs: node.lastSeenMs,
      });
      return;
    }
    // Records handed out earlier are not changed under their readers: replace, do not mutate.
    this.nodes.set(node.id, {
      ...known,
      ...(known.region === undefined && node.region !== undefined ? { region: node.region } : {}),
      firstSeenMs: Math.min(known.firstSeenMs, node.firstSeenMs),
      lastSeenMs: Math.max(known.lastSeenMs, node.lastSeenMs),
    });
  }

  /** The edges of one granularity visible in a range, from memory when the window covers it. */
  private async graph(granularity: Granularity, range: TimeRange): Promise<RangeGraph> {
    const { firstStartMs, toMs } = bucketWindow(range, this.config.bucketMs);
    if (this.window.covers(firstStartMs)) {
      this.counters.inc('reads_from_memory');
      // Buckets are aligned: every range reading the same bucket starts folds the same rows.
      const lastEndMs = Math.ceil(toMs / this.config.bucketMs) * this.config.bucketMs;
      return new WindowGraph(this.window, granularity, firstStartMs, lastEndMs, this.nodes);
    }
    this.counters.inc('reads_from_clickhouse');
    const rows = await this.executor.rows<FoldedRowOut>(sqlFile('select-folded-edges'), {
      granularity,
      from_ms: Math.max(0, firstStartMs),
      to_ms: Math.max(0, toMs),
    });
    return new FoldedGraph(
      granularity,
      rows.map((r) => ({ src: r.src as NodeId, dst: r.dst as NodeId, fold: foldOf(r) })),
      this.nodes,
    );
  }

  private spanOf(r: SpanRowOut): TraceSpan {
    const peerSource = (PEER_SOURCES as readonly string[]).includes(r.peer_source) ? (r.peer_source as PeerSource) : undefined;
    return {
      traceId: r.trace_id,
      spanId: r.span_id,
      parentSpanId: r.parent_span_id,
      process: this.directory.process(r.service, r.cluster, r.region),
      kind: (SPAN_KINDS as readonly string[]).includes(r.kind) ? (r.kind as SpanKind) : 'internal',
      name: r.name,
      startUs: Number(r.start_us),
      durationUs: Number(r.duration_us),
      error: r.error === true || r.error === 1,
      peer: peerSource === undefined || r.peer_name === '' ? undefined : this.directory.peer(r.peer_name, peerSource),
      sharedServer: r.shared_server === true || r.shared_server === 1,
    };
  }
}

/** The edges of one granularity and time range, as the shared breadth-first pass reads them. */
interface RangeGraph extends TraversalGraph {
  all(): EdgeRecord[];
}

function edgeRecord(granularity: Granularity, src: NodeId, dst: NodeId, fold: RequestEdgeFold): EdgeRecord {
  return {
    key: edgeKey(src, dst),
    src,
    dst,
    granularity,
    layers: ['request'],
    props: { request: requestEdgeProps(fold) },
    firstSeenMs: fold.firstSeenMs,
    lastSeenMs: fold.lastSeenMs,
  };
}

/**
 * Edges folded on demand from the in-memory window, per traversal level. A series keeps its last
 * fold with the bucket window and version it was made for, so queries of the same minute (the live
 * view moves by whole buckets) fold each edge once.
 */
class WindowGraph implements RangeGraph {

  constructor(
    private readonly window: RequestEdgeWindow,
    private readonly granularity: Granularity,
    private readonly fromMs: number,
    private readonly toMs: number,
    private readonly nodeRecords: ReadonlyMap<NodeId, NodeRecord>,
  ) {}

  edgesAt(frontier: readonly NodeId[], side: 'out' | 'in'): readonly EdgeRecord[] {
    const out: EdgeRecord[] = [];
    for (const id of frontier) {
      for (const series of this.window.edgesAt(this.granularity, id, side)) {
        const record = this.record(series);
        if (record !== null) out.push(record);
      }
    }
    return out;
  }

  nodes(ids: readonly NodeId[]): readonly NodeRecord[] {
    return lookup(this.nodeRecords, ids);
  }

  all(): EdgeRecord[] {
    const out: EdgeRecord[] = [];
    for (const series of this.window.all(this.granularity)) {
      const record = this.record(series);
      if (record !== null) out.push(record);
    }
    return out;
  }

  /** The series folded over this graph's buckets; null when it has no call there. Records are shared: never changed. */
  private record(series: EdgeSeries): EdgeRecord | null {
    const cached = series.cached;
    if (cached !== undefined && cached.version === series.version && cached.fromMs === this.fromMs && cached.toMs === this.toMs) return cached.value;
    const fold = series.fold(this.fromMs, this.toMs);
    const record = fold === undefined || fold.calls === 0 ? null : edgeRecord(this.granularity, series.src, series.dst, fold);
    series.cached = { fromMs: this.fromMs, toMs: this.toMs, version: series.version, value: record };
    return record;
  }
}

/** Edges folded by ClickHouse over a range outside the window. */
class FoldedGraph implements RangeGraph {
  private readonly records: EdgeRecord[];
  private readonly leaving = new Map<NodeId, EdgeRecord[]>();
  private readonly entering = new Map<NodeId, EdgeRecord[]>();

  constructor(
    granularity: Granularity,
    folds: { src: NodeId; dst: NodeId; fold: RequestEdgeFold }[],
    private readonly nodeRecords: ReadonlyMap<NodeId, NodeRecord>,
  ) {
    this.records = folds.map((f) => edgeRecord(granularity, f.src, f.dst, f.fold));
    for (const r of this.records) {
      push(this.leaving, r.src, r);
      push(this.entering, r.dst, r);
    }
  }

  edgesAt(frontier: readonly NodeId[], side: 'out' | 'in'): readonly EdgeRecord[] {
    const index = side === 'out' ? this.leaving : this.entering;
    const out: EdgeRecord[] = [];
    for (const id of frontier) for (const r of index.get(id) ?? []) out.push(r);
    return out;
  }

  nodes(ids: readonly NodeId[]): readonly NodeRecord[] {
    return lookup(this.nodeRecords, ids);
  }

  all(): EdgeRecord[] {
    return this.records;
  }
}

function lookup(records: ReadonlyMap<NodeId, NodeRecord>, ids: readonly NodeId[]): NodeRecord[] {
  const out: NodeRecord[] = [];
  for (const id of ids) {
    const r = records.get(id);
    if (r !== undefined) out.push(r);
  }
  return out;
}

function push(index: Map<NodeId, EdgeRecord[]>, id: NodeId, record: EdgeRecord): void {
  const list = index.get(id);
  if (list === undefined) index.set(id, [record]);
  else list.push(record);
}

function foldOf(r: FoldedRowOut): RequestEdgeFold {
  const fold = emptyRequestEdgeFold();
  fold.calls = Number(r.calls);
  fold.errors = Number(r.errors);
  r.latency_counts.forEach((c, i) => (fold.latencyCounts[Math.min(i, fold.latencyCounts.length - 1)] += Number(c)));
  fold.latencySumUs = Number(r.latency_sum_us);
  for (const [name, calls] of Object.entries(r.operations)) fold.operations.set(name, Number(calls));
  fold.firstSeenMs = Number(r.first_seen_ms);
  fold.lastSeenMs = Number(r.last_seen_ms);
  return fold;
}

function bucketOf(r: BucketRowOut): RequestEdgeBucket {
  const operations: Record<string, number> = {};
  for (const [name, calls] of Object.entries(r.operations)) operations[name] = Number(calls);
  return {
    granularity: r.granularity as Granularity,
    src: r.src as NodeId,
    dst: r.dst as NodeId,
    bucketStartMs: Number(r.bucket_start_ms),
    scope: r.scope,
    version: Number(r.version),
    calls: Number(r.calls),
    errors: Number(r.errors),
    latencyCounts: r.latency_counts.map(Number),
    latencySumUs: Number(r.latency_sum_us),
    operations,
    firstSeenMs: Number(r.first_seen_ms),
    lastSeenMs: Number(r.last_seen_ms),
  };
}

function nodeOf(r: NodeRowOut): RequestNode {
  return {
    id: r.id as NodeId,
    kind: r.kind as NodeKind,
    ...(r.granularity === '' ? {} : { granularity: r.granularity as Granularity }),
    displayName: r.display_name,
    ...(r.app === '' ? {} : { app: r.app }),
    ...(r.cluster === '' ? {} : { cluster: r.cluster }),
    ...(r.region === '' ? {} : { region: r.region }),
    firstSeenMs: Number(r.first_seen_ms),
    lastSeenMs: Number(r.last_seen_ms),
  };
}

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Why a bucket row cannot be stored, or undefined. */
export function bucketViolation(row: RequestEdgeBucket): string | undefined {
  if (!GRANULARITIES.includes(row.granularity)) return `unknown granularity ${JSON.stringify(row.granularity)}`;
  if (!isNodeId(row.src) || !isNodeId(row.dst)) return `${JSON.stringify(row.src)} -> ${JSON.stringify(row.dst)} is not a pair of node ids`;
  for (const field of ['bucketStartMs', 'version', 'calls', 'errors', 'latencySumUs', 'firstSeenMs', 'lastSeenMs'] as const) {
    if (!isCount(row[field])) return `${field} is not a non-negative integer: ${row[field]}`;
  }
  if (!Array.isArray(row.latencyCounts) || !row.latencyCounts.every(isCount)) return 'latencyCounts holds something other than counts';
  if (!Object.values(row.operations).every(isCount)) return 'operations holds something other than counts';
  if (typeof row.scope !== 'string' || row.scope === '') return 'scope is empty';
  return undefined;
}

function nodeViolation(node: RequestNode): string | undefined {
  if (!isNodeId(node.id)) return `${JSON.stringify(node.id)} is not a node id`;
  if (!NODE_KINDS.includes(node.kind) || !node.id.startsWith(`${node.kind}:`)) return `kind ${JSON.stringify(node.kind)} does not match ${node.id}`;
  if (!isCount(node.firstSeenMs) || !isCount(node.lastSeenMs) || node.firstSeenMs > node.lastSeenMs) return 'first/last seen are not ordered epoch milliseconds';
  return undefined;
}

const TTL_SECONDS = /toIntervalSecond\((?:_CAST\()?(\d+)/;

/**
 * Creates a table if missing; when it exists with another retention, applies the new one (which
 * rewrites its parts, so it is done only when the setting changed).
 */
const STORE_TABLES = ['request_edge_buckets', 'request_nodes', 'request_spans'] as const;

async function createTable(executor: ClickHouseExecutor, table: string, name: string, retention: { retention_s: number }): Promise<void> {
  await executor.command(sqlFile(`create-${name}`), retention);
  const [engine] = await executor.rows<{ engine_full: string }>(sqlFile('select-table-engine'), { table });
  const current = engine === undefined ? undefined : TTL_SECONDS.exec(engine.engine_full)?.[1];
  if (current === undefined || Number(current) !== retention.retention_s) await executor.command(sqlFile(`retain-${name}`), retention);
}

function ttlSeconds(ms: number): number {
  return Math.min(MAX_TTL_SECONDS, Math.ceil(ms / 1000));
}

export function resolveRequestStoreConfig(given: Partial<RequestStoreConfig> = {}): RequestStoreConfig {
  const config: RequestStoreConfig = { ...DEFAULT_REQUEST_STORE_CONFIG };
  for (const key of Object.keys(DEFAULT_REQUEST_STORE_CONFIG) as (keyof RequestStoreConfig)[]) {
    const value = given[key];
    if (value !== undefined) config[key] = value;
  }
  const problems: string[] = [];
  for (const key of Object.keys(config) as (keyof RequestStoreConfig)[]) {
    const value = config[key];
    const min = key === 'refreshIntervalMs' ? 0 : 1;
    if (!Number.isSafeInteger(value) || value < min) problems.push(`${key} must be an integer of at least ${min}, got ${value}`);
  }
  if (config.retentionMs > MAX_TTL_SECONDS * 1000 || config.spanRetentionMs > MAX_TTL_SECONDS * 1000) problems.push('retention beyond 136 years cannot be a ClickHouse TTL');
  if (problems.length > 0) throw new Error(`invalid request store config: ${problems.join('; ')}`);
  return config;
}

