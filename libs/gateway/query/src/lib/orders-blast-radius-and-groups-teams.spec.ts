import { ManualClock, nodeId, NodeRecord } from '@topology/model';
import { InMemoryLayerReader } from './testing/in-memory-layer-reader';
import { app, id, netEdge, networkProps, edge, T0 } from './testing/fixtures';
import { TopologyQueryService } from './topology-query-service';

describe('blast radius', () => {
  const clock = new ManualClock(T0 + 30_000);
  const range = { fromMs: T0, toMs: T0 + 100_000 };
  // Who calls db, directly or not (arrows are calls):
  //   billing ─► db ◄─ api ◄─ web, mobile, batch, ledger, ads
  //   billing ◄─ ledger (so ledger is hit at distance 2 through both api and billing)
  const network = new InMemoryLayerReader(
    'network',
    [
      app('db', { tier: 'tier-0', owner: 'team-data' }),
      app('api', { tier: 'tier-1', owner: 'team-a' }),
      app('billing', { tier: 'tier-0', owner: 'team-b' }),
      app('web', { tier: 'tier-2', owner: 'team-a' }),
      app('mobile'),
      app('batch', { tier: 'tier-0', owner: 'team-c' }),
      app('ledger', { tier: 'tier-10', owner: 'team-b' }),
      app('ads', { tier: 'tier-10' }),
    ],
    [
      netEdge(id('billing'), id('db')),
      netEdge(id('api'), id('db')),
      netEdge(id('web'), id('api')),
      netEdge(id('mobile'), id('api')),
      netEdge(id('batch'), id('api')),
      netEdge(id('ledger'), id('api')),
      netEdge(id('ledger'), id('billing')),
      netEdge(id('ads'), id('api')),
      // What db itself calls is not impacted by db going down.
      netEdge(id('db'), id('web')),
    ],
  );
  const service = new TopologyQueryService([{ layer: 'network', reader: network }], {}, { clock });

  it('orders impacted nodes by distance, then tier (most critical first, no tier last), then id', async () => {
    const answer = await service.blastRadius({ root: 'db', range });
    expect(answer.root.id).toBe(id('db'));
    expect(answer.impacted.map((i) => [i.node.id, i.distance, i.tier ?? '', i.owner ?? ''])).toEqual([
      [id('billing'), 1, 'tier-0', 'team-b'],
      [id('api'), 1, 'tier-1', 'team-a'],
      [id('batch'), 2, 'tier-0', 'team-c'],
      [id('web'), 2, 'tier-2', 'team-a'],
      [id('ads'), 2, 'tier-10', ''],
      [id('ledger'), 2, 'tier-10', 'team-b'],
      [id('mobile'), 2, '', ''],
    ]);
    expect(answer.truncated).toBe(false);
  });

  it('groups teams to notify by owner (unowned nodes under an empty owner): nearest first, then the most affected', async () => {
    const answer = await service.blastRadius({ root: 'app:db', range });
    expect(answer.teams).toEqual([
      { owner: 'team-a', nodeCount: 2, minDistance: 1, nodeIds: [id('api'), id('web')] },
      { owner: 'team-b', nodeCount: 2, minDistance: 1, nodeIds: [id('billing'), id('ledger')] },
      { owner: '', nodeCount: 2, minDistance: 2, nodeIds: [id('ads'), id('mobile')] },
      { owner: 'team-c', nodeCount: 1, minDistance: 2, nodeIds: [id('batch')] },
    ]);
  });

  it('stops at the requested depth and rejects a depth beyond maxDepth', async () => {
    const one = await service.blastRadius({ root: 'db', depth: 1, range });
    expect(one.impacted.map((i) => i.node.id)).toEqual([id('billing'), id('api')]);
    // Equally near and equally many: by owner name.
    expect(one.teams.map((t) => t.owner)).toEqual(['team-a', 'team-b']);
    await expect(service.blastRadius({ root: 'db', depth: 7, range })).rejects.toMatchObject({ code: 'invalid-argument' });
  });

  it('answers not-found for a root no layer knows', async () => {
    await expect(service.blastRadius({ root: 'nowhere', range })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('follows raw hops when the root is an intermediary, whose clients reach it only through hops', async () => {
    const lb: NodeRecord = { id: nodeId('intermediary', 'lb-1'), kind: 'intermediary', displayName: 'lb-1', intermediaryType: 'load-balancer', health: 'healthy', firstSeenMs: T0, lastSeenMs: T0 };
    const reader = new InMemoryLayerReader(
      'network',
      [lb, app('web', { owner: 'team-a' }), app('api')],
      [edge('network', id('web'), lb.id, { network: networkProps(10, true) }), edge('network', lb.id, id('api'), { network: networkProps(10, true) }), netEdge(id('web'), id('api'))],
    );
    const withLb = new TopologyQueryService([{ layer: 'network', reader }], {}, { clock });
    const answer = await withLb.blastRadius({ root: 'intermediary:lb-1', range });
    expect(answer.impacted.map((i) => i.node.id)).toEqual([id('web')]);
    expect(answer.teams).toEqual([{ owner: 'team-a', nodeCount: 1, minDistance: 1, nodeIds: [id('web')] }]);
  });
});
