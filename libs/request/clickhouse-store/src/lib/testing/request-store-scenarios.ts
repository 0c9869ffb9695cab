import { EdgeRecord, ManualClock, NodeId, StoreError, TraversalQuery } from '@topology/model';
import {
  DEFAULT_TRACE_AGGREGATOR_CONFIG,
  RequestEdgeBucket,
  SpanDecoder,
  TraceAggregator,
  TraceAggregatorOutput,
} from '@topology/trace-aggregate';
import { readRealdata } from '../testdata/realdata';
import { ClickHouseExecutor } from '../clickhouse-executor';
import { ClickHouseRequestStore, RequestStoreConfig } from '../clickhouse-request-store';

const DAY = 86_400_000;
// SmartThings' trace ran on 2018-11-30: keep it (TTL is wall-clock).
const CONFIG: Partial<RequestStoreConfig> = { retentionMs: 20 * 365 * DAY, spanRetentionMs: 20 * 365 * DAY, refreshIntervalMs: 0 };
const RANGE = { fromMs: Date.UTC(2018, 10, 30, 3), toMs: Date.UTC(2018, 10, 30, 4) };
const TRACE_ID = '14b60fd9ae504820';

function aggregateSmartThings(): TraceAggregatorOutput {
  const { spans } = new SpanDecoder().zipkinJson(readRealdata('zipkin/smartthings-mobile-web-install.json'));
  const aggregator = new TraceAggregator(DEFAULT_TRACE_AGGREGATOR_CONFIG, new ManualClock(Date.UTC(2018, 10, 30, 4)));
  aggregator.accept(spans, 'test/spans.zipkin.v1/0');
  return aggregator.settle();
}

function edgeSummary(edges: readonly EdgeRecord[]): string[] {
  return edges.map((e) => `${e.src} -> ${e.dst} ${e.props.request?.calls}`).sort();
}

function expectedAppEdges(rows: readonly RequestEdgeBucket[]): string[] {
  const calls = new Map<string, number>();
  for (const r of rows) if (r.granularity === 'app') calls.set(`${r.src} -> ${r.dst}`, (calls.get(`${r.src} -> ${r.dst}`) ?? 0) + r.calls);
  return [...calls].map(([k, c]) => `${k} ${c}`).sort();
}

const traversal = (roots: string[], overrides: Partial<TraversalQuery> = {}): TraversalQuery => ({
  roots: roots as NodeId[],
  direction: 'down',
  depth: 2,
  granularity: 'app',
  range: RANGE,
  maxVisited: 1000,
  ...overrides,
});

/**
 * What the request store must do on either executor, against the real engine: the same SQL, the
 * same answers. `connect` opens a new executor on the same data each time it is called (a restart).
 */
export function describeRequestStore(name: string, connect: () => Promise<ClickHouseExecutor>): void {
  describe(`the request store on ${name}`, () => {
    const output = aggregateSmartThings();
    let store: ClickHouseRequestStore;

    beforeAll(async () => {
      store = await ClickHouseRequestStore.open(await connect(), CONFIG);
      await store.writeNodes(output.nodes);
      await store.writeEdgeBuckets(output.buckets);
      await store.indexSpans(output.spans);
    });

    afterAll(async () => {
      await store?.close();
    });

    it('lists the edges written, folded over the range, from memory', async () => {
      const edges = await store.listEdges({ granularity: 'app', range: RANGE });
      expect(edgeSummary(edges)).toEqual(expectedAppEdges(output.buckets));
      expect(edges.length).toBe(28);
      expect(store.counters.get('reads_from_memory')).toBeGreaterThan(0);
    });

    it('traverses by the shared breadth-first rules, with request-layer properties on each edge', async () => {
      const result = await store.traverse(traversal(['app:stLogin']));
      const direct = result.edges.filter((e) => e.src === 'app:stLogin').map((e) => e.dst).sort();
      expect(direct).toEqual(['app:auth', 'app:platformapi', 'app:strongman']);
      expect(result.nodes.find((n) => n.node.id === 'app:execution')?.distance).toBe(2);
      const edge = result.edges.find((e) => e.src === 'app:stLogin' && e.dst === 'app:platformapi');
      expect(edge?.layers).toEqual(['request']);
      expect(edge?.props.request?.calls).toBeGreaterThan(50);
      expect(edge?.props.request?.latencyP50Ms).toBeGreaterThan(0);
      expect(edge?.props.request?.operations.length).toBeGreaterThan(0);
      expect(result.nodes.find((n) => n.node.id === 'app:stLogin')?.node).toMatchObject({ kind: 'app', granularity: 'app', displayName: 'stLogin', health: 'unknown' });
    });

    it('answers a range outside the in-memory window with one ClickHouse query, identically', async () => {
      const narrow = await ClickHouseRequestStore.open(store.executor, { ...CONFIG, memoryHorizonMs: 1 });
      const before = narrow.counters.get('reads_from_clickhouse');
      const fromMemory = await store.traverse(traversal(['app:strongman'], { direction: 'both' }));
      const fromClickHouse = await narrow.traverse(traversal(['app:strongman'], { direction: 'both' }));
      expect(narrow.counters.get('reads_from_clickhouse')).toBe(before + 1);
      expect(fromClickHouse).toEqual(fromMemory);
    });

    it('replaces a bucket row with a higher version, ignores a lower one, and adds rows of another scope', async () => {
      const [row] = output.buckets.filter((r) => r.granularity === 'cluster' && r.src === 'cluster:account' && r.dst === 'cluster:auth');
      if (row === undefined) throw new Error('no account -> auth row');
      const total = async () => (await store.listEdges({ granularity: 'cluster', range: RANGE, nodes: ['cluster:account' as NodeId] })).find((e) => e.dst === 'cluster:auth')?.props.request?.calls;
      const before = await total();
      await store.writeEdgeBuckets([{ ...row, calls: row.calls + 5, version: row.version + 1 }]);
      await store.writeEdgeBuckets([{ ...row, calls: 1, version: row.version - 1 }]);
      await store.writeEdgeBuckets([{ ...row, calls: row.calls + 5, version: row.version + 1 }]);
      expect(await total()).toBe((before ?? 0) + 5);
      await store.writeEdgeBuckets([{ ...row, scope: 'test/otlp_spans/3', calls: 2 }]);
      expect(await total()).toBe((before ?? 0) + 7);
    });

    it('refuses invalid rows after writing the valid rest', async () => {
      const [row] = output.buckets;
      if (row === undefined) throw new Error('no rows');
      const odd = { ...row, src: 'not a node' as NodeId, dst: 'app:x' as NodeId };
      const fresh = { ...row, src: 'app:fresh' as NodeId, dst: 'app:sink' as NodeId, granularity: 'app' as const };
      await expect(store.writeEdgeBuckets([odd, fresh])).rejects.toBeInstanceOf(StoreError);
      expect((await store.listEdges({ granularity: 'app', range: RANGE, nodes: ['app:fresh' as NodeId] })).map((e) => e.dst)).toEqual(['app:sink']);
      expect(store.counters.get('rows_rejected', 'edge')).toBe(1);
    });

    it('lays a stored trace out as its service path', async () => {
      const path = await store.tracePath(TRACE_ID, 'app');
      expect(path?.hops.length).toBeGreaterThan(100);
      const pairs = new Set(path?.hops.map((h) => `${h.src} -> ${h.dst}`));
      const appEdges = new Set(expectedAppEdges(output.buckets).map((e) => e.replace(/ \d+$/, '')));
      expect(pairs).toEqual(appEdges);
      expect(await store.tracePath('ffffffffffffffff', 'app')).toBeUndefined();
    });

    it('serves what the writer wrote to a reader opened read-only, which leaves the tables and their retention as they are', async () => {
      const engines = async () => Promise.all(['request_edge_buckets', 'request_nodes', 'request_spans'].map(async (table) => (await store.executor.rows<{ engine_full: string }>('SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {table:String}', { table }))[0]?.engine_full));
      const before = await engines();
      const reader = await ClickHouseRequestStore.open(store.executor, { ...CONFIG, retentionMs: 2 * DAY, spanRetentionMs: 2 * DAY }, { readOnly: true });
      expect(edgeSummary(await reader.listEdges({ granularity: 'app', range: RANGE }))).toEqual(edgeSummary(await store.listEdges({ granularity: 'app', range: RANGE })));
      expect(await reader.tracePath(TRACE_ID, 'app')).toEqual(await store.tracePath(TRACE_ID, 'app'));
      expect(await engines()).toEqual(before);
      expect(before.every((e) => e !== undefined)).toBe(true);
    });

    it('keeps edges, nodes and spans across a restart', async () => {
      const edgesBefore = edgeSummary(await store.listEdges({ granularity: 'cluster', range: RANGE }));
      const pathBefore = await store.tracePath(TRACE_ID, 'cluster');
      const nodesBefore = await store.getNodes(['app:pusher', 'cluster:pusher'] as NodeId[]);
      await store.close();

      store = await ClickHouseRequestStore.open(await connect(), CONFIG);
      expect(edgeSummary(await store.listEdges({ granularity: 'cluster', range: RANGE }))).toEqual(edgesBefore);
      expect(await store.tracePath(TRACE_ID, 'cluster')).toEqual(pathBefore);
      expect(await store.getNodes(['app:pusher', 'cluster:pusher'] as NodeId[])).toEqual(nodesBefore);
      expect(nodesBefore).toHaveLength(2);
    });

    it('deletes history older than the retention (ClickHouse TTL), and applies a changed retention to existing tables', async () => {
      const now = Date.now();
      const [row] = output.buckets;
      if (row === undefined) throw new Error('no rows');
      const recentBucket = Math.floor((now - DAY) / 60_000) * 60_000;
      await store.writeEdgeBuckets([{ ...row, granularity: 'app', src: 'app:recent' as NodeId, dst: 'app:sink' as NodeId, bucketStartMs: recentBucket, firstSeenMs: recentBucket, lastSeenMs: recentBucket + 1 }]);
      await store.close();

      store = await ClickHouseRequestStore.open(await connect(), { ...CONFIG, retentionMs: 30 * DAY, memoryHorizonMs: 1 });
      expect(await store.listEdges({ granularity: 'app', range: RANGE })).toEqual([]);
      const recent = await store.listEdges({ granularity: 'app', range: { fromMs: recentBucket, toMs: recentBucket + 60_000 } });
      expect(recent.map((e) => e.src)).toEqual(['app:recent']);
    });
  });
}
