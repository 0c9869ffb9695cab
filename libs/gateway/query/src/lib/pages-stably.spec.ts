import { EdgeRecord, ManualClock, NodeId } from '@topology/model';
import { InMemoryLayerReader } from './testing/in-memory-layer-reader';
import { app, edge, id, netEdge, T0 } from './testing/fixtures';
import { TopologyNode, TraverseRequest, TraverseResponse } from './queries';
import { TopologyQueryService } from './topology-query-service';

/** A fan-out tree two levels deep with cross links between the leaves, so edges join nodes on different pages. */
function fleet(): { network: InMemoryLayerReader; application: InMemoryLayerReader } {
  const names = ['root'];
  const netEdges: EdgeRecord[] = [];
  for (let a = 0; a < 4; a++) {
    names.push(`a${a}`);
    netEdges.push(netEdge(id('root'), id(`a${a}`)));
    for (let b = 0; b < 3; b++) {
      names.push(`a${a}b${b}`);
      netEdges.push(netEdge(id(`a${a}`), id(`a${a}b${b}`)));
      netEdges.push(netEdge(id(`a${a}b${b}`), id(`a${(a + 1) % 4}b${(b + 1) % 3}`)));
    }
  }
  const calls = { application: { calls: 3, errors: 0, endpoints: [] } };
  // Two edges both layers saw, and one only the application layer saw (bringing a1b1 one hop closer).
  const appEdges = [edge('application', id('root'), id('a0'), calls), edge('application', id('a0'), id('a0b0'), calls), edge('application', id('root'), id('a1b1'), calls)];
  const nodes = names.map((n) => app(n));
  return { network: new InMemoryLayerReader('network', nodes, netEdges), application: new InMemoryLayerReader('application', nodes, appEdges) };
}

async function allPages(service: TopologyQueryService, request: TraverseRequest, between?: () => void): Promise<TraverseResponse[]> {
  const pages: TraverseResponse[] = [];
  let pageToken = '';
  do {
    const page = await service.traverse({ ...request, pageToken });
    pages.push(page);
    pageToken = page.nextPageToken;
    between?.();
  } while (pageToken !== '' && pages.length < 100);
  return pages;
}

describe('paging a traversal', () => {
  const clock = new ManualClock(T0 + 120_000);
  const { network, application } = fleet();
  const service = new TopologyQueryService(
    [
      { layer: 'network', reader: network },
      { layer: 'application', reader: application },
    ],
    {},
    { clock },
  );
  const request: TraverseRequest = { roots: ['root'], depth: 3, range: { fromMs: T0, toMs: T0 + 100_000 } };

  it('cuts the same ordered node list into pages, distance first then id', async () => {
    const whole = await service.traverse({ ...request, pageSize: 1000 });
    const pages = await allPages(service, { ...request, pageSize: 4 });

    expect(whole.nextPageToken).toBe('');
    expect(whole.nodes).toHaveLength(17);
    expect(pages).toHaveLength(5);
    expect(pages.flatMap((p) => p.nodes.map((n) => n.id))).toEqual(whole.nodes.map((n) => n.id));
    const order = (a: TopologyNode, b: TopologyNode) => a.distance - b.distance || (a.id < b.id ? -1 : 1);
    expect([...whole.nodes].sort(order)).toEqual(whole.nodes);
    expect(pages[pages.length - 1]?.nextPageToken).toBe('');
  });

  it('puts each edge on exactly one page, that of its later endpoint, with both endpoints on that page or before', async () => {
    const whole = await service.traverse({ ...request, pageSize: 1000 });
    const pages = await allPages(service, { ...request, pageSize: 4 });

    const seenNodes = new Set<NodeId>();
    const edgeKeys: string[] = [];
    for (const page of pages) {
      for (const node of page.nodes) seenNodes.add(node.id);
      const onThisPage = new Set(page.nodes.map((n) => n.id));
      for (const e of page.edges) {
        expect(seenNodes.has(e.src) && seenNodes.has(e.dst)).toBe(true);
        expect(onThisPage.has(e.src) || onThisPage.has(e.dst)).toBe(true);
        edgeKeys.push(e.key);
      }
    }
    expect(new Set(edgeKeys).size).toBe(edgeKeys.length);
    expect(edgeKeys.sort()).toEqual(whole.edges.map((e) => e.key).sort());
    // root→a0 is seen by both layers and still appears once.
    expect(whole.edges.filter((e) => e.src === id('root') && e.dst === id('a0'))).toHaveLength(1);
    expect(whole.edges).toHaveLength(4 + 12 + 12 + 1);
    expect(whole.nodes.find((n) => n.id === id('a1b1'))?.distance).toBe(1);
  });

  it('pins the live view to the first page’s time so later pages read the same window', async () => {
    const liveClock = new ManualClock(T0 + 60_000);
    const live = new TopologyQueryService(
      [
        { layer: 'network', reader: network },
        { layer: 'application', reader: application },
      ],
      { liveTtlMs: 60_000 },
      { clock: liveClock },
    );
    // Between pages an hour passes: every edge would have left a fresh live view.
    const pages = await allPages(live, { roots: ['root'], depth: 3, pageSize: 5 }, () => liveClock.advance(3_600_000));
    expect(pages.flatMap((p) => p.nodes)).toHaveLength(17);
    expect(pages.flatMap((p) => p.edges)).toHaveLength(29);
    const fresh = await live.traverse({ roots: ['root'], depth: 3 });
    expect(fresh.edges).toHaveLength(0);
  });
});
