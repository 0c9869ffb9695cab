import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import {
  EdgeBucket,
  edgeKey,
  GraphLayerStore,
  mergeNetworkProps,
  NetworkEdgeProps,
  NodeFilters,
  NodeId,
  NodeUpsert,
  StoreError,
} from '@topology/model';
import { app, cluster, external, intermediary, NetworkFixture, shape } from './network-fixture';
import { canDeleteEdgeBuckets } from './record-rules';

export type OpenNetworkStore = (dir: string) => Promise<GraphLayerStore<NetworkEdgeProps>>;

export interface GraphLayerStoreContractOptions {
  /**
   * Opens another instance reading the location `dir` that a writer has open. Adapters whose readers
   * are separate instances (processes) give it; the suite then checks that a reader sees the
   * writer's committed data, including replacements.
   */
  openReader?: OpenNetworkStore;
  /** Per-test timeout in milliseconds, for adapters behind a network. */
  timeoutMs?: number;
}

const k = (src: NodeId, dst: NodeId): string => edgeKey(src, dst);

async function rejection(promise: Promise<unknown>): Promise<StoreError> {
  try {
    await promise;
  } catch (error: unknown) {
    if (error instanceof StoreError) return error;
    throw error;
  }
  throw new Error('expected the write to be rejected');
}

/**
 * The behaviour every `GraphLayerStore` adapter must show, run against a network-layer store.
 * `open(dir)` opens (creating when needed) the store kept at `dir`; opening the same `dir` again
 * must find the same data.
 */
export function describeGraphLayerStoreContract(name: string, open: OpenNetworkStore, options: GraphLayerStoreContractOptions = {}): void {
  describe(`${name} (GraphLayerStore contract)`, () => {
    if (options.timeoutMs !== undefined) jest.setTimeout(options.timeoutMs);

    let dir: string;
    const opened: GraphLayerStore<NetworkEdgeProps>[] = [];

    async function openStore(at = dir, opener: OpenNetworkStore = open): Promise<{ store: GraphLayerStore<NetworkEdgeProps>; f: NetworkFixture }> {
      const store = await opener(at);
      opened.push(store);
      return { store, f: new NetworkFixture(store) };
    }

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'graph-store-contract-'));
    });

    afterEach(async () => {
      for (const store of opened.splice(0).reverse()) await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    describe('nodes', () => {
      it('merges upserts: first seen keeps the minimum, last seen the maximum, given fields replace, absent fields stay', async () => {
        const { store, f } = await openStore();
        const a = app('checkout');
        await store.upsertNodes([f.node(a, { firstSeenMs: f.at(1), lastSeenMs: f.at(2), tier: 'tier-0', owner: 'team-a', health: 'healthy' })]);
        await store.upsertNodes([f.node(a, { displayName: 'Checkout', firstSeenMs: f.at(0), lastSeenMs: f.at(1), tier: 'tier-1' })]);
        const [node] = await store.getNodes([a]);
        expect(node).toMatchObject({
          id: a,
          kind: 'app',
          displayName: 'Checkout',
          firstSeenMs: f.at(0),
          lastSeenMs: f.at(2),
          tier: 'tier-1',
          owner: 'team-a',
          health: 'healthy',
        });
      });

      it('applies upserts of one batch in order and defaults health to unknown', async () => {
        const { store, f } = await openStore();
        const lb = intermediary('lb-1');
        await store.upsertNodes([
          f.node(lb, { intermediaryType: 'load-balancer', region: 'eu-west-1' }),
          f.node(lb, { region: 'us-east-1', lastSeenMs: f.at(5) }),
        ]);
        expect(await store.getNodes([lb])).toEqual([
          expect.objectContaining({ id: lb, intermediaryType: 'load-balancer', region: 'us-east-1', health: 'unknown', lastSeenMs: f.at(5) }),
        ]);
      });

      it('keeps that an app reports IPC metrics once an upsert said so, whatever later upserts and edges say', async () => {
        const { store, f } = await openStore();
        const [reporting, silent, named] = [app('reporting'), app('silent'), app('named')];
        await store.upsertNodes([f.node(reporting, { health: 'healthy' }), f.node(reporting, { reportsIpcMetrics: true }), f.node(silent, { reportsIpcMetrics: false })]);
        await store.upsertNodes([f.node(reporting, { reportsIpcMetrics: false, owner: 'team-a' }), f.node(reporting, { lastSeenMs: f.at(3) })]);
        await store.putEdgeBuckets([f.bucket(reporting, named, 2, 10), f.bucket(silent, named, 2, 10)]);
        const byId = new Map((await store.getNodes([reporting, silent, named])).map((n) => [n.id, n]));
        expect(byId.get(reporting)).toMatchObject({ reportsIpcMetrics: true, owner: 'team-a', health: 'healthy', lastSeenMs: f.at(3) });
        expect(byId.get(silent)?.reportsIpcMetrics).toBeUndefined();
        expect(byId.get(named)?.reportsIpcMetrics).toBeUndefined();
        const reached = await store.traverse(f.query([named], { direction: 'up' }));
        expect(reached.nodes.map((v) => [v.node.id, v.node.reportsIpcMetrics])).toEqual(expect.arrayContaining([[reporting, true], [silent, undefined]]));

        // Retention removes the node, and the fact with it.
        await store.deleteBefore(f.at(10));
        await store.upsertNodes([f.node(reporting, { firstSeenMs: f.at(11), lastSeenMs: f.at(11) + 1 })]);
        expect((await store.getNodes([reporting]))[0]?.reportsIpcMetrics).toBeUndefined();
      });

      it('returns only the nodes it knows, once each', async () => {
        const { store, f } = await openStore();
        await store.upsertNodes([f.node(app('a')), f.node(app('b'))]);
        const nodes = await store.getNodes([app('b'), app('missing'), app('a'), app('b')]);
        expect(nodes.map((n) => n.id).sort()).toEqual([app('a'), app('b')]);
      });

      it('makes the endpoints of a bucket known even when no upsert named them', async () => {
        const { store, f } = await openStore();
        const unknown = 'unknown:private-unmapped/10.1.2.3' as NodeId;
        await store.putEdgeBuckets([f.bucket(app('a'), unknown, 3, 10)]);
        const [node] = await store.getNodes([unknown]);
        expect(node).toMatchObject({ id: unknown, kind: 'unknown', displayName: 'private-unmapped/10.1.2.3', health: 'unknown' });
        expect(node?.firstSeenMs).toBe(f.at(3) + 1);
        expect(node?.lastSeenMs).toBe(f.at(3) + 2);
      });
    });

    describe('buckets', () => {
      it('replaces a bucket written again instead of adding to it', async () => {
        const { store, f } = await openStore();
        const bucket = f.bucket(app('a'), app('b'), 0, 100);
        await store.putEdgeBuckets([bucket]);
        await store.putEdgeBuckets([bucket]);
        const [edge] = await store.listEdges({ granularity: 'app', range: f.range(0, 1) });
        expect(edge?.props.network).toEqual(bucket.props);
        await store.putEdgeBuckets([f.bucket(app('a'), app('b'), 0, 7)]);
        expect(await store.edgeHistory(edgeKey(app('a'), app('b')), f.range(0, 1))).toEqual([
          { bucketStartMs: f.at(0), props: f.bucket(app('a'), app('b'), 0, 7).props },
        ]);
      });

      it('applies writes of one caller in call order, even when not awaited one by one', async () => {
        const { store, f } = await openStore();
        await Promise.all([1, 2, 3, 4].map((bytes) => store.putEdgeBuckets([f.bucket(app('a'), app('b'), 0, bytes)])));
        const [point] = await store.edgeHistory(edgeKey(app('a'), app('b')), f.range(0, 1));
        expect(point?.props.bytesSent).toBe(4);
      });

      it('folds the buckets of a range with the layer merger, and seen times over those buckets', async () => {
        const { store, f } = await openStore();
        const via = [intermediary('lb-1')];
        const buckets = [
          f.bucket(app('a'), app('b'), 0, 10),
          f.bucket(app('a'), app('b'), 1, 20, { props: { ports: [{ port: 80, protocol: 'tcp' }] } }),
          f.bucket(app('a'), app('b'), 2, 40, { props: { paths: [{ via, bytes: 40, confidence: 0.5 }], confidence: 0.5 } }),
          f.bucket(app('a'), app('b'), 5, 1000),
        ];
        await store.putEdgeBuckets(buckets);
        const [edge] = await store.listEdges({ granularity: 'app', range: f.range(0, 3) });
        const [b0, b1, b2] = buckets.map((b) => b.props);
        expect(edge?.props.network).toEqual(mergeNetworkProps(mergeNetworkProps(b0 as NetworkEdgeProps, b1 as NetworkEdgeProps), b2 as NetworkEdgeProps));
        expect(edge).toMatchObject({ src: app('a'), dst: app('b'), granularity: 'app', layers: ['network'], firstSeenMs: f.at(0) + 1, lastSeenMs: f.at(2) + 2 });
      });

      it('reads every bucket that overlaps the range, and none that starts at its end', async () => {
        const { store, f } = await openStore();
        await store.putEdgeBuckets([0, 1, 2, 3].map((i) => f.bucket(app('a'), app('b'), i, 1 << i)));
        const bytes = async (fromMs: number, toMs: number) =>
          (await store.listEdges({ granularity: 'app', range: { fromMs, toMs } }))[0]?.props.network?.bytesSent;
        expect(await bytes(f.at(1) + f.bucketMs / 2, f.at(3))).toBe(2 + 4);
        expect(await bytes(f.at(1), f.at(2) + 1)).toBe(2 + 4);
        expect(await bytes(f.at(4), f.at(9))).toBeUndefined();
      });

      it('keeps per-bucket history, oldest first, within the range', async () => {
        const { store, f } = await openStore();
        const written = [3, 0, 1, 7].map((i) => f.bucket(app('a'), app('b'), i, i + 1));
        await store.putEdgeBuckets(written);
        const history = await store.edgeHistory(edgeKey(app('a'), app('b')), f.range(1, 7));
        expect(history).toEqual([
          { bucketStartMs: f.at(1), props: written[2]?.props },
          { bucketStartMs: f.at(3), props: written[0]?.props },
        ]);
      });
    });

    describe('invalid records', () => {
      it('rejects bad nodes with invalid-record and still writes the rest of the batch', async () => {
        const { store, f } = await openStore();
        const bad = [
          { ...f.node(app('x')), kind: 'bogus' },
          f.node(app('y'), { firstSeenMs: Number.NaN }),
          { ...f.node(app('z')), id: 'not-an-id' },
          f.node(app('w'), { granularity: 'cluster' }),
          { ...f.node(app('v')), reportsIpcMetrics: 'yes' },
        ] as NodeUpsert[];
        const error = await rejection(store.upsertNodes([f.node(app('good-1')), ...bad, f.node(app('good-2'))]));
        expect(error.code).toBe('invalid-record');
        expect(error.rejected).toHaveLength(bad.length);
        expect((await store.getNodes([app('good-1'), app('good-2'), app('x'), app('y'), app('w'), app('v')])).map((n) => n.id).sort()).toEqual([
          app('good-1'),
          app('good-2'),
        ]);
      });

      it('rejects bad buckets with invalid-record and still writes the rest of the batch', async () => {
        const { store, f } = await openStore();
        const good = f.bucket(app('a'), app('b'), 0, 10);
        const bad: EdgeBucket<NetworkEdgeProps>[] = [
          { ...f.bucket(app('a'), app('c'), 0, 10), bucketStartMs: f.at(0) + 1 },
          f.bucket(app('a'), app('d'), 0, Number.NaN),
          { ...f.bucket(app('a'), app('e'), 0, 10), src: 'a b' as NodeId },
          f.bucket(app('a'), app('f'), 0, 10, { granularity: 'cluster' }),
          f.bucket(app('a'), app('g'), 0, 10, { props: { bytesReceived: Number.POSITIVE_INFINITY } }),
        ];
        const error = await rejection(store.putEdgeBuckets([bad[0], good, ...bad.slice(1)] as EdgeBucket<NetworkEdgeProps>[]));
        expect(error.code).toBe('invalid-record');
        expect(error.rejected).toHaveLength(bad.length);
        const edges = await store.listEdges({ granularity: 'app', range: f.range(0, 1) });
        expect(edges.map((e) => e.key)).toEqual([k(app('a'), app('b'))]);
        expect(await store.listEdges({ granularity: 'cluster', range: f.range(0, 1) })).toEqual([]);
      });
    });

    describe('traversal', () => {
      // x → a → b → c → d, a → e → c, b → d
      async function chain() {
        const opened = await openStore();
        const { store, f } = opened;
        const pairs: [string, string][] = [['x', 'a'], ['a', 'b'], ['a', 'e'], ['b', 'c'], ['e', 'c'], ['c', 'd'], ['b', 'd']];
        await store.putEdgeBuckets(pairs.map(([s, d]) => f.bucket(app(s), app(d), 0, 10)));
        return opened;
      }

      it('goes down to the requested depth with fewest-hop distances', async () => {
        const { store, f } = await chain();
        const twoHops = shape(await store.traverse(f.query([app('a')], { depth: 2 })));
        expect(twoHops.nodes).toEqual([[app('a'), 0], [app('b'), 1], [app('e'), 1], [app('c'), 2], [app('d'), 2]]);
        expect(twoHops.edges).toEqual([k(app('a'), app('b')), k(app('a'), app('e')), k(app('b'), app('c')), k(app('b'), app('d')), k(app('e'), app('c'))].sort());
        expect(twoHops.truncated).toBe(false);
        const threeHops = shape(await store.traverse(f.query([app('a')], { depth: 3 })));
        expect(threeHops.nodes).toEqual(twoHops.nodes);
        expect(threeHops.edges).toEqual([...twoHops.edges, k(app('c'), app('d'))].sort());
      });

      it('goes up to the dependents', async () => {
        const { store, f } = await chain();
        const up = shape(await store.traverse(f.query([app('d')], { direction: 'up', depth: 2 })));
        expect(up.nodes).toEqual([[app('d'), 0], [app('b'), 1], [app('c'), 1], [app('a'), 2], [app('e'), 2]]);
        expect(up.edges).toEqual([k(app('a'), app('b')), k(app('b'), app('c')), k(app('b'), app('d')), k(app('c'), app('d')), k(app('e'), app('c'))].sort());
      });

      it('goes both ways', async () => {
        const { store, f } = await chain();
        const both = shape(await store.traverse(f.query([app('e')], { direction: 'both', depth: 1 })));
        expect(both.nodes).toEqual([[app('e'), 0], [app('a'), 1], [app('c'), 1]]);
        expect(both.edges).toEqual([k(app('a'), app('e')), k(app('e'), app('c'))].sort());
        const wider = shape(await store.traverse(f.query([app('e')], { direction: 'both', depth: 2 })));
        expect(wider.nodes).toEqual([[app('e'), 0], [app('a'), 1], [app('c'), 1], [app('b'), 2], [app('d'), 2], [app('x'), 2]]);
      });

      it('starts from several roots and measures distance from the nearest', async () => {
        const { store, f } = await chain();
        const result = shape(await store.traverse(f.query([app('x'), app('c')], { depth: 2 })));
        expect(result.nodes).toEqual([[app('c'), 0], [app('x'), 0], [app('a'), 1], [app('d'), 1], [app('b'), 2], [app('e'), 2]]);
      });

      it('returns full node records with the layer props on edges', async () => {
        const { store, f } = await chain();
        await store.upsertNodes([f.node(app('b'), { owner: 'team-b', tier: 'tier-1' })]);
        const result = await store.traverse(f.query([app('a')]));
        expect(result.nodes.find((n) => n.node.id === app('b'))?.node).toMatchObject({ owner: 'team-b', tier: 'tier-1', kind: 'app' });
        expect(result.edges.find((e) => e.dst === app('b'))?.props.network).toEqual(f.bucket(app('a'), app('b'), 0, 10).props);
      });

      describe('filters', () => {
        // r (matches nothing) → m1 (matches) → n2 (does not) → m3 (matches)
        async function filtered() {
          const opened = await openStore();
          const { store, f } = opened;
          const matching = { tier: 'tier-1', domain: 'payments', owner: 'team-a', region: 'eu-west-1', health: 'healthy' } as const;
          const other = { tier: 'tier-2', domain: 'search', owner: 'team-b', region: 'us-east-1', health: 'degraded' } as const;
          await store.upsertNodes([
            f.node(app('r'), { tier: 'tier-9', domain: 'none', owner: 'nobody', region: 'nowhere', health: 'unhealthy' }),
            f.node(app('m1'), matching),
            f.node(app('n2'), other),
            f.node(app('m3'), matching),
          ]);
          await store.putEdgeBuckets([f.bucket(app('r'), app('m1'), 0, 1), f.bucket(app('m1'), app('n2'), 0, 1), f.bucket(app('n2'), app('m3'), 0, 1)]);
          return opened;
        }

        it.each<[string, NodeFilters]>([
          ['tier', { tiers: ['tier-1'] }],
          ['domain', { domains: ['payments'] }],
          ['owner', { owners: ['team-a'] }],
          ['region', { regions: ['eu-west-1'] }],
          ['health', { health: ['healthy'] }],
        ])('by %s keeps the roots and does not go through nodes that do not match', async (_, filters) => {
          const { store, f } = await filtered();
          const result = shape(await store.traverse(f.query([app('r')], { depth: 3, filters })));
          expect(result.nodes).toEqual([[app('r'), 0], [app('m1'), 1]]);
          expect(result.edges).toEqual([k(app('r'), app('m1'))]);
        });

        it('matches any of several values and all of several filters', async () => {
          const { store, f } = await filtered();
          const anyTier = shape(await store.traverse(f.query([app('r')], { depth: 3, filters: { tiers: ['tier-1', 'tier-2'] } })));
          expect(anyTier.nodes.map(([id]) => id)).toEqual([app('r'), app('m1'), app('n2'), app('m3')]);
          const allOf = shape(await store.traverse(f.query([app('r')], { depth: 3, filters: { tiers: ['tier-1'], owners: ['team-b'] } })));
          expect(allOf.nodes).toEqual([[app('r'), 0]]);
        });
      });

      it('keeps app and cluster granularities apart, also on nodes that exist at both', async () => {
        const { store, f } = await openStore();
        const lb = intermediary('lb-1');
        const ext = external('payments-api');
        await store.putEdgeBuckets([
          f.bucket(app('a'), app('b'), 0, 1),
          f.bucket(app('a'), lb, 0, 2),
          f.bucket(lb, ext, 0, 3, { granularity: 'app' }),
          f.bucket(cluster('a-prod-v001'), cluster('b-prod-v001'), 0, 4),
          f.bucket(cluster('a-prod-v001'), lb, 0, 5),
          f.bucket(lb, ext, 0, 6, { granularity: 'cluster' }),
        ]);
        const atApp = await store.traverse(f.query([app('a')], { depth: 2 }));
        expect(shape(atApp).nodes).toEqual([[app('a'), 0], [app('b'), 1], [lb, 1], [ext, 2]]);
        expect(atApp.edges.find((e) => e.src === lb)?.props.network?.bytesSent).toBe(3);
        expect(atApp.edges.every((e) => e.granularity === 'app')).toBe(true);
        const atCluster = await store.traverse(f.query([lb], { direction: 'both', granularity: 'cluster', depth: 1 }));
        expect(shape(atCluster).nodes).toEqual([[lb, 0], [cluster('a-prod-v001'), 1], [ext, 1]]);
        expect(atCluster.edges.find((e) => e.src === lb)?.props.network?.bytesSent).toBe(6);
        expect(shape(await store.traverse(f.query([cluster('a-prod-v001')]))).nodes).toEqual([[cluster('a-prod-v001'), 0]]);
      });

      it('hides raw hops unless asked, and shows an edge as resolved when any bucket in range resolved it', async () => {
        const { store, f } = await openStore();
        const lb = intermediary('lb-1');
        await store.putEdgeBuckets([
          f.bucket(app('a'), lb, 0, 1, { hop: true }),
          f.bucket(lb, app('b'), 0, 1, { hop: true }),
          f.bucket(app('a'), app('b'), 0, 1),
          f.bucket(app('a'), app('c'), 0, 1, { hop: true }),
          f.bucket(app('a'), app('c'), 1, 1),
        ]);
        const plain = shape(await store.traverse(f.query([app('a')], { depth: 2, range: f.range(0, 2) })));
        expect(plain.nodes).toEqual([[app('a'), 0], [app('b'), 1], [app('c'), 1]]);
        const withHops = await store.traverse(f.query([app('a')], { depth: 2, range: f.range(0, 2), includeHops: true }));
        expect(shape(withHops).nodes).toEqual([[app('a'), 0], [app('b'), 1], [app('c'), 1], [lb, 1]]);
        expect(shape(withHops).edges).toEqual([k(app('a'), app('b')), k(app('a'), app('c')), k(app('a'), lb), k(lb, app('b'))].sort());
        expect(withHops.edges.find((e) => e.dst === app('c'))?.props.network?.hop).toBe(false);
        const hopOnly = shape(await store.traverse(f.query([app('a')], { range: f.range(0, 1) })));
        expect(hopOnly.nodes).toEqual([[app('a'), 0], [app('b'), 1]]);
      });

      it('sees only edges with a bucket in the time range, and only nodes those edges reach', async () => {
        const { store, f } = await openStore();
        await store.upsertNodes([f.node(app('a'))]);
        await store.putEdgeBuckets([
          f.bucket(app('a'), app('b'), 0, 1),
          f.bucket(app('b'), app('c'), 10, 1),
          f.bucket(app('a'), app('gap'), 0, 1),
          f.bucket(app('a'), app('gap'), 20, 1),
          f.bucket(app('a'), app('d'), 10, 1),
          f.bucket(app('d'), app('b'), 12, 1),
        ]);
        const result = shape(await store.traverse(f.query([app('a')], { depth: 3, range: f.range(5, 15) })));
        expect(result.nodes).toEqual([[app('a'), 0], [app('d'), 1], [app('b'), 2], [app('c'), 3]]);
        expect(result.edges).toEqual([k(app('a'), app('d')), k(app('b'), app('c')), k(app('d'), app('b'))]);
        const quiet = shape(await store.traverse(f.query([app('a')], { range: f.range(100, 101) })));
        expect(quiet.nodes).toEqual([[app('a'), 0]]);
        expect(quiet.edges).toEqual([]);
      });

      it('says nothing about a root it has never seen', async () => {
        const { store, f } = await openStore();
        const result = await store.traverse(f.query([app('ghost')], { depth: 3 }));
        expect(result).toEqual({ nodes: [], edges: [], truncated: false });
      });

      it('stops at maxVisited nodes and says it truncated', async () => {
        const { store, f } = await openStore();
        await store.putEdgeBuckets(['b1', 'b2', 'b3', 'b4', 'b5'].map((b) => f.bucket(app('a'), app(b), 0, 1)));
        const cut = shape(await store.traverse(f.query([app('a')], { depth: 2, maxVisited: 3 })));
        expect(cut.truncated).toBe(true);
        expect(cut.nodes).toEqual([[app('a'), 0], [app('b1'), 1], [app('b2'), 1]]);
        expect(cut.edges).toEqual([k(app('a'), app('b1')), k(app('a'), app('b2'))]);
        const whole = shape(await store.traverse(f.query([app('a')], { depth: 2, maxVisited: 6 })));
        expect(whole.truncated).toBe(false);
        expect(whole.nodes).toHaveLength(6);
      });
    });

    describe('listing edges', () => {
      it('lists by granularity and range, hides hops unless asked, and narrows to edges touching given nodes', async () => {
        const { store, f } = await openStore();
        const lb = intermediary('lb-1');
        await store.putEdgeBuckets([
          f.bucket(app('a'), app('b'), 0, 1),
          f.bucket(app('b'), app('c'), 0, 1),
          f.bucket(app('c'), app('d'), 4, 1),
          f.bucket(app('a'), lb, 0, 1, { hop: true }),
          f.bucket(cluster('a-v001'), cluster('b-v001'), 0, 1),
        ]);
        const keys = async (query: Parameters<typeof store.listEdges>[0]) => (await store.listEdges(query)).map((e) => e.key as string).sort();
        expect(await keys({ granularity: 'app', range: f.range(0, 1) })).toEqual([k(app('a'), app('b')), k(app('b'), app('c'))]);
        expect(await keys({ granularity: 'app', range: f.range(0, 1), includeHops: true })).toEqual(
          [k(app('a'), app('b')), k(app('b'), app('c')), k(app('a'), lb)].sort(),
        );
        expect(await keys({ granularity: 'app', range: f.range(0, 5), nodes: [app('c')] })).toEqual([k(app('b'), app('c')), k(app('c'), app('d'))]);
        expect(await keys({ granularity: 'cluster', range: f.range(0, 5) })).toEqual([k(cluster('a-v001'), cluster('b-v001'))]);
      });
    });

    describe('retention', () => {
      it('deletes buckets that ended before the cut-off, edges left without buckets, and nodes last seen before it', async () => {
        const { store, f } = await openStore();
        await store.upsertNodes([f.node(app('idle'), { lastSeenMs: f.at(0) })]);
        await store.putEdgeBuckets([
          f.bucket(app('a'), app('b'), 0, 1),
          f.bucket(app('a'), app('b'), 1, 2),
          f.bucket(app('a'), app('b'), 2, 4),
          f.bucket(app('c'), app('d'), 0, 8),
        ]);
        expect(await store.deleteBefore(f.at(1))).toBe(2);
        expect((await store.edgeHistory(edgeKey(app('a'), app('b')), f.range(0, 3))).map((p) => p.props.bytesSent)).toEqual([2, 4]);
        expect((await store.listEdges({ granularity: 'app', range: f.range(0, 3) })).map((e) => e.key)).toEqual([k(app('a'), app('b'))]);
        expect((await store.getNodes([app('a'), app('b'), app('c'), app('d'), app('idle')])).map((n) => n.id).sort()).toEqual([app('a'), app('b')]);
        expect(await store.deleteBefore(f.at(1))).toBe(0);
      });
    });

    describe('deleting buckets (adapters that can)', () => {
      it('removes the named buckets, drops an edge left without any, and says how many went', async () => {
        const { store, f } = await openStore();
        if (!canDeleteEdgeBuckets(store)) return;
        await store.putEdgeBuckets([f.bucket(app('a'), app('b'), 0, 1), f.bucket(app('a'), app('b'), 1, 2), f.bucket(app('b'), app('c'), 1, 4)]);
        expect((await store.listEdges({ granularity: 'app', range: f.range(0, 2) }))[0]?.props.network?.bytesSent).toBe(3);
        const refs = [
          { src: app('a'), dst: app('b'), granularity: 'app' as const, bucketStartMs: f.at(0) },
          { src: app('b'), dst: app('c'), granularity: 'app' as const, bucketStartMs: f.at(1) },
          { src: app('b'), dst: app('c'), granularity: 'cluster' as const, bucketStartMs: f.at(1) },
        ];
        expect(await store.deleteEdgeBuckets(refs)).toBe(2);
        expect(await store.deleteEdgeBuckets(refs)).toBe(0);
        const edges = await store.listEdges({ granularity: 'app', range: f.range(0, 2) });
        expect(edges.map((e) => [e.key, e.props.network?.bytesSent])).toEqual([[k(app('a'), app('b')), 2]]);
        expect(shape(await store.traverse(f.query([app('b')]))).nodes).toEqual([[app('b'), 0]]);
      });
    });

    describe('durability and readers', () => {
      it('finds its data again after close and reopen', async () => {
        const first = await openStore();
        await first.store.upsertNodes([first.f.node(app('a'), { owner: 'team-a' })]);
        await first.store.putEdgeBuckets([first.f.bucket(app('a'), app('b'), 0, 5)]);
        await first.store.close();
        opened.splice(opened.indexOf(first.store), 1);
        const { store, f } = await openStore();
        expect(await store.getNodes([app('a')])).toEqual([expect.objectContaining({ owner: 'team-a' })]);
        expect((await store.listEdges({ granularity: 'app', range: f.range(0, 1) }))[0]?.props.network?.bytesSent).toBe(5);
      });

      const openReader = options.openReader;
      (openReader ? it : it.skip)('lets a second reader on the same location see what the writer committed', async () => {
        if (!openReader) return;
        const { store: writer, f } = await openStore();
        await writer.putEdgeBuckets([f.bucket(app('a'), app('b'), 0, 5)]);
        const { store: reader } = await openStore(dir, openReader);
        const bytes = async () => (await reader.listEdges({ granularity: 'app', range: f.range(0, 2) }))[0]?.props.network?.bytesSent;
        expect(await bytes()).toBe(5);
        await writer.putEdgeBuckets([f.bucket(app('a'), app('b'), 0, 6)]);
        expect(await bytes()).toBe(6);
        await writer.putEdgeBuckets([f.bucket(app('a'), app('b'), 1, 1), f.bucket(app('b'), app('c'), 1, 1)]);
        expect(await bytes()).toBe(7);
        expect(shape(await reader.traverse(f.query([app('a')], { depth: 2 }))).nodes).toEqual([[app('a'), 0], [app('b'), 1], [app('c'), 2]]);
        await writer.deleteBefore(f.at(1));
        expect(await bytes()).toBe(1);
      });
    });
  });
}
