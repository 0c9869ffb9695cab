import { ManualClock } from '@topology/model';
import { InMemoryLayerReader } from './testing/in-memory-layer-reader';
import { app, appEdge, applicationProps, endpoint, id, netEdge, networkProps, T0 } from './testing/fixtures';
import { TopologyQueryService } from './topology-query-service';

/**
 * web → api is seen by both layers, api → db only on the network (the database emits no IPC
 * metrics), web → payments-psp only in the application layer (a SaaS reached through a NAT gateway,
 * so the network layer attributes it to an external node instead).
 */
describe('the unified view of network-only, application-only and shared edges', () => {
  const clock = new ManualClock(T0 + 120_000);
  const checkout = [endpoint('POST /checkout', 90, 3, { latencyP50Ms: 12, latencyP90Ms: 40, latencyP99Ms: 95 }), endpoint('GET /cart', 30, 0)];
  const network = new InMemoryLayerReader(
    'network',
    [app('web', { owner: 'team-web' }), app('api'), app('db', { tier: 'tier-0' })],
    [netEdge(id('web'), id('api'), 4000), netEdge(id('api'), id('db'), 9000)],
  );
  const application = new InMemoryLayerReader(
    'application',
    [app('web', { health: 'healthy' }), app('api', { health: 'degraded' }), app('payments-psp')],
    [appEdge(id('web'), id('api'), 120, 3, checkout), appEdge(id('web'), id('payments-psp'), 40, 0)],
  );
  const service = new TopologyQueryService(
    [
      { layer: 'network', reader: network },
      { layer: 'application', reader: application },
    ],
    {},
    { clock },
  );
  const range = { fromMs: T0, toMs: T0 + 100_000 };

  it('is the union of both layers’ edges, each with the property sets and layers of the layers that saw it', async () => {
    const answer = await service.traverse({ roots: ['web'], depth: 2, range });

    const byKey = new Map(answer.edges.map((e) => [`${e.src} -> ${e.dst}`, e]));
    expect([...byKey.keys()].sort()).toEqual(['app:api -> app:db', 'app:web -> app:api', 'app:web -> app:payments-psp']);
    expect(byKey.get('app:web -> app:api')).toMatchObject({
      layers: ['network', 'application'],
      props: { network: networkProps(4000), application: applicationProps(120, 3, checkout) },
    });
    expect(byKey.get('app:api -> app:db')?.layers).toEqual(['network']);
    expect(byKey.get('app:api -> app:db')?.props).toEqual({ network: networkProps(9000) });
    expect(byKey.get('app:web -> app:payments-psp')?.layers).toEqual(['application']);
    expect(byKey.get('app:web -> app:payments-psp')?.props).toEqual({ application: applicationProps(40, 0) });
    expect(answer.layerStatus.map((s) => s.state)).toEqual(['ok', 'ok']);
  });

  it('lists for each node the layers that saw it, with context merged from both', async () => {
    const answer = await service.traverse({ roots: ['web'], depth: 2, range });

    expect(answer.nodes.map((n) => [n.id, n.distance, n.layers])).toEqual([
      [id('web'), 0, ['network', 'application']],
      [id('api'), 1, ['network', 'application']],
      [id('payments-psp'), 1, ['application']],
      [id('db'), 2, ['network']],
    ]);
    expect(answer.nodes[0]).toMatchObject({ owner: 'team-web', health: 'healthy' });
    expect(answer.nodes[1]?.health).toBe('degraded');
    expect(answer.nodes[3]?.tier).toBe('tier-0');
  });

  it('answers each layer alone when asked for one', async () => {
    const networkOnly = await service.traverse({ roots: ['web'], depth: 2, range, layers: ['network'] });
    expect(networkOnly.edges.map((e) => [e.key, e.layers])).toEqual([
      ['app:web -> app:api', ['network']],
      ['app:api -> app:db', ['network']],
    ]);
    expect(networkOnly.layerStatus.map((s) => s.layer)).toEqual(['network']);

    const applicationOnly = await service.traverse({ roots: ['web'], depth: 2, range, layers: ['application'] });
    expect(applicationOnly.edges.map((e) => e.key).sort()).toEqual(['app:web -> app:api', 'app:web -> app:payments-psp']);
    expect(applicationOnly.edges.every((e) => e.props.network === undefined)).toBe(true);
  });
});
