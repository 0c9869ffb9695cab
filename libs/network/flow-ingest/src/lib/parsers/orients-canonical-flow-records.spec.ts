import { CanonicalFlowJsonParser } from './canonical-flow-parser';

const base = {
  local: { ip: '10.0.1.5', port: 43512 },
  remote: { ip: '10.0.2.9', port: 8080 },
  localIdentity: { app: 'checkout', cluster: 'checkout-prod-v012', instance: 'i-0abc', account: '123456789012', region: 'us-east-1', zone: 'us-east-1a' },
  role: 'ROLE_CLIENT',
  protocol: 'tcp',
  startMs: '1700000000000',
  endMs: '1700000010000',
  bytesSent: '1200',
  bytesReceived: '64000',
  packetsSent: 12,
  packetsReceived: 50,
  retransmits: 2,
  rttUs: 850,
  connections: 1,
};

function parseOne(record: object, region?: string) {
  const result = new CanonicalFlowJsonParser({ region }).parse(JSON.stringify(record));
  expect(result.rejections).toEqual([]);
  expect(result.flows).toHaveLength(1);
  return result.flows[0];
}

describe('canonical flow records', () => {
  it('put a client record local end first, with its identity and its counters as they are', () => {
    expect(parseOne(base, 'us-west-2')).toStrictEqual({
      client: {
        ip: '10.0.1.5',
        port: 43512,
        identity: { app: 'checkout', cluster: 'checkout-prod-v012', instance: 'i-0abc', account: '123456789012', region: 'us-east-1', zone: 'us-east-1a' },
      },
      server: { ip: '10.0.2.9', port: 8080 },
      observer: 'client',
      protocol: 'tcp',
      startMs: 1700000000000,
      endMs: 1700000010000,
      bytesSent: 1200,
      bytesReceived: 64000,
      packetsSent: 12,
      packetsReceived: 50,
      connections: 1,
      retransmits: 2,
      rttUs: 850,
      region: 'us-west-2',
    });
  });

  it('put a server record local end second and swap its directions', () => {
    const flow = parseOne({ ...base, role: 'ROLE_SERVER', local: { ip: '10.0.2.9', port: 8080 }, remote: { ip: '10.0.1.5', port: 43512 } });
    expect(flow?.observer).toBe('server');
    expect(flow?.client).toStrictEqual({ ip: '10.0.1.5', port: 43512 });
    expect(flow?.server.ip).toBe('10.0.2.9');
    expect(flow?.server.identity?.app).toBe('checkout');
    // The server sent 1200 bytes in 12 packets to the client: that is the client's received side.
    expect([flow?.bytesSent, flow?.bytesReceived, flow?.packetsSent, flow?.packetsReceived]).toEqual([64000, 1200, 50, 12]);
  });

  it.each(['client', 'CLIENT', 'role_client', 'Role_Client', 1])('read role %p as the client', (role) => {
    expect(parseOne({ ...base, role })?.observer).toBe('client');
  });

  it.each(['server', 'SERVER', 'ROLE_SERVER', 'role_server', 2])('read role %p as the server', (role) => {
    expect(parseOne({ ...base, role })?.observer).toBe('server');
  });

  it('derive the app from the cluster name, and a missing cluster from the app', () => {
    expect(parseOne({ ...base, localIdentity: { cluster: 'payments-prod-canary-v042' } })?.client.identity).toStrictEqual({
      app: 'payments',
      cluster: 'payments-prod-canary-v042',
    });
    expect(parseOne({ ...base, localIdentity: { app: 'payments' } })?.client.identity).toStrictEqual({ app: 'payments', cluster: 'payments' });
  });

  it('read snake_case names, numbers for int64, and omitted fields as proto3 defaults', () => {
    const flow = parseOne({
      local: { ip: '10.0.1.5' },
      remote: { ip: '10.0.2.9', port: 53 },
      local_identity: { app: 'checkout' },
      role: 'ROLE_CLIENT',
      protocol: 'UDP',
      start_ms: 1700000000000,
      end_ms: 1700000000000,
      bytes_sent: 80,
    });
    expect(flow).toStrictEqual({
      client: { ip: '10.0.1.5', port: 0, identity: { app: 'checkout', cluster: 'checkout' } },
      server: { ip: '10.0.2.9', port: 53 },
      observer: 'client',
      protocol: 'udp',
      startMs: 1700000000000,
      endMs: 1700000000000,
      bytesSent: 80,
      bytesReceived: 0,
      packetsSent: 0,
      packetsReceived: 0,
      connections: 0,
      retransmits: 0,
    });
  });

  it('write every address one way: IPv6 compressed and lower case, IPv4-mapped IPv6 as IPv4', () => {
    const flow = parseOne({ ...base, local: { ip: '2001:DB8:0:0:0:0:0:1', port: 1 }, remote: { ip: '::ffff:10.0.2.9', port: 2 } });
    expect(flow?.client.ip).toBe('2001:db8::1');
    expect(flow?.server.ip).toBe('10.0.2.9');
  });

  it('name a protocol given by its IANA number', () => {
    expect(parseOne({ ...base, protocol: '17' })?.protocol).toBe('udp');
    expect(parseOne({ ...base, protocol: '132' })?.protocol).toBe('sctp');
  });

  it('take the region of the identity when the source has none', () => {
    expect(parseOne(base)?.region).toBe('us-east-1');
  });

  it('read CRLF line ends, blank lines, and bytes as well as text', () => {
    const text = `${JSON.stringify(base)}\r\n\r\n  \n${JSON.stringify({ ...base, role: 'server' })}\n`;
    const result = new CanonicalFlowJsonParser().parse(new TextEncoder().encode(text));
    expect(result.rejections).toEqual([]);
    expect(result.flows.map((f) => f.observer)).toEqual(['client', 'server']);
  });
});
