import { ManualClock } from '@topology/model';
import { InMemoryLayerReader } from './testing/in-memory-layer-reader';
import { app, edge, id, netEdge, networkProps, T0 } from './testing/fixtures';
import { TopologyQueryService } from './topology-query-service';

describe('an edge seen by two layers', () => {
  const clock = new ManualClock(T0 + 120_000);
  const webToApiInNetwork = netEdge(id('web'), id('api'), 5000, { firstSeenMs: T0 + 1000, lastSeenMs: T0 + 50_000 });
  const network = new InMemoryLayerReader(
    'network',
    [app('web', { tier: 'tier-1', owner: 'team-web', region: 'eu-west-1', firstSeenMs: T0 - 5000, lastSeenMs: T0 + 10_000 }), app('api'), app('db')],
    [webToApiInNetwork, netEdge(id('api'), id('db'))],
  );
  const application = new InMemoryLayerReader(
    'application',
    [app('web', { domain: 'storefront', health: 'healthy', lastSeenMs: T0 + 90_000 }), app('api', { owner: 'team-api' }), app('db')],
    [
      edge('application', id('web'), id('api'), { application: { calls: 42, errors: 1, endpoints: [] } }, { firstSeenMs: T0, lastSeenMs: T0 + 30_000 }),
      edge('application', id('web'), id('db'), { application: { calls: 7, errors: 0, endpoints: [] } }),
    ],
  );
  const service = new TopologyQueryService(
    [
      { layer: 'application', reader: application },
      { layer: 'network', reader: network },
    ],
    {},
    { clock },
  );

  it('is one edge carrying each layer’s property set, with the union of layers and seen times', async () => {
    const answer = await service.traverse({ roots: ['web'], depth: 2, range: { fromMs: T0, toMs: T0 + 100_000 } });

    const webToApi = answer.edges.filter((e) => e.src === id('web') && e.dst === id('api'));
    expect(webToApi).toHaveLength(1);
    expect(webToApi[0]).toMatchObject({
      layers: ['network', 'application'],
      props: { network: networkProps(5000), application: { calls: 42, errors: 1, endpoints: [] } },
      firstSeenMs: T0,
      lastSeenMs: T0 + 50_000,
    });
    expect(answer.edges.find((e) => e.dst === id('db') && e.src === id('web'))?.layers).toEqual(['application']);
    // The stores' own records are left as they were.
    expect(webToApiInNetwork).toMatchObject({ layers: ['network'], props: { network: networkProps(5000) }, firstSeenMs: T0 + 1000 });
    expect(webToApiInNetwork.props.application).toBeUndefined();
    expect(answer.layerStatus.map((s) => [s.layer, s.state])).toEqual([
      ['network', 'ok'],
      ['application', 'ok'],
    ]);
  });

  it('merges a node from every layer: the nearest distance, context from the richest record, gaps filled from the others', async () => {
    const answer = await service.traverse({ roots: ['app:web'], depth: 2, range: { fromMs: T0, toMs: T0 + 100_000 } });

    const web = answer.nodes.find((n) => n.id === id('web'));
    expect(web).toMatchObject({
      distance: 0,
      layers: ['network', 'application'],
      tier: 'tier-1',
      owner: 'team-web',
      region: 'eu-west-1',
      domain: 'storefront',
      health: 'healthy',
      firstSeenMs: T0 - 5000,
      lastSeenMs: T0 + 90_000,
    });
    // Two hops away in the network layer, one in the application layer.
    expect(answer.nodes.find((n) => n.id === id('db'))?.distance).toBe(1);
    expect(answer.nodes.map((n) => n.id)).toEqual([id('web'), id('api'), id('db')]);
  });
});
