import { EdgeRecord, ManualClock, NodeRecord } from '@topology/model';
import { InMemoryLayerReader } from './testing/in-memory-layer-reader';
import { app, appEdge, endpoint, id, netEdge, T0 } from './testing/fixtures';
import { QueryError } from './query-error';
import { DiagnoseResponse } from './queries';
import { TopologyQueryService } from './topology-query-service';

const range = { fromMs: T0, toMs: T0 + 100_000 };

function serviceOver(applicationEdges: EdgeRecord[], options: { nodes?: NodeRecord[]; networkEdges?: EdgeRecord[] } = {}): TopologyQueryService {
  const names = ['caller', 'a', 'b', 'c', 'd'];
  const nodes = options.nodes ?? names.map((n) => app(n));
  const networkEdges = options.networkEdges ?? [netEdge(id('caller'), id('a')), netEdge(id('a'), id('b')), netEdge(id('b'), id('c'))];
  return new TopologyQueryService(
    [
      { layer: 'network', reader: new InMemoryLayerReader('network', nodes.map((n) => ({ ...n, health: 'unknown' })), networkEdges) },
      { layer: 'application', reader: new InMemoryLayerReader('application', nodes, applicationEdges) },
    ],
    {},
    { clock: new ManualClock(T0) },
  );
}

function brief(d: DiagnoseResponse): { verdict: string; culprit?: string; suspects: [string, string][] } {
  return { verdict: d.verdict, ...(d.likelyCulprit === undefined ? {} : { culprit: d.likelyCulprit }), suspects: d.suspects.map((s) => [s.node.id, s.path.join(' ')]) };
}

describe('diagnosing a chain a → b → c', () => {
  it('names c, two hops down, with its path, when c fails', async () => {
    const service = serviceOver([appEdge(id('caller'), id('a'), 100, 0), appEdge(id('a'), id('b'), 100, 0), appEdge(id('b'), id('c'), 100, 50, [endpoint('GET /stock', 100, 50)])]);
    const d = await service.diagnose({ id: 'a', range });

    expect(brief(d)).toEqual({ verdict: 'dependency', culprit: id('c'), suspects: [[id('c'), 'app:a app:b app:c']] });
    expect(d.suspects[0]).toMatchObject({ distance: 2, dependence: 1, errorRate: 0.5, evidenceLayers: ['application'] });
    expect(d.suspects[0]?.evidence).toEqual(['errors 50% of 100 calls served (application layer)', 'GET /stock: errors 50% of 100 calls (5xx 50) (application layer)']);
    expect(d.explanation).toBe('app:c is the likeliest cause: errors 50% of 100 calls served (application layer). app:a depends on it through app:a → app:b → app:c (100% of its traffic along that path).');
    expect(d.ownErrorRate).toBe(0);
    expect(service.counters.get('diagnoses', 'dependency')).toBe(1);
  });

  it('still names c when its failure shows all the way up, since b and a only pass it on', async () => {
    const service = serviceOver([appEdge(id('caller'), id('a'), 100, 50), appEdge(id('a'), id('b'), 100, 50), appEdge(id('b'), id('c'), 100, 50)]);
    const d = await service.diagnose({ id: 'a', range });

    expect(brief(d)).toEqual({
      verdict: 'dependency',
      culprit: id('c'),
      suspects: [
        [id('c'), 'app:a app:b app:c'],
        [id('b'), 'app:a app:b'],
      ],
    });
    expect(d.suspects[1]?.score).toBe(0);
    expect(d.suspects[1]?.evidence).toContain('its own calls to its dependencies fail 50%: it passes some of their failure on');
    expect(d.ownErrorRate).toBe(0.5);
    expect(d.explanation).toMatch(/it explains app:a's own failure \(errors 50% of 100 calls served\)\.$/);
  });

  it('names b when b fails and c is healthy', async () => {
    const service = serviceOver([appEdge(id('caller'), id('a'), 100, 30), appEdge(id('a'), id('b'), 100, 30), appEdge(id('b'), id('c'), 100, 0)]);
    const d = await service.diagnose({ id: 'a', range });
    expect(brief(d)).toEqual({ verdict: 'dependency', culprit: id('b'), suspects: [[id('b'), 'app:a app:b']] });
    expect(d.suspects[0]).toMatchObject({ distance: 1, score: 0.3 });
  });

  it('says self when a fails and nothing it calls does', async () => {
    const service = serviceOver([appEdge(id('caller'), id('a'), 100, 40), appEdge(id('a'), id('b'), 100, 0), appEdge(id('b'), id('c'), 100, 0)]);
    const d = await service.diagnose({ id: 'a', range });
    expect(brief(d)).toEqual({ verdict: 'self', suspects: [] });
    expect(d.ownErrorRate).toBe(0.4);
    expect(d.explanation).toBe('app:a is failing (errors 40% of 100 calls served) and its dependencies do not explain it: the calls it makes succeed.');
  });

  it('says self from health alone when no caller reports calls to it', async () => {
    const nodes = ['caller', 'a', 'b', 'c'].map((n) => app(n, n === 'a' ? { health: 'unhealthy' } : {}));
    const service = serviceOver([appEdge(id('a'), id('b'), 100, 0)], { nodes });
    const d = await service.diagnose({ id: 'a', range });
    expect(d.verdict).toBe('self');
    expect(d.explanation).toMatch(/^app:a is failing \(health unhealthy\)/);
  });

  it('says self when a failing dependency accounts for little of the failure', async () => {
    const service = serviceOver([appEdge(id('caller'), id('a'), 100, 80), appEdge(id('a'), id('b'), 1000, 20), appEdge(id('a'), id('d'), 50, 50)], {
      networkEdges: [netEdge(id('a'), id('b')), netEdge(id('a'), id('d'))],
    });
    const d = await service.diagnose({ id: 'a', range });
    expect(brief(d)).toEqual({ verdict: 'self', suspects: [[id('d'), 'app:a app:d']] });
    expect(d.explanation).toMatch(/the calls it makes fail 6\.7%; app:d is failing too, but accounts for little of it\.$/);
  });

  it('finds no signal when nothing fails', async () => {
    const service = serviceOver([appEdge(id('caller'), id('a'), 100, 1), appEdge(id('a'), id('b'), 100, 0), appEdge(id('b'), id('c'), 100, 2)]);
    const d = await service.diagnose({ id: 'a', range });
    expect(brief(d)).toEqual({ verdict: 'no-signal', suspects: [] });
    expect(d.explanation).toBe("nothing within 3 hop(s) of app:a's dependencies, nor app:a itself, shows errors, slowness, network trouble or bad health.");
    expect(service.counters.get('diagnoses', 'no-signal')).toBe(1);
  });

  it('judges by health where no layer reports calls: a degraded b in front of an unhealthy c points to c', async () => {
    const nodes = ['caller', 'a', 'b', 'c'].map((n) => app(n, n === 'b' ? { health: 'degraded' } : n === 'c' ? { health: 'unhealthy' } : {}));
    const service = serviceOver([], { nodes });
    const d = await service.diagnose({ id: 'a', range });
    expect(brief(d)).toEqual({
      verdict: 'dependency',
      culprit: id('c'),
      suspects: [
        [id('c'), 'app:a app:b app:c'],
        [id('b'), 'app:a app:b'],
      ],
    });
    expect(d.suspects[0]?.evidence).toEqual(['health unhealthy (application layer)']);
    expect(d.suspects[1]?.evidence).toEqual(['health degraded (application layer)', 'about 100% of its traffic goes to dependencies that look unhealthy: it may pass their failure on']);
  });

  it('does not judge an error rate on too few calls', async () => {
    const service = serviceOver([appEdge(id('a'), id('b'), 100, 0), appEdge(id('b'), id('c'), 5, 5)]);
    expect((await service.diagnose({ id: 'a', range })).verdict).toBe('no-signal');
  });

  it('looks only as deep as asked', async () => {
    const service = serviceOver([appEdge(id('a'), id('b'), 100, 0), appEdge(id('b'), id('c'), 100, 50)]);
    expect((await service.diagnose({ id: 'a', range, depth: 1 })).verdict).toBe('no-signal');
    expect((await service.diagnose({ id: 'a', range, depth: 2 })).likelyCulprit).toBe(id('c'));
  });

  it('answers not-found for a service no layer knows', async () => {
    const service = serviceOver([]);
    const error = await service.diagnose({ id: 'nowhere', range }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryError);
    expect(error).toMatchObject({ code: 'not-found' });
  });
});

describe('diagnosing while a layer stalls', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('judges from the layers that answered and says which did not', async () => {
    const network = new InMemoryLayerReader('network', ['a', 'b'].map((n) => app(n)), [netEdge(id('a'), id('b'))]);
    const stalled = { traverse: () => new Promise<never>(() => undefined), getNodes: () => new Promise<never>(() => undefined), listEdges: () => new Promise<never>(() => undefined) };
    const service = new TopologyQueryService(
      [
        { layer: 'network', reader: network },
        { layer: 'application', reader: stalled },
      ],
      { layerTimeoutMs: 500 },
      { clock: new ManualClock(T0) },
    );
    const pending = service.diagnose({ id: 'a', range });
    await jest.advanceTimersByTimeAsync(500);
    const d = await pending;
    expect(d.verdict).toBe('no-signal');
    expect(d.layerStatus.map((s) => [s.layer, s.state])).toEqual([
      ['network', 'ok'],
      ['application', 'timed-out'],
    ]);
  });
});
