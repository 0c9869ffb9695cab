import { HubbleFlowParser, podOwner } from './hubble-flow-parser';

interface FlowSpec {
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  flags?: Record<string, boolean>;
  time?: string;
  extra?: Record<string, unknown>;
  source?: Record<string, unknown>;
  destination?: Record<string, unknown>;
}

const frontend = { identity: 3418, namespace: 'shop', labels: ['k8s:app=frontend', 'k8s:io.kubernetes.pod.namespace=shop'], pod_name: 'frontend-v2-6b746f74dc-9rcxx' };
const cart = { identity: 5239, namespace: 'shop', labels: ['k8s:app=cart', 'k8s:io.kubernetes.pod.namespace=shop'], pod_name: 'cart-79f774bdb9-m4j4k' };

function line(spec: FlowSpec): string {
  const flow = {
    time: spec.time ?? '2021-11-10T10:40:56.467244400Z',
    verdict: 'FORWARDED',
    IP: { source: spec.src ?? '10.244.0.177', destination: spec.dst ?? '10.244.1.193', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: spec.sport ?? 52818, destination_port: spec.dport ?? 9080, ...(spec.flags ? { flags: spec.flags } : {}) } },
    source: spec.source ?? frontend,
    destination: spec.destination ?? cart,
    Type: 'L3_L4',
    ...spec.extra,
  };
  return JSON.stringify({ flow, node_name: 'node-1', time: flow.time });
}

function parse(parser: HubbleFlowParser, specs: FlowSpec[]) {
  const result = parser.parse(specs.map(line).join('\n'));
  expect(result.rejections).toEqual([]);
  return result.flows;
}

describe('Hubble flows', () => {
  it('count a SYN seen at the source egress and the destination ingress as one connection', () => {
    const parser = new HubbleFlowParser();
    const flows = parse(parser, [
      { flags: { SYN: true }, extra: { traffic_direction: 'EGRESS', is_reply: false } },
      { flags: { SYN: true }, extra: { traffic_direction: 'INGRESS', is_reply: false, trace_observation_point: 'TO_ENDPOINT' } },
      { flags: { SYN: true, ACK: true }, src: '10.244.1.193', dst: '10.244.0.177', sport: 9080, dport: 52818, source: cart, destination: frontend, extra: { is_reply: true } },
      { flags: { ACK: true, PSH: true }, extra: { is_reply: false } },
    ]);
    expect(flows.map((f) => f.connections)).toEqual([1, 0, 0]);
    expect(flows.every((f) => f.packetsSent === 1 && f.bytesSent === 0 && f.bytesReceived === 0 && f.observer === 'network')).toBe(true);
    expect(flows.every((f) => f.client.identity?.app === 'frontend' && f.server.identity?.app === 'cart')).toBe(true);
    expect(parser.counters.get('hubble_connections_counted')).toBe(1);
    expect(parser.counters.get('hubble_duplicate_syn')).toBe(1);
    expect(parser.counters.get('hubble_flows_reply')).toBe(1);
  });

  it('remember connections across payloads, and count a new SYN on the same 5-tuple once the memory has expired', () => {
    const parser = new HubbleFlowParser({ memoryTtlMs: 60_000 });
    expect(parse(parser, [{ flags: { SYN: true }, time: '2021-11-10T10:40:00Z' }])[0]?.connections).toBe(1);
    expect(parse(parser, [{ flags: { SYN: true }, time: '2021-11-10T10:40:30Z' }])[0]?.connections).toBe(0);
    expect(parse(parser, [{ flags: { SYN: true }, time: '2021-11-10T10:42:00Z' }])[0]?.connections).toBe(1);
  });

  it('tell replies without is_reply by the reply flag, the handshake, an L7 response, or a connection seen the other way', () => {
    const parser = new HubbleFlowParser();
    const reverse = { src: '10.244.1.193', dst: '10.244.0.177', sport: 9080, dport: 52818, source: cart, destination: frontend };
    const flows = parse(parser, [
      { ...reverse, flags: { ACK: true }, extra: { reply: true } },
      { ...reverse, flags: { SYN: true, ACK: true } },
      { ...reverse, extra: { Type: 'L7', l7: { type: 'RESPONSE', http: { code: 200 } } } },
      // The request direction, flags only: not a reply.
      { flags: { ACK: true, PSH: true } },
      // Now the connection is known: the answer with no reply marker at all is a reply.
      { ...reverse, flags: { ACK: true } },
    ]);
    expect(flows).toHaveLength(1);
    expect(flows[0]?.client.ip).toBe('10.244.0.177');
    expect(parser.counters.get('hubble_flows_reply')).toBe(4);
  });

  it('count L7 requests as evidence of the edge', () => {
    const flows = parse(new HubbleFlowParser(), [
      { extra: { Type: 'L7', is_reply: false, l7: { type: 'REQUEST', http: { method: 'GET', url: 'http://cart:9080/items' } } } },
    ]);
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({ packetsSent: 1, connections: 0, protocol: 'tcp' });
  });

  it('skip dropped packets and events that are not flows, and count them', () => {
    const parser = new HubbleFlowParser();
    const payload = [
      line({ flags: { SYN: true }, extra: { verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED' } }),
      line({ extra: { Type: 'SOCK' } }),
      JSON.stringify({ node_status: { state: 'NODE_CONNECTED' }, node_name: 'node-1', time: '2021-11-10T10:40:56Z' }),
      JSON.stringify({ flow: { time: '2021-11-10T10:40:56Z', verdict: 'FORWARDED', ethernet: { source: 'aa:bb:cc:dd:ee:ff' } } }),
    ].join('\n');
    const result = parser.parse(payload);
    expect(result).toEqual({ flows: [], rejections: [] });
    expect(parser.counters.get('hubble_flows_dropped_verdict')).toBe(1);
    expect(parser.counters.get('hubble_flows_not_connection')).toBe(3);
  });

  it('read bare flows as well as the observe envelope', () => {
    const bare = JSON.parse(line({ flags: { SYN: true } })).flow;
    const result = new HubbleFlowParser().parse(JSON.stringify(bare));
    expect(result.flows).toHaveLength(1);
  });

  it('give reserved peers no identity, and name apps and clusters from labels and owners', () => {
    const world = { identity: 2, labels: ['reserved:world'], pod_name: 'details-v1-79f774bdb9-m4j4k' };
    const dns = { identity: 48342, namespace: 'kube-system', labels: ['k8s:k8s-app=kube-dns'], pod_name: 'coredns-558bd4d5db-x8b4f' };
    const collector = {
      identity: 27806,
      labels: ['k8s:app.kubernetes.io/name=otelcol-hubble-collector'],
      workloads: [{ name: 'otelcol-hubble', kind: 'DaemonSet' }],
      pod_name: 'otelcol-hubble-collector-2t8z4',
    };
    const unlabelled = { identity: 777, pod_name: 'web-0' };
    const flows = parse(new HubbleFlowParser(), [
      { destination: world, sport: 1 },
      { destination: dns, sport: 2 },
      { source: collector, sport: 3 },
      { source: unlabelled, sport: 4 },
    ]);
    expect(flows.map((f) => f.server.identity)).toEqual([undefined, { app: 'kube-dns', cluster: 'coredns' }, expect.anything(), expect.anything()]);
    expect(flows[2]?.client.identity).toEqual({ app: 'otelcol-hubble-collector', cluster: 'otelcol-hubble' });
    expect(flows[3]?.client.identity).toEqual({ app: 'web', cluster: 'web' });
  });

  it('learn the cluster of a security identity from endpoints that name their pod', () => {
    const withoutPod = { identity: 3418, labels: frontend.labels };
    const parser = new HubbleFlowParser();
    const flows = parse(parser, [{ source: withoutPod, sport: 1 }, { sport: 2 }, { source: withoutPod, sport: 3 }]);
    expect(flows.map((f) => f.client.identity?.cluster)).toEqual(['frontend', 'frontend-v2', 'frontend-v2']);
  });

  it('bound the connection memory and count what it evicts', () => {
    const parser = new HubbleFlowParser({ memorySize: 2 });
    parse(parser, [1, 2, 3, 4].map((sport) => ({ sport, flags: { SYN: true } })));
    expect(parser.counters.get('hubble_connection_keys_evicted')).toBeGreaterThanOrEqual(2);
    // The first connection was forgotten, so its SYN, seen again, counts anew.
    expect(parse(parser, [{ sport: 1, flags: { SYN: true } }])[0]?.connections).toBe(1);
  });
});

describe('pod owners', () => {
  it.each([
    ['productpage-v1-6b746f74dc-9rcxx', 'productpage-v1'],
    ['event-exporter-gke-67986489c8-svnrf', 'event-exporter-gke'],
    ['node-local-dns-x8b4f', 'node-local-dns'],
    ['kafka-2', 'kafka'],
    ['standalone', 'standalone'],
  ])('of %s is %s', (pod, owner) => {
    expect(podOwner(pod)).toBe(owner);
  });
});
