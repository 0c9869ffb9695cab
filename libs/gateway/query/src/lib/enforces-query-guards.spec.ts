import { ManualClock, NodeRecord, nodeId } from '@topology/model';
import { InMemoryLayerReader } from './testing/in-memory-layer-reader';
import { app, id, netEdge, T0 } from './testing/fixtures';
import { QueryError } from './query-error';
import { TraverseRequest } from './queries';
import { TopologyQueryService } from './topology-query-service';

function chain(length: number): InMemoryLayerReader {
  const names = Array.from({ length }, (_, i) => `s${String(i).padStart(2, '0')}`);
  return new InMemoryLayerReader(
    'network',
    names.map((n) => app(n)),
    names.slice(1).map((n, i) => netEdge(id(names[i] ?? ''), id(n))),
  );
}

function star(leaves: number): InMemoryLayerReader {
  const names = Array.from({ length: leaves }, (_, i) => `leaf${String(i).padStart(3, '0')}`);
  return new InMemoryLayerReader(
    'network',
    [app('hub'), ...names.map((n) => app(n))],
    names.map((n) => netEdge(id('hub'), id(n))),
  );
}

const range = { fromMs: T0, toMs: T0 + 100_000 };

async function rejection(service: TopologyQueryService, request: TraverseRequest): Promise<QueryError> {
  const error = await service.traverse(request).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof QueryError)) throw new Error(`expected a QueryError, got ${String(error)}`);
  return error;
}

describe('query guards', () => {
  const clock = new ManualClock(T0 + 30_000);

  it('rejects a depth beyond maxDepth and reads depth 0 as one hop', async () => {
    const service = new TopologyQueryService([{ layer: 'network', reader: chain(10) }], { maxDepth: 3 }, { clock });
    expect(await rejection(service, { roots: ['s00'], depth: 4, range })).toMatchObject({ code: 'invalid-argument', message: 'depth 4 exceeds the maximum of 3' });
    expect((await service.traverse({ roots: ['s00'], depth: 3, range })).nodes.map((n) => n.distance)).toEqual([0, 1, 2, 3]);
    expect((await service.traverse({ roots: ['s00'], depth: 0, range })).nodes.map((n) => n.id)).toEqual([id('s00'), id('s01')]);
  });

  it('clamps the page size to maxPageSize', async () => {
    const service = new TopologyQueryService([{ layer: 'network', reader: star(30) }], { defaultPageSize: 5, maxPageSize: 10 }, { clock });
    expect((await service.traverse({ roots: ['hub'], range })).nodes).toHaveLength(5);
    const page = await service.traverse({ roots: ['hub'], range, pageSize: 500 });
    expect(page.nodes).toHaveLength(10);
    expect(page.nextPageToken).not.toBe('');
  });

  it('says truncated when maxVisited cut the traversal, and never returns more nodes than that', async () => {
    const reader = star(30);
    const service = new TopologyQueryService([{ layer: 'network', reader }], { maxVisited: 12, maxPageSize: 10, defaultPageSize: 10 }, { clock });
    const first = await service.traverse({ roots: ['hub'], range });
    expect(first).toMatchObject({ truncated: true, truncatedReason: 'max-visited' });
    expect(reader.traversals[0]?.maxVisited).toBe(12);
    const second = await service.traverse({ roots: ['hub'], range, pageToken: first.nextPageToken });
    expect(first.nodes.length + second.nodes.length).toBe(12);
    expect(second.nextPageToken).toBe('');
    expect(service.counters.get('truncated_queries')).toBe(2);

    const untouched = await service.traverse({ roots: ['leaf000'], range });
    expect(untouched).toMatchObject({ truncated: false });
    expect(untouched.truncatedReason).toBeUndefined();
  });

  it('caps the union of layers at maxVisited too', async () => {
    const service = new TopologyQueryService(
      [
        { layer: 'network', reader: star(8) },
        { layer: 'application', reader: new InMemoryLayerReader('application', [app('hub'), app('x1'), app('x2'), app('x3')], ['x1', 'x2', 'x3'].map((n) => netEdge(id('hub'), id(n)))) },
      ],
      { maxVisited: 10, maxPageSize: 10, defaultPageSize: 10 },
      { clock },
    );
    const answer = await service.traverse({ roots: ['hub'], range });
    expect(answer.nodes).toHaveLength(10);
    expect(answer.truncated).toBe(true);
    const kept = new Set(answer.nodes.map((n) => n.id));
    expect(answer.edges.every((e) => kept.has(e.src) && kept.has(e.dst))).toBe(true);
  });

  it('reads bare root names by granularity and keeps explicit ids as they are', async () => {
    const cluster: NodeRecord = { id: nodeId('cluster', 'api-prod-v001'), kind: 'cluster', granularity: 'cluster', displayName: 'api-prod-v001', health: 'unknown', firstSeenMs: T0, lastSeenMs: T0 };
    const reader = new InMemoryLayerReader('network', [app('api'), cluster], []);
    const service = new TopologyQueryService([{ layer: 'network', reader }], {}, { clock });
    await service.traverse({ roots: ['api'], range });
    await service.traverse({ roots: ['api-prod-v001'], granularity: 'cluster', range });
    await service.traverse({ roots: ['intermediary:lb-1', 'api'], granularity: 'cluster', range }).catch(() => undefined);
    expect(reader.traversals.map((t) => t.roots)).toEqual([['app:api'], ['cluster:api-prod-v001'], ['cluster:api', 'intermediary:lb-1']]);
  });

  it('answers not-found when every layer answered and none knows a root (layers keep unknown roots as bare records)', async () => {
    const service = new TopologyQueryService([{ layer: 'network', reader: chain(3) }], {}, { clock });
    expect(await rejection(service, { roots: ['nowhere'], range })).toMatchObject({ code: 'not-found' });
    // One known root is enough.
    expect((await service.traverse({ roots: ['nowhere', 's00'], range })).nodes.map((n) => n.id)).toEqual([id('nowhere'), id('s00'), id('s01')]);
  });

  it('knows a root the layer has no record of but an edge at', async () => {
    const reader = new InMemoryLayerReader('network', [app('api')], [netEdge(id('ghost'), id('api'))]);
    const service = new TopologyQueryService([{ layer: 'network', reader }], {}, { clock });
    const answer = await service.traverse({ roots: ['ghost'], range });
    expect(answer.edges.map((e) => e.key)).toEqual([`${id('ghost')} -> ${id('api')}`]);
  });

  it('reads a 0/0 range as the live view ending now', async () => {
    const reader = chain(2);
    const service = new TopologyQueryService([{ layer: 'network', reader }], { liveTtlMs: 60_000 }, { clock });
    await service.traverse({ roots: ['s00'], range: { fromMs: 0, toMs: 0 } });
    await service.traverse({ roots: ['s00'] });
    expect(reader.traversals.map((t) => t.range)).toEqual([
      { fromMs: T0 + 30_000 - 60_000, toMs: T0 + 30_001 },
      { fromMs: T0 + 30_000 - 60_000, toMs: T0 + 30_001 },
    ]);
  });

  it.each<[string, Partial<TraverseRequest>, RegExp]>([
    ['no roots', { roots: [] }, /at least one/],
    ['a root with whitespace', { roots: ['a b'] }, /whitespace/],
    ['a root of an unknown kind', { roots: ['pod:x'] }, /not a node id/],
    ['an empty range', { range: { fromMs: T0, toMs: T0 } }, /range is empty/],
    ['a negative range', { range: { fromMs: -5, toMs: T0 } }, /epoch milliseconds/],
    ['a fractional depth', { depth: 1.5 }, /depth/],
    ['a negative page size', { pageSize: -1 }, /page_size/],
    ['an unknown health filter', { filters: { health: ['sick' as never] } }, /health must be one of/],
    ['an unknown direction', { direction: 'sideways' as never }, /direction/],
    ['an unknown layer', { layers: ['logs' as never] }, /layer must be one of/],
    ['too many roots', { roots: Array.from({ length: 11 }, (_, i) => `r${i}`) }, /at most 10 roots/],
  ])('rejects %s as invalid-argument', async (_, change, message) => {
    const service = new TopologyQueryService([{ layer: 'network', reader: chain(3) }], { maxVisited: 10, maxPageSize: 10, defaultPageSize: 10 }, { clock });
    expect(await rejection(service, { roots: ['s00'], range, ...change })).toMatchObject({ code: 'invalid-argument', message: expect.stringMatching(message) });
  });

  it('validates its config at construction, naming every problem', () => {
    const reader = chain(2);
    expect(() => new TopologyQueryService([{ layer: 'network', reader }], { maxDepth: 0, defaultPageSize: 2000, layerTimeoutMs: 1.5 })).toThrow(
      /maxDepth must be a positive integer.*layerTimeoutMs must be a positive integer.*defaultPageSize \(2000\) exceeds maxPageSize/,
    );
    expect(() => new TopologyQueryService([])).toThrow(/at least one layer/);
    expect(
      () =>
        new TopologyQueryService([
          { layer: 'network', reader },
          { layer: 'network', reader },
        ]),
    ).toThrow(/given twice/);
  });
});
