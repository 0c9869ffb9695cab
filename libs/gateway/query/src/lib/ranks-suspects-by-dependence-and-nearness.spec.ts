import { EdgeRecord, ManualClock, NodeRecord } from '@topology/model';
import { InMemoryLayerReader } from './testing/in-memory-layer-reader';
import { app, appEdge, edge, endpoint, id, netEdge, networkProps, T0 } from './testing/fixtures';
import { TopologyQueryService } from './topology-query-service';

const range = { fromMs: T0, toMs: T0 + 100_000 };

function serviceOver(network: { nodes: NodeRecord[]; edges: EdgeRecord[] }, application: { nodes: NodeRecord[]; edges: EdgeRecord[] }, diagnosis = {}): TopologyQueryService {
  return new TopologyQueryService(
    [
      { layer: 'network', reader: new InMemoryLayerReader('network', network.nodes, network.edges) },
      { layer: 'application', reader: new InMemoryLayerReader('application', application.nodes, application.edges) },
    ],
    { diagnosis },
    { clock: new ManualClock(T0) },
  );
}

const names = (...ns: string[]) => ns.map((n) => app(n));

describe('ranking suspects', () => {
  it('puts the heavily used dependency ahead of a lightly used one failing just as much', async () => {
    const service = serviceOver(
      { nodes: names('a', 'light', 'heavy'), edges: [netEdge(id('a'), id('light')), netEdge(id('a'), id('heavy'))] },
      { nodes: names('a', 'light', 'heavy'), edges: [appEdge(id('a'), id('light'), 100, 20), appEdge(id('a'), id('heavy'), 900, 180)] },
    );
    const d = await service.diagnose({ id: 'a', range });
    expect(d.suspects.map((s) => [s.node.id, s.dependence, s.errorRate])).toEqual([
      [id('heavy'), 0.9, 0.2],
      [id('light'), 0.1, 0.2],
    ]);
    expect(d.likelyCulprit).toBe(id('heavy'));
    expect(d.suspects[0]?.score).toBeCloseTo(0.18);
    expect(d.suspects[1]?.score).toBeCloseTo(0.02);
  });

  it('weighs a dependency further away less than a direct one of the same dependence and failure', async () => {
    // a → near (half of a's calls) and a → hub → far (the other half): near and far both fail 30%.
    const application = [appEdge(id('a'), id('near'), 100, 30), appEdge(id('a'), id('hub'), 100, 0), appEdge(id('hub'), id('far'), 100, 30)];
    const nodes = names('a', 'near', 'hub', 'far');
    const service = serviceOver({ nodes, edges: [] }, { nodes, edges: application }, { nearnessDecay: 0.5 });
    const d = await service.diagnose({ id: 'a', range });
    expect(d.suspects.map((s) => [s.node.id, s.distance, s.dependence])).toEqual([
      [id('near'), 1, 0.5],
      [id('far'), 2, 0.5],
    ]);
    expect(d.suspects[1]?.score).toBeCloseTo((d.suspects[0]?.score ?? 0) * 0.5);
  });

  it('follows the path that carries most of the dependence, not merely the shortest', async () => {
    // a calls db directly a little, and mostly through api, which sends all its calls to db.
    const nodes = names('a', 'api', 'db');
    const service = serviceOver(
      { nodes, edges: [] },
      { nodes, edges: [appEdge(id('a'), id('db'), 10, 0), appEdge(id('a'), id('api'), 90, 0), appEdge(id('api'), id('db'), 500, 250)] },
    );
    const d = await service.diagnose({ id: 'a', range });
    expect(d.suspects[0]).toMatchObject({ distance: 1, path: [id('a'), id('api'), id('db')], dependence: 0.9 });
  });

  it('weighs an uninstrumented dependency by bytes and judges it by its health and the network', async () => {
    // The database emits no IPC metrics and a's calls to it are not instrumented either: only the
    // network sees a → db, and the application layer's health events say db is unhealthy.
    const service = serviceOver(
      {
        nodes: names('a', 'api', 'db', 'cache'),
        edges: [
          netEdge(id('a'), id('api'), 1000),
          netEdge(id('a'), id('db'), 3000),
          edge('network', id('a'), id('cache'), { network: { ...networkProps(6000), packetsSent: 100, retransmits: 9 } }),
        ],
      },
      { nodes: [app('a'), app('api'), app('db', { health: 'unhealthy' }), app('cache')], edges: [appEdge(id('a'), id('api'), 100, 0)] },
    );
    const d = await service.diagnose({ id: 'a', range });
    expect(d.suspects.map((s) => [s.node.id, s.dependence, s.evidenceLayers, s.evidence[0]])).toEqual([
      [id('cache'), 0.6, ['network'], 'retransmits 9.0% of packets (network layer)'],
      [id('db'), 0.3, ['application'], 'health unhealthy (application layer)'],
    ]);
    expect(d.suspects.map((s) => s.score)).toEqual([0.3, 0.3]);
    // Network trouble (0.5) on 60% of a's bytes weighs as much as an unhealthy node (1.0) on 30%:
    // the tie goes to the nearer, then to the first id.
    expect(d.likelyCulprit).toBe(id('cache'));
  });

  it('counts a slow dependency, and not the caller it makes slow', async () => {
    const slow = [endpoint('GET /search', 200, 0, { latencyP50Ms: 300, latencyP90Ms: 1200, latencyP99Ms: 2500 })];
    const nodes = names('a', 'api', 'search');
    const service = serviceOver({ nodes, edges: [] }, { nodes, edges: [appEdge(id('a'), id('api'), 200, 0, [endpoint('GET /', 200, 0, { latencyP99Ms: 2600 })]), appEdge(id('api'), id('search'), 200, 0, slow)] });
    const d = await service.diagnose({ id: 'a', range });
    expect(d.likelyCulprit).toBe(id('search'));
    expect(d.suspects.map((s) => [s.node.id, s.score])).toEqual([
      [id('search'), 0.5 * 0.7],
      [id('api'), 0],
    ]);
    expect(d.suspects[0]?.evidence[0]).toBe('p99 latency 2.5k ms (application layer)');
  });

  it('keeps at most maxSuspects', async () => {
    const leaves = Array.from({ length: 8 }, (_, i) => `s${i}`);
    const nodes = names('a', ...leaves);
    const service = serviceOver({ nodes, edges: [] }, { nodes, edges: leaves.map((l, i) => appEdge(id('a'), id(l), 100 + 10 * i, 50 + 5 * i)) }, { maxSuspects: 3 });
    const d = await service.diagnose({ id: 'a', range });
    expect(d.suspects.map((s) => s.node.id)).toEqual([id('s7'), id('s6'), id('s5')]);
  });
});
