import type { DeadLetterReason } from '@topology/contracts';
import { HubbleFlowParser } from './hubble-flow-parser';

const GOOD = JSON.stringify({
  flow: {
    time: '2021-11-10T10:40:56.467244400Z',
    verdict: 'FORWARDED',
    IP: { source: '10.244.0.177', destination: '10.244.1.193', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 52818, destination_port: 9080, flags: { SYN: true } } },
    source: { identity: 3418, labels: ['k8s:app=productpage'], pod_name: 'productpage-v1-6b746f74dc-9rcxx' },
    destination: { identity: 5239, labels: ['k8s:app=details'], pod_name: 'details-v1-79f774bdb9-m4j4k' },
    Type: 'L3_L4',
    is_reply: false,
  },
  node_name: 'kind-control-plane',
  time: '2021-11-10T10:40:56.467244400Z',
});

function withFlow(change: (flow: Record<string, unknown>) => void): string {
  const event = JSON.parse(GOOD) as { flow: Record<string, unknown> };
  change(event.flow);
  return JSON.stringify(event);
}

const BAD_LINES: [string, string, DeadLetterReason, RegExp][] = [
  ['truncated JSON', GOOD.slice(0, 120), 'malformed', /not JSON/],
  ['a line that is not an object', '"flow"', 'malformed', /a Hubble line is a JSON object/],
  ['an object without a flow', '{"hello":"world"}', 'missing-field', /no flow in the line/],
  ['a flow of the wrong type', '{"flow":[1]}', 'invalid-value', /flow must be an object/],
  ['a bad source address', withFlow((f) => (f['IP'] = { source: '10.244.0.1777', destination: '10.244.1.193' })), 'invalid-value', /IP.source is not an IP address/],
  ['a missing destination address', withFlow((f) => (f['IP'] = { source: '10.244.0.177' })), 'missing-field', /IP.destination is missing/],
  ['a port of the wrong type', withFlow((f) => (f['l4'] = { TCP: { source_port: '52818', destination_port: 9080 } })), 'invalid-value', /source_port must be an integer/],
  ['a bad time', withFlow((f) => (f['time'] = 'yesterday')), 'invalid-time', /time is not an RFC 3339 timestamp/],
];

describe('malformed Hubble lines', () => {
  it.each(BAD_LINES)('reject %s with a reason, and still parse the good lines around it', (_name, bad, reason, message) => {
    const parser = new HubbleFlowParser();
    const second = GOOD.replace('52818', '52819');
    const result = parser.parse([GOOD, bad, second].join('\n'));
    expect(result.flows.map((f) => f.client.port)).toEqual([52818, 52819]);
    expect(result.rejections).toHaveLength(1);
    expect(result.rejections[0]).toMatchObject({ reason, raw: bad });
    expect(result.rejections[0]?.message).toMatch(message);
    expect(parser.counters.get('hubble_records_rejected', reason)).toBe(1);
  });

  it('reject a line with no time at all', () => {
    const event = JSON.parse(GOOD) as { flow: Record<string, unknown>; time?: string };
    delete event.flow['time'];
    delete event.time;
    const result = new HubbleFlowParser().parse(JSON.stringify(event));
    expect(result.rejections).toMatchObject([{ reason: 'missing-field', message: 'time is missing' }]);
  });
});
