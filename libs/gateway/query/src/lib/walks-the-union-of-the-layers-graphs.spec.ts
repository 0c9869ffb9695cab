import { ManualClock, NodeRecord, systemClock, TraversalQuery, TraversalResult } from '@topology/model';
import { InMemoryLayerReader } from './testing/in-memory-layer-reader';
import { app, appEdge, id, netEdge, T0 } from './testing/fixtures';
import { LayerReader, TraverseRequest, TraverseResponse } from './queries';
import { TopologyQueryService } from './topology-query-service';

const range = { fromMs: T0, toMs: T0 + 100_000 };

/** edge → api on the network only, api → orders in the application layer only, orders → db on the network only. */
function mixedChain(): { network: InMemoryLayerReader; application: InMemoryLayerReader } {
  const nodes = ['edge', 'api', 'orders', 'db', 'cache'].map((n) => app(n));
  return {
    network: new InMemoryLayerReader('network', nodes, [netEdge(id('edge'), id('api')), netEdge(id('orders'), id('db')), netEdge(id('edge'), id('cache'))]),
    application: new InMemoryLayerReader('application', nodes, [appEdge(id('api'), id('orders')), appEdge(id('cache'), id('db'))]),
  };
}

/** A reader that answers its first `answered` traversals from `inner` and then never again. */
class StallsAfter implements LayerReader {
  private calls = 0;
  constructor(
    private readonly inner: LayerReader,
    private readonly answered: number,
    private readonly delayMs = 0,
  ) {}
  traverse(query: TraversalQuery): Promise<TraversalResult> {
    if (this.calls++ >= this.answered) return new Promise(() => undefined);
    if (this.delayMs === 0) return this.inner.traverse(query);
    return new Promise((resolve) => setTimeout(() => resolve(this.inner.traverse(query)), this.delayMs));
  }
  getNodes(ids: Parameters<LayerReader['getNodes']>[0]): Promise<NodeRecord[]> {
    return this.inner.getNodes(ids);
  }
  listEdges(query: Parameters<LayerReader['listEdges']>[0]): ReturnType<LayerReader['listEdges']> {
    return this.inner.listEdges(query);
  }
}

describe('a traversal over several layers', () => {
  it('reaches nodes that only a mix of the layers’ edges connects, at the fewest hops of any mix', async () => {
    const { network, application } = mixedChain();
    const service = new TopologyQueryService(
      [
        { layer: 'network', reader: network },
        { layer: 'application', reader: application },
      ],
      {},
      { clock: new ManualClock(T0) },
    );
    const answer = await service.traverse({ roots: ['edge'], depth: 3, range });

    expect(answer.nodes.map((n) => [n.id, n.distance, n.layers])).toEqual([
      [id('edge'), 0, ['network', 'application']],
      [id('api'), 1, ['network', 'application']],
      [id('cache'), 1, ['network', 'application']],
      // Through cache (network, then application) db is two hops away; through orders it would be three.
      [id('db'), 2, ['network', 'application']],
      [id('orders'), 2, ['network', 'application']],
    ]);
    expect(answer.edges.map((e) => [e.key, e.layers])).toEqual([
      ['app:edge -> app:api', ['network']],
      ['app:edge -> app:cache', ['network']],
      ['app:cache -> app:db', ['application']],
      ['app:api -> app:orders', ['application']],
      ['app:orders -> app:db', ['network']],
    ]);
    // Each level asks every layer for one hop from that level's frontier.
    expect(network.traversals.map((q) => [q.depth, q.roots])).toEqual([
      [1, [id('edge')]],
      [1, [id('api'), id('cache')]],
      [1, [id('orders'), id('db')]],
    ]);
  });

  it('lists a layer on a node only where that layer has an edge at it', async () => {
    const nodes = ['a', 'b', 'c'].map((n) => app(n));
    const network = new InMemoryLayerReader('network', nodes, [netEdge(id('a'), id('b')), netEdge(id('b'), id('c'))]);
    // The application layer knows c (from long ago) but has no edge near it in the range.
    const application = new InMemoryLayerReader('application', nodes, [appEdge(id('a'), id('b'))]);
    const service = new TopologyQueryService(
      [
        { layer: 'network', reader: network },
        { layer: 'application', reader: application },
      ],
      {},
      { clock: new ManualClock(T0) },
    );
    const answer = await service.traverse({ roots: ['a'], depth: 3, range });
    expect(answer.nodes.map((n) => [n.id, n.layers])).toEqual([
      [id('a'), ['network', 'application']],
      [id('b'), ['network', 'application']],
      [id('c'), ['network']],
    ]);
  });

  it('asks a single layer for the whole depth in one call', async () => {
    const { network } = mixedChain();
    const service = new TopologyQueryService([{ layer: 'network', reader: network }], {}, { clock: new ManualClock(T0) });
    await service.traverse({ roots: ['edge'], depth: 3, range, layers: ['network'] });
    expect(network.traversals.map((q) => q.depth)).toEqual([3]);
  });

  it('cuts the union at maxVisited and says so', async () => {
    const { network, application } = mixedChain();
    const service = new TopologyQueryService(
      [
        { layer: 'network', reader: network },
        { layer: 'application', reader: application },
      ],
      { maxVisited: 4, maxPageSize: 4, defaultPageSize: 4 },
      { clock: new ManualClock(T0) },
    );
    const answer = await service.traverse({ roots: ['edge'], depth: 3, range });
    expect(answer.nodes.map((n) => n.id)).toEqual([id('edge'), id('api'), id('cache'), id('db')]);
    expect(answer).toMatchObject({ truncated: true, truncatedReason: 'max-visited', nextPageToken: '' });
  });

  it('pages the union stably: the pages together are the whole answer', async () => {
    const { network, application } = mixedChain();
    const service = new TopologyQueryService(
      [
        { layer: 'network', reader: network },
        { layer: 'application', reader: application },
      ],
      {},
      { clock: new ManualClock(T0) },
    );
    const request: TraverseRequest = { roots: ['edge'], depth: 3, range };
    const whole = await service.traverse(request);
    const pages: TraverseResponse[] = [];
    let pageToken = '';
    do {
      const page = await service.traverse({ ...request, pageSize: 2, pageToken });
      pages.push(page);
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(pages).toHaveLength(3);
    expect(pages.flatMap((p) => p.nodes.map((n) => n.id))).toEqual(whole.nodes.map((n) => n.id));
    expect(pages.flatMap((p) => p.edges.map((e) => e.key)).sort()).toEqual(whole.edges.map((e) => e.key).sort());
  });

  describe('when a layer stalls part way', () => {
    beforeEach(() => jest.useFakeTimers({ now: T0 }));
    afterEach(() => jest.useRealTimers());

    it('keeps what the layer answered before, marks it timed out, and answers within one layer timeout overall', async () => {
      const { network, application } = mixedChain();
      // The application layer takes 1.5 s for the first hop and never answers the second.
      const service = new TopologyQueryService(
        [
          { layer: 'network', reader: network },
          { layer: 'application', reader: new StallsAfter(application, 1, 1500) },
        ],
        { layerTimeoutMs: 2000 },
        { clock: systemClock },
      );
      let answer: TraverseResponse | undefined;
      const pending = service.traverse({ roots: ['edge'], depth: 3, range }).then((a) => (answer = a));

      await jest.advanceTimersByTimeAsync(1999);
      expect(answer).toBeUndefined();
      await jest.advanceTimersByTimeAsync(1);
      await pending;

      expect(answer?.layerStatus).toEqual([
        { layer: 'network', state: 'ok', message: '', latencyMs: 0 },
        { layer: 'application', state: 'timed-out', message: 'the application layer did not answer within 2000 ms', latencyMs: 2000 },
      ]);
      // The first hop is whole; the second would have needed the application layer (api → orders, cache → db).
      expect(answer?.nodes.map((n) => n.id)).toEqual([id('edge'), id('api'), id('cache')]);
      expect(answer?.edges.map((e) => e.key)).toEqual(['app:edge -> app:api', 'app:edge -> app:cache']);
      expect(service.counters.get('layer_timeouts', 'application')).toBe(1);
    });
  });
});
