import { ManualClock } from '@topology/model';
import { InMemoryLayerReader } from './testing/in-memory-layer-reader';
import { app, appEdge, id, netEdge, T0 } from './testing/fixtures';
import { TopologyQueryService } from './topology-query-service';

const range = { fromMs: T0, toMs: T0 + 100_000 };

/**
 * web → checkout → payments → ledger (network), checkout → inventory (application);
 * mobile → checkout and admin → web call in; search → inventory and reports → ledger are other
 * callers of checkout's dependencies: siblings, on none of checkout's call paths.
 */
function shop(): TopologyQueryService {
  const nodes = ['web', 'checkout', 'payments', 'ledger', 'inventory', 'mobile', 'admin', 'search', 'reports'].map((n) => app(n));
  const network = new InMemoryLayerReader('network', nodes, [
    netEdge(id('web'), id('checkout')),
    netEdge(id('checkout'), id('payments')),
    netEdge(id('payments'), id('ledger')),
    netEdge(id('mobile'), id('checkout')),
    netEdge(id('admin'), id('web')),
    netEdge(id('reports'), id('ledger')),
  ]);
  const application = new InMemoryLayerReader('application', nodes, [appEdge(id('checkout'), id('inventory')), appEdge(id('search'), id('inventory')), appEdge(id('web'), id('checkout'))]);
  return new TopologyQueryService(
    [
      { layer: 'network', reader: network },
      { layer: 'application', reader: application },
    ],
    {},
    { clock: new ManualClock(T0) },
  );
}

describe('a traversal both ways', () => {
  it('is the service’s upstream and downstream, each walked its own way, without the other callers of its dependencies', async () => {
    const answer = await shop().traverse({ roots: ['checkout'], direction: 'both', depth: 3, range });
    expect(answer.nodes.map((n) => [n.id, n.distance])).toEqual([
      [id('checkout'), 0],
      [id('inventory'), 1],
      [id('mobile'), 1],
      [id('payments'), 1],
      [id('web'), 1],
      [id('admin'), 2],
      [id('ledger'), 2],
    ]);
    expect(answer.edges.map((e) => [e.key, e.layers]).sort()).toEqual(
      [
        ['app:admin -> app:web', ['network']],
        ['app:checkout -> app:inventory', ['application']],
        ['app:checkout -> app:payments', ['network']],
        ['app:mobile -> app:checkout', ['network']],
        ['app:payments -> app:ledger', ['network']],
        ['app:web -> app:checkout', ['network', 'application']],
      ].sort(),
    );
    expect(answer.layerStatus.map((s) => s.state)).toEqual(['ok', 'ok']);
  });

  it('is exactly the union of the walks up and down, a node seen both ways at the fewer hops', async () => {
    const service = shop();
    const [both, down, up] = await Promise.all(
      (['both', 'down', 'up'] as const).map((direction) => service.traverse({ roots: ['web'], direction, depth: 3, range, pageSize: 1000 })),
    );
    const distances = new Map<string, number>();
    for (const n of [...(down?.nodes ?? []), ...(up?.nodes ?? [])]) distances.set(n.id, Math.min(distances.get(n.id) ?? Infinity, n.distance));
    expect(new Map(both?.nodes.map((n) => [n.id, n.distance]))).toEqual(distances);
    expect(new Set(both?.edges.map((e) => e.key))).toEqual(new Set([...(down?.edges ?? []), ...(up?.edges ?? [])].map((e) => e.key)));
  });

  it('one hop away is the same as before: every edge at the service in either direction', async () => {
    const answer = await shop().traverse({ roots: ['checkout'], direction: 'both', depth: 1, range });
    expect(answer.nodes.map((n) => n.id)).toEqual([id('checkout'), id('inventory'), id('mobile'), id('payments'), id('web')]);
  });
});
