import { ManualClock, nodeId, NodeRecord, TraversalResult } from '@topology/model';
import { InMemoryLayerReader } from './testing/in-memory-layer-reader';
import { app, edge, id, netEdge, networkProps, T0 } from './testing/fixtures';
import { LayerReader } from './queries';
import { TopologyQueryService } from './topology-query-service';

describe('node details', () => {
  const clock = new ManualClock(T0 + 30_000);
  const range = { fromMs: T0, toMs: T0 + 100_000 };
  const network = new InMemoryLayerReader(
    'network',
    [app('api', { tier: 'tier-1' }), app('web'), app('db', { displayName: 'Primary DB' })],
    [netEdge(id('web'), id('api')), netEdge(id('api'), id('db')), netEdge(id('web'), id('db'))],
  );
  const application = new InMemoryLayerReader(
    'application',
    [app('api', { owner: 'team-api' }), app('web'), app('auth')],
    [edge('application', id('web'), id('api'), { application: { calls: 1, errors: 0, endpoints: [] } }), edge('application', id('api'), id('auth'), { application: { calls: 1, errors: 0, endpoints: [] } })],
  );
  const service = new TopologyQueryService(
    [
      { layer: 'network', reader: network },
      { layer: 'application', reader: application },
    ],
    {},
    { clock },
  );

  it('merges the node across layers and lists direct neighbours each way with the layers that saw the edge', async () => {
    const answer = await service.getNode({ id: 'api', range });
    expect(answer.node).toMatchObject({ id: id('api'), tier: 'tier-1', owner: 'team-api', layers: ['network', 'application'], distance: 0 });
    expect(answer.downstream).toEqual([
      { id: id('auth'), displayName: 'auth', layers: ['application'] },
      { id: id('db'), displayName: 'Primary DB', layers: ['network'] },
    ]);
    expect(answer.upstream).toEqual([{ id: id('web'), displayName: 'web', layers: ['network', 'application'] }]);
    expect(answer.layerStatus.map((s) => s.state)).toEqual(['ok', 'ok']);
    expect(answer.truncated).toBe(false);
  });

  it('shows an intermediary’s raw hops, which are all the edges it has', async () => {
    const lb: NodeRecord = { id: nodeId('intermediary', 'lb-1'), kind: 'intermediary', displayName: 'lb-1', health: 'healthy', firstSeenMs: T0, lastSeenMs: T0 };
    const reader = new InMemoryLayerReader('network', [lb, app('web'), app('api')], [
      edge('network', id('web'), lb.id, { network: networkProps(10, true) }),
      edge('network', lb.id, id('api'), { network: networkProps(10, true) }),
    ]);
    const lbService = new TopologyQueryService([{ layer: 'network', reader }], {}, { clock });
    const answer = await lbService.getNode({ id: 'intermediary:lb-1', range });
    expect(answer.upstream.map((n) => n.id)).toEqual([id('web')]);
    expect(answer.downstream.map((n) => n.id)).toEqual([id('api')]);
  });

  it('answers not-found when every layer answered and none knows the node', async () => {
    await expect(service.getNode({ id: 'nowhere', range })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('answers unavailable, not not-found, when the node is unknown to the layers that answered and another failed', async () => {
    const broken: LayerReader = {
      traverse: () => Promise.reject<TraversalResult>(new Error('down')),
      getNodes: () => Promise.reject(new Error('down')),
      listEdges: () => Promise.reject(new Error('down')),
    };
    const partial = new TopologyQueryService(
      [
        { layer: 'network', reader: network },
        { layer: 'application', reader: broken },
      ],
      {},
      { clock },
    );
    await expect(partial.getNode({ id: 'auth', range })).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/application failed/) });
    const api = await partial.getNode({ id: 'api', range });
    expect(api.layerStatus.map((s) => s.state)).toEqual(['ok', 'failed']);
    expect(api.downstream.map((n) => n.id)).toEqual([id('db')]);
  });
});
