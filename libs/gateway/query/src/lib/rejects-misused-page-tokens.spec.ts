import { ManualClock } from '@topology/model';
import { InMemoryLayerReader } from './testing/in-memory-layer-reader';
import { app, id, netEdge, T0 } from './testing/fixtures';
import { QueryError } from './query-error';
import { TraverseRequest } from './queries';
import { TopologyQueryService } from './topology-query-service';

describe('page tokens', () => {
  const names = ['web', 'api', 'auth', 'db', 'cache', 'queue'];
  const network = new InMemoryLayerReader(
    'network',
    names.map((n) => app(n)),
    names.slice(1).map((n) => netEdge(id('web'), id(n))),
  );
  const service = new TopologyQueryService([{ layer: 'network', reader: network }], {}, { clock: new ManualClock(T0) });
  const request: TraverseRequest = { roots: ['web'], pageSize: 2, range: { fromMs: T0, toMs: T0 + 100_000 } };

  async function firstToken(): Promise<string> {
    const page = await service.traverse(request);
    expect(page.nextPageToken).not.toBe('');
    return page.nextPageToken;
  }

  it.each<[string, Partial<TraverseRequest>]>([
    ['another root', { roots: ['api'] }],
    ['another depth', { depth: 2 }],
    ['another direction', { direction: 'up' }],
    ['another range', { range: { fromMs: T0, toMs: T0 + 200_000 } }],
    ['the live view', { range: { fromMs: 0, toMs: 0 } }],
    ['a filter', { filters: { owners: ['team-a'] } }],
    ['hops included', { includeHops: true }],
    ['another granularity', { granularity: 'cluster', roots: ['app:web'] }],
  ])('rejects a token used with %s', async (_, change) => {
    const pageToken = await firstToken();
    await expect(service.traverse({ ...request, ...change, pageToken })).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringMatching(/different request/),
    });
  });

  it('accepts the same request written differently (a bare name for the id, roots reordered)', async () => {
    const pageToken = await firstToken();
    const page = await service.traverse({ ...request, roots: ['app:web', 'web'], pageToken });
    expect(page.nodes.map((n) => n.id)).toEqual([id('auth'), id('cache')]);
  });

  it('lets the page size change between pages', async () => {
    const pageToken = await firstToken();
    const page = await service.traverse({ ...request, pageSize: 10, pageToken });
    expect(page.nodes.map((n) => n.id)).toEqual([id('auth'), id('cache'), id('db'), id('queue')]);
    expect(page.nextPageToken).toBe('');
  });

  it.each(['garbage', '', 'cDEuMi4zLjQuNQ', Buffer.from('p1.-4.0.abc').toString('base64url'), Buffer.from('p2.4.0.abc').toString('base64url')])(
    'rejects a malformed token %j',
    async (pageToken) => {
      if (pageToken === '') return; // empty means the first page
      const error = await service.traverse({ ...request, pageToken }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QueryError);
      expect(error).toMatchObject({ code: 'invalid-argument', message: expect.stringMatching(/malformed/) });
    },
  );

  it('counts rejected queries by code', async () => {
    const before = service.counters.get('rejected_queries', 'invalid-argument');
    await service.traverse({ ...request, pageToken: 'garbage' }).catch(() => undefined);
    expect(service.counters.get('rejected_queries', 'invalid-argument')).toBe(before + 1);
  });
});
