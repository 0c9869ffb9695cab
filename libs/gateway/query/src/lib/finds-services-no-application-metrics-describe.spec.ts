import { EdgeRecord, ManualClock, nodeId, NodeRecord } from '@topology/model';
import { InMemoryLayerReader } from './testing/in-memory-layer-reader';
import { app, appEdge, endpoint, id, netEdge, T0 } from './testing/fixtures';
import { LayerReader } from './queries';
import { QueryError } from './query-error';
import { TopologyQueryService } from './topology-query-service';

const range = { fromMs: T0, toMs: T0 + 100_000 };

/**
 * web and api report IPC metrics; db and legacy do not; batch does not either, but api's server
 * metrics describe its calls; payments is a SaaS the network sees only as an external address.
 */
function layers(): { network: InMemoryLayerReader; application: InMemoryLayerReader } {
  const network = new InMemoryLayerReader(
    'network',
    [app('web', { owner: 'team-web' }), app('api'), app('db', { owner: 'team-data', tier: 'tier-0' }), app('legacy'), app('batch'), { ...app('x'), id: nodeId('external', 'payments-psp'), kind: 'external' }],
    [netEdge(id('web'), id('api')), netEdge(id('api'), id('db')), netEdge(id('web'), id('legacy')), netEdge(id('batch'), id('api')), netEdge(id('web'), nodeId('external', 'payments-psp'))],
  );
  const application = new InMemoryLayerReader(
    'application',
    [app('web'), app('api'), app('db'), app('batch'), app('payments-psp', { domain: 'payments' })],
    [
      appEdge(id('web'), id('api')),
      appEdge(id('api'), id('db')),
      appEdge(id('web'), id('payments-psp')),
      appEdge(id('batch'), id('api'), 50, 0, [endpoint('POST /jobs', 50, 0, { serverReportedOnly: true })]),
    ],
  );
  return { network, application };
}

function serviceOver(network: LayerReader, application?: LayerReader): TopologyQueryService {
  return new TopologyQueryService(
    [{ layer: 'network', reader: network }, ...(application === undefined ? [] : [{ layer: 'application' as const, reader: application }])],
    {},
    { clock: new ManualClock(T0) },
  );
}

describe('coverage of the application layer', () => {
  it('lists the services seen on the network that report no application metrics, and the reverse, with counts', async () => {
    const { network, application } = layers();
    const answer = await serviceOver(network, application).coverage({ range });

    expect(answer.networkOnly.map((n) => [n.id, n.layers])).toEqual([
      [id('batch'), ['network', 'application']],
      [id('db'), ['network', 'application']],
      [id('legacy'), ['network']],
    ]);
    expect(answer.applicationOnly.map((n) => [n.id, n.layers])).toEqual([[id('payments-psp'), ['application']]]);
    expect(answer).toMatchObject({ networkOnlyCount: 3, applicationOnlyCount: 1, bothCount: 2, nextPageToken: '' });
    // Each listed node carries the context of the layer it was listed from.
    expect(answer.networkOnly[1]).toMatchObject({ owner: 'team-data', tier: 'tier-0', distance: 0 });
    expect(answer.applicationOnly[0]?.domain).toBe('payments');
    expect(answer.layerStatus.map((s) => [s.layer, s.state])).toEqual([
      ['network', 'ok'],
      ['application', 'ok'],
    ]);
  });

  it('pages through the network-only list and then the application-only list', async () => {
    const { network, application } = layers();
    const service = serviceOver(network, application);
    const first = await service.coverage({ range, pageSize: 2 });
    const second = await service.coverage({ range, pageSize: 2, pageToken: first.nextPageToken });

    expect([first.networkOnly.map((n) => n.id), first.applicationOnly.map((n) => n.id)]).toEqual([[id('batch'), id('db')], []]);
    expect([second.networkOnly.map((n) => n.id), second.applicationOnly.map((n) => n.id)]).toEqual([[id('legacy')], [id('payments-psp')]]);
    expect(second.nextPageToken).toBe('');
    expect(second).toMatchObject({ networkOnlyCount: 3, applicationOnlyCount: 1, bothCount: 2 });
    await expect(service.coverage({ range: { fromMs: T0, toMs: T0 + 5 }, pageToken: first.nextPageToken })).rejects.toMatchObject({ code: 'invalid-argument' });
  });

  it('compares clusters at cluster granularity', async () => {
    const cluster = (name: string): NodeRecord => ({ ...app(name), id: nodeId('cluster', name), kind: 'cluster', granularity: 'cluster', cluster: name });
    const atClusters = (e: EdgeRecord): EdgeRecord => ({ ...e, granularity: 'cluster' });
    const web = nodeId('cluster', 'web-prod-v001');
    const db = nodeId('cluster', 'db-prod-v004');
    const network = new InMemoryLayerReader('network', [cluster('web-prod-v001'), cluster('db-prod-v004'), app('web')], [atClusters(netEdge(web, db)), netEdge(id('web'), id('db'))]);
    const application = new InMemoryLayerReader('application', [cluster('web-prod-v001'), cluster('db-prod-v004')], [atClusters(appEdge(web, db))]);
    const answer = await serviceOver(network, application).coverage({ range, granularity: 'cluster' });
    expect(answer.networkOnly.map((n) => n.id)).toEqual([db]);
    expect(answer).toMatchObject({ applicationOnly: [], bothCount: 1 });
  });

  it('is unavailable when the application layer is not served or does not answer', async () => {
    const { network } = layers();
    const notServed = await serviceOver(network).coverage({ range }).catch((e: unknown) => e);
    expect(notServed).toBeInstanceOf(QueryError);
    expect(notServed).toMatchObject({ code: 'unavailable', message: 'coverage compares the network and application layers: the application layer is not served by this gateway' });

    const failing: LayerReader = { traverse: () => Promise.reject(new Error('down')), getNodes: () => Promise.reject(new Error('down')), listEdges: () => Promise.reject(new Error('down')) };
    await expect(serviceOver(network, failing).coverage({ range })).rejects.toMatchObject({ code: 'unavailable' });
  });
});
