import type { DeadLetterReason } from '@topology/contracts';
import { encodeFlowRecordBatch } from '@topology/contracts';
import { CanonicalFlowJsonParser, CanonicalFlowProtobufParser } from './canonical-flow-parser';

const good = {
  local: { ip: '10.0.1.5', port: 43512 },
  remote: { ip: '10.0.2.9', port: 8080 },
  localIdentity: { app: 'checkout', cluster: 'checkout-prod-v012' },
  role: 'ROLE_CLIENT',
  protocol: 'tcp',
  startMs: '1700000000000',
  endMs: '1700000010000',
  bytesSent: '1200',
};

const BAD_LINES: [string, string, DeadLetterReason, RegExp][] = [
  ['truncated JSON', JSON.stringify(good).slice(0, 40), 'malformed', /not JSON/],
  ['a JSON array', '[1,2]', 'malformed', /a flow record is a JSON object, got \[1,2\]/],
  ['no local end', JSON.stringify({ ...good, local: undefined }), 'missing-field', /^local is missing$/],
  ['a local end that is a string', JSON.stringify({ ...good, local: '10.0.1.5:43512' }), 'invalid-value', /local must be an object/],
  ['a bad IPv4 address', JSON.stringify({ ...good, remote: { ip: '10.0.2.300', port: 1 } }), 'invalid-value', /remote.ip is not an IP address: "10.0.2.300"/],
  ['an octal-looking IPv4 address', JSON.stringify({ ...good, remote: { ip: '10.0.02.3', port: 1 } }), 'invalid-value', /remote.ip is not an IP address/],
  ['a bad IPv6 address', JSON.stringify({ ...good, local: { ip: '2001:db8::1::2', port: 1 } }), 'invalid-value', /local.ip is not an IP address/],
  ['an IP of the wrong type', JSON.stringify({ ...good, local: { ip: 167772165, port: 1 } }), 'invalid-value', /local.ip must be a string, got 167772165/],
  ['a port out of range', JSON.stringify({ ...good, remote: { ip: '10.0.2.9', port: 65536 } }), 'invalid-value', /remote.port must be an integer 0-65535, got 65536/],
  ['a port with a fraction', JSON.stringify({ ...good, remote: { ip: '10.0.2.9', port: 80.5 } }), 'invalid-value', /remote.port/],
  ['a negative counter', JSON.stringify({ ...good, bytesSent: -5 }), 'invalid-value', /bytesSent must be a non-negative integer, got -5/],
  ['a counter that is not a number', JSON.stringify({ ...good, packetsReceived: '12k' }), 'invalid-value', /packetsReceived must be a non-negative integer, got "12k"/],
  ['a counter of the wrong type', JSON.stringify({ ...good, connections: true }), 'invalid-value', /connections must be a non-negative integer, got true/],
  ['end before start', JSON.stringify({ ...good, endMs: '1699999999999' }), 'invalid-time', /endMs 1699999999999 is before startMs 1700000000000/],
  ['no start', JSON.stringify({ ...good, startMs: undefined }), 'missing-field', /startMs is missing/],
  ['no identity', JSON.stringify({ ...good, localIdentity: undefined }), 'missing-field', /localIdentity is missing/],
  ['an identity with neither app nor cluster', JSON.stringify({ ...good, localIdentity: { instance: 'i-1' } }), 'missing-field', /needs an app or a cluster/],
  ['an app name with a space', JSON.stringify({ ...good, localIdentity: { app: 'check out' } }), 'invalid-value', /localIdentity.app contains whitespace/],
  ['no role', JSON.stringify({ ...good, role: undefined }), 'missing-field', /role is missing/],
  ['ROLE_UNSPECIFIED', JSON.stringify({ ...good, role: 'ROLE_UNSPECIFIED' }), 'missing-field', /role is missing \(ROLE_UNSPECIFIED\)/],
  ['an unknown role', JSON.stringify({ ...good, role: 'peer' }), 'invalid-value', /role must be client or server, got "peer"/],
  ['no protocol', JSON.stringify({ ...good, protocol: '' }), 'missing-field', /protocol is missing/],
];

describe('malformed canonical records', () => {
  it.each(BAD_LINES)('reject %s with a reason, and still parse the good lines around it', (_name, bad, reason, message) => {
    const parser = new CanonicalFlowJsonParser();
    const payload = [JSON.stringify(good), bad, JSON.stringify({ ...good, role: 'server' })].join('\n');
    const result = parser.parse(payload);
    expect(result.flows.map((f) => f.observer)).toEqual(['client', 'server']);
    expect(result.rejections).toHaveLength(1);
    expect(result.rejections[0]).toMatchObject({ reason, raw: bad });
    expect(result.rejections[0]?.message).toMatch(message);
    expect(parser.counters.get('canonical_records_rejected', reason)).toBe(1);
    expect(parser.counters.get('canonical_records_parsed')).toBe(2);
  });

  it('reject a protobuf payload that does not decode, as one rejection of the whole payload', () => {
    const payload = Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]);
    const result = new CanonicalFlowProtobufParser().parse(payload);
    expect(result.flows).toEqual([]);
    expect(result.rejections).toEqual([{ reason: 'malformed', message: expect.stringMatching(/not a protobuf FlowRecordBatch/), raw: payload }]);
  });

  it('reject the bad record of a protobuf batch alone, as JSON, and keep the others', () => {
    const record = {
      local: { ip: '10.0.1.5', port: 43512 },
      remote: { ip: '10.0.2.9', port: 8080 },
      localIdentity: { app: 'checkout', cluster: 'checkout-prod-v012' },
      role: 'client' as const,
      protocol: 'tcp',
      startMs: 1700000000000,
      endMs: 1700000010000,
      bytesSent: 10,
      bytesReceived: 20,
      packetsSent: 1,
      packetsReceived: 2,
      retransmits: 0,
      rttUs: 0,
      connections: 1,
    };
    const batch = encodeFlowRecordBatch([record, { ...record, remote: { ip: 'not-an-ip', port: 1 } }, { ...record, endMs: 1 }]);
    const result = new CanonicalFlowProtobufParser().parse(batch);
    expect(result.flows).toHaveLength(1);
    expect(result.rejections.map((r) => r.reason)).toEqual(['invalid-value', 'invalid-time']);
    expect(JSON.parse(result.rejections[0]?.raw as string)).toMatchObject({ remote: { ip: 'not-an-ip' } });
  });
});
