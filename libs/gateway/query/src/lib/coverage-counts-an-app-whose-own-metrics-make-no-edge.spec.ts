import { ManualClock, type NodeRecord } from '@topology/model';
import { InMemoryLayerReader } from './testing/in-memory-layer-reader';
import { app, appEdge, id, netEdge, T0 } from './testing/fixtures';
import type { LayerReader } from './queries';
import { TopologyQueryService } from './topology-query-service';

const range = { fromMs: T0, toMs: T0 + 100_000 };

/**
 * web and api report client metrics naming their peers. batch calls db by address only; ledger
 * serves legacy, which is not instrumented, and its server metrics name no caller: neither makes an
 * edge, and the ingestor upserts both as reporting. old reported once, long before the range.
 */
function layers(applicationRecords: NodeRecord[] = []): { network: InMemoryLayerReader; application: InMemoryLayerReader } {
  const network = new InMemoryLayerReader(
    'network',
    [app('web'), app('api'), app('db'), app('batch'), app('legacy'), app('ledger', { owner: 'team-ledger', health: 'healthy' }), app('old')],
    [netEdge(id('web'), id('api')), netEdge(id('api'), id('db')), netEdge(id('batch'), id('db')), netEdge(id('legacy'), id('ledger')), netEdge(id('web'), id('old'))],
  );
  const application = new InMemoryLayerReader(
    'application',
    [
      app('web', { reportsIpcMetrics: true }),
      app('api', { reportsIpcMetrics: true }),
      app('db'),
      app('batch', { reportsIpcMetrics: true }),
      app('ledger', { reportsIpcMetrics: true }),
      app('old', { reportsIpcMetrics: true, firstSeenMs: T0 - 7_200_000, lastSeenMs: T0 - 3_600_000 }),
      ...applicationRecords,
    ],
    [appEdge(id('web'), id('api')), appEdge(id('api'), id('db'))],
  );
  return { network, application };
}

function serviceOver(network: LayerReader, application: LayerReader): TopologyQueryService {
  return new TopologyQueryService(
    [
      { layer: 'network', reader: network },
      { layer: 'application', reader: application },
    ],
    {},
    { clock: new ManualClock(T0 + 100_000) },
  );
}

describe('coverage of apps whose own metrics make no edge', () => {
  it('counts as instrumented an app the application layer knows to report, though no edge shows it', async () => {
    const { network, application } = layers();
    const answer = await serviceOver(network, application).coverage({ range });
    expect(answer.networkOnly.map((n) => [n.id, n.layers])).toEqual([
      [id('db'), ['network', 'application']],
      [id('legacy'), ['network']],
      [id('old'), ['network']],
    ]);
    expect(answer).toMatchObject({ networkOnlyCount: 3, applicationOnlyCount: 0, bothCount: 4 });
    expect(answer.layerStatus.map((s) => [s.layer, s.state])).toEqual([
      ['network', 'ok'],
      ['application', 'ok'],
    ]);
  });

  it('falls back to the edges when the application layer cannot give its records', async () => {
    const { network, application } = layers();
    const recordsFail: LayerReader = {
      traverse: (q) => application.traverse(q),
      listEdges: (q) => application.listEdges(q),
      getNodes: () => Promise.reject(new Error('node reads down')),
    };
    const answer = await serviceOver(network, recordsFail).coverage({ range });
    expect(answer.networkOnly.map((n) => n.id)).toEqual([id('batch'), id('db'), id('ledger'), id('legacy'), id('old')]);
    expect(answer.bothCount).toBe(2);
    expect(answer.layerStatus.find((s) => s.layer === 'application')?.state).toBe('failed');
  });

  it('shows the fact on the merged node, whichever layer gave the richest record', async () => {
    const { network, application } = layers();
    const answer = await serviceOver(network, application).getNode({ id: id('ledger'), range });
    expect(answer.node).toMatchObject({ id: id('ledger'), owner: 'team-ledger', health: 'healthy', reportsIpcMetrics: true });
  });
});
