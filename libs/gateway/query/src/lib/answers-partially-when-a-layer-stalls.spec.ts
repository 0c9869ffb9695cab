import { ManualClock, TraversalResult } from '@topology/model';
import { InMemoryLayerReader } from './testing/in-memory-layer-reader';
import { app, id, netEdge, T0 } from './testing/fixtures';
import { LayerReader, TraverseResponse } from './queries';
import { TopologyQueryService } from './topology-query-service';

function stalled(): LayerReader {
  const never = <T>() => new Promise<T>(() => undefined);
  return { traverse: () => never<TraversalResult>(), getNodes: () => never(), listEdges: () => never() };
}

function throwing(message: string): LayerReader {
  const fail = () => Promise.reject(new Error(message));
  return { traverse: fail, getNodes: fail, listEdges: fail };
}

describe('a layer that stalls or fails', () => {
  const range = { fromMs: T0, toMs: T0 + 100_000 };
  const network = new InMemoryLayerReader('network', [app('web'), app('api')], [netEdge(id('web'), id('api'))]);

  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('yields a partial answer when the layer timeout fires, with the others’ data and each layer’s state', async () => {
    const service = new TopologyQueryService(
      [
        { layer: 'network', reader: network },
        { layer: 'application', reader: stalled() },
        { layer: 'request', reader: throwing('connection refused') },
      ],
      { layerTimeoutMs: 2000 },
      { clock: new ManualClock(T0) },
    );
    let answer: TraverseResponse | undefined;
    const pending = service.traverse({ roots: ['web'], range }).then((a) => (answer = a));

    await jest.advanceTimersByTimeAsync(1999);
    expect(answer).toBeUndefined();
    await jest.advanceTimersByTimeAsync(1);
    await pending;

    expect(answer?.nodes.map((n) => n.id)).toEqual([id('web'), id('api')]);
    expect(answer?.edges.map((e) => e.key)).toEqual([`${id('web')} -> ${id('api')}`]);
    expect(answer?.layerStatus).toEqual([
      { layer: 'network', state: 'ok', message: '', latencyMs: 0 },
      { layer: 'application', state: 'timed-out', message: 'the application layer did not answer within 2000 ms', latencyMs: 0 },
      { layer: 'request', state: 'failed', message: 'the request layer failed: connection refused', latencyMs: 0 },
    ]);
    expect(service.counters.get('layer_timeouts', 'application')).toBe(1);
    expect(service.counters.get('layer_failures', 'request')).toBe(1);
  });

  it('answers at once, without waiting for the timeout, when every layer answers', async () => {
    const service = new TopologyQueryService([{ layer: 'network', reader: network }], {}, { clock: new ManualClock(T0) });
    const answer = await service.traverse({ roots: ['web'], range });
    expect(answer.layerStatus[0]?.state).toBe('ok');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('reports a requested layer this gateway does not serve instead of failing the query', async () => {
    const service = new TopologyQueryService([{ layer: 'network', reader: network }], {}, { clock: new ManualClock(T0) });
    const answer = await service.traverse({ roots: ['web'], range, layers: ['network', 'request'] });
    expect(answer.nodes).toHaveLength(2);
    expect(answer.layerStatus[1]).toEqual({ layer: 'request', state: 'failed', message: 'the request layer is not served by this gateway', latencyMs: 0 });
  });

  it('answers an unknown root with a partial answer rather than not-found while a layer is silent', async () => {
    const service = new TopologyQueryService(
      [
        { layer: 'network', reader: network },
        { layer: 'application', reader: stalled() },
      ],
      { layerTimeoutMs: 50 },
      { clock: new ManualClock(T0) },
    );
    const pending = service.traverse({ roots: ['checkout'], range });
    await jest.advanceTimersByTimeAsync(50);
    const answer = await pending;
    // The layer that answered keeps the root as a bare record it has never seen.
    expect(answer.nodes).toMatchObject([{ id: id('checkout'), health: 'unknown', lastSeenMs: 0 }]);
    expect(answer.edges).toEqual([]);
    expect(answer.layerStatus.map((s) => s.state)).toEqual(['ok', 'timed-out']);
  });
});
