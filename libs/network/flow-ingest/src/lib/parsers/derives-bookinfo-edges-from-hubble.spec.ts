import type { ObservedFlow } from '../observed-flow';
import { HubbleFlowParser } from './hubble-flow-parser';
import { readRealdata } from './testdata/realdata';

const SAMPLE_FILES = [
  'basic-sample-10-flows.json',
  'basic-sample-330-dns-flows.json',
  'basic-sample-348-http-flows.json',
  'basic-sample-400-icmpv4-flows.json',
  'basic-sample-400-tcp-flows.json',
  'basic-sample-400-udp-flows.json',
  'basic-sample-5-dns-flows.json',
  'basic-sample-5-http-flows.json',
];

interface Parsed {
  file: string;
  line: string;
  flows: ObservedFlow[];
}

/** Each file is its own capture: one parser per file, fed line by line so flows map back to lines. */
function parseSamples(): Parsed[] {
  const parsed: Parsed[] = [];
  for (const file of SAMPLE_FILES) {
    const parser = new HubbleFlowParser();
    for (const line of readRealdata(`hubble/${file}`).split('\n')) {
      if (line.trim() === '') continue;
      const result = parser.parse(line);
      expect(result.rejections).toEqual([]);
      parsed.push({ file, line, flows: result.flows });
    }
  }
  return parsed;
}

function appEdges(parsed: Parsed[]): Set<string> {
  const edges = new Set<string>();
  for (const { flows } of parsed) {
    for (const flow of flows) {
      const client = flow.client.identity?.app;
      const server = flow.server.identity?.app;
      if (client !== undefined && server !== undefined) edges.add(`${client} -> ${server}`);
    }
  }
  return edges;
}

/**
 * Workload-to-workload edges of derived/hubble_edges.csv (non-reply flows keyed by `k8s:app`),
 * with two differences, each explained where it is applied.
 */
function csvEdges(): Set<string> {
  const edges = new Set<string>();
  const rows = readRealdata('derived/hubble_edges.csv').trim().split('\n').slice(1);
  for (const row of rows) {
    const [, src, dst, dstPort] = row.split(',') as [string, string, string, string];
    const client = appOf(src);
    const server = appOf(dst);
    if (client === undefined || server === undefined) continue;
    // The capture's only flow of this pair is jaeger's ACK back to the collector's port 39472,
    // with neither is_reply nor reply set; the collector's request on that 5-tuple was seen a
    // millisecond earlier, so the parser knows it is a reply. The CSV took it for a request.
    if (client === 'jaeger' && server === 'otelcol-hubble-collector' && dstPort === '39472') continue;
    edges.add(`${client} -> ${server}`);
  }
  return edges;
}

function appOf(namespacedName: string): string | undefined {
  const name = namespacedName.slice(namespacedName.indexOf('/') + 1);
  if (name.startsWith('reserved:')) return undefined;
  // Pods without a k8s:app label are keyed by pod name in the CSV; the parser names them by their
  // app.kubernetes.io/name label, which for these collector pods is the DaemonSet's name.
  return name.startsWith('otelcol-hubble-collector-') ? 'otelcol-hubble-collector' : name;
}

describe('Hubble flows of the Bookinfo capture', () => {
  const parsed = parseSamples();
  const edges = appEdges(parsed);

  it('give the workload edges the capture shows, and no reply edges', () => {
    expect([...edges].sort()).toEqual([...csvEdges()].sort());
  });

  it('give exactly the Bookinfo calls, the load generator, and their DNS lookups', () => {
    const bookinfo = new Set(['productpage', 'details', 'reviews', 'ratings', 'kube-dns']);
    const bookinfoEdges = [...edges].filter((edge) => edge.split(' -> ').every((app) => bookinfo.has(app)));
    expect(bookinfoEdges.sort()).toEqual(
      [
        'productpage -> details',
        'productpage -> reviews',
        'reviews -> ratings',
        // In this capture the ratings pod is the load generator: it curls productpage.
        'ratings -> productpage',
        'productpage -> kube-dns',
        'ratings -> kube-dns',
      ].sort(),
    );
  });

  it('never gives world, host, remote-node or health peers a workload identity', () => {
    let reservedEnds = 0;
    for (const { line, flows } of parsed) {
      if (flows.length === 0) continue;
      const { flow } = JSON.parse(line) as { flow: { source: { labels?: string[] }; destination: { labels?: string[] } } };
      const [observed] = flows as [ObservedFlow];
      for (const [labels, end] of [
        [flow.source.labels ?? [], observed.client],
        [flow.destination.labels ?? [], observed.server],
      ] as const) {
        if (!labels.some((label) => label.startsWith('reserved:'))) continue;
        reservedEnds++;
        expect(end.identity).toBeUndefined();
      }
    }
    expect(reservedEnds).toBeGreaterThan(100);
  });

  it('counts a connection seen at two observation points once', () => {
    // ratings → productpage, port 59736: its SYN is reported at the source's egress and again on
    // the way to the proxy.
    const synLines = parsed.filter(({ line }) => line.includes('"source_port":59736,"destination_port":9080,"flags":{"SYN":true}'));
    expect(synLines).toHaveLength(2);
    const onTuple = parsed.flatMap(({ flows }) => flows).filter((f) => f.client.port === 59736 && f.server.port === 9080 && f.client.ip === '10.244.0.206');
    expect(onTuple.reduce((sum, f) => sum + f.connections, 0)).toBe(1);
    expect(onTuple.every((f) => f.bytesSent === 0 && f.packetsSent === 1 && f.observer === 'network')).toBe(true);
  });

  it('names clusters after the owning deployment, also for endpoints reported without a pod name', () => {
    const clusters = new Set<string>();
    for (const { flows } of parsed) {
      for (const f of flows) {
        for (const end of [f.client, f.server]) if (end.identity?.app === 'productpage') clusters.add(end.identity.cluster);
      }
    }
    expect([...clusters]).toEqual(['productpage-v1']);
  });
});
