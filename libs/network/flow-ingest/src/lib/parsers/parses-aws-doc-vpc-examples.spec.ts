import { ContentTypes, Headers } from '@topology/contracts';
import { ManualClock } from '@topology/model';
import type { ObservedFlow } from '../observed-flow';
import { FlowParsers, isParser } from './parser-for';
import { readRealdata } from './testdata/realdata';

interface AwsDocExample {
  format: string;
  record: string;
}

const NOW_MS = 1_700_000_000_000;
const OPTION_REGION = 'eu-west-1';

type Expected = { skipped: 'action-reject' | 'no-data' } | { flow: ObservedFlow };

function flow(partial: Partial<ObservedFlow> & Pick<ObservedFlow, 'client' | 'server' | 'startMs' | 'endMs'>): { flow: ObservedFlow } {
  return {
    flow: {
      observer: 'network',
      protocol: 'tcp',
      bytesSent: 0,
      bytesReceived: 0,
      packetsSent: 0,
      packetsReceived: 0,
      connections: 0,
      retransmits: 0,
      region: OPTION_REGION,
      ...partial,
    },
  };
}

/** Formats without start and end take processing time. */
const clockTime = { startMs: NOW_MS, endMs: NOW_MS };

/**
 * Every record of the AWS "flow log record examples" page, in file order, with what it says,
 * read off the record and the page's explanation.
 */
const EXPECTED: Expected[] = [
  // 1. Default format: SSH to port 22 accepted. No flags: the well-known port 22 is the server.
  flow({ client: { ip: '172.31.16.139', port: 20641 }, server: { ip: '172.31.16.21', port: 22 }, packetsSent: 20, bytesSent: 4249, startMs: 1418530010000, endMs: 1418530070000 }),
  // 2. RDP rejected: not a dependency.
  { skipped: 'action-reject' },
  // 3. NODATA.
  { skipped: 'no-data' },
  // 4. SKIPDATA.
  { skipped: 'no-data' },
  // 5. Ping accepted from home (ICMP, no ports): the record's own direction.
  flow({ client: { ip: '203.0.113.12', port: 0 }, server: { ip: '172.31.16.139', port: 0 }, protocol: 'icmp', packetsSent: 4, bytesSent: 336, startMs: 1432917027000, endMs: 1432917142000 }),
  // 6. The ping response rejected by the network ACL.
  { skipped: 'action-reject' },
  // 7. IPv6 SSH.
  flow({
    client: { ip: '2001:db8:1234:a100:8d6e:3477:df66:f105', port: 34892 },
    server: { ip: '2001:db8:1234:a102:3304:8879:34cf:4071', port: 22 },
    packetsSent: 54,
    bytesSent: 8855,
    startMs: 1477913708000,
    endMs: 1477913820000,
  }),
  // 8. TCP flag sequence (note: bytes before packets in this format). SYN (2) from the client on 43416.
  flow({ client: { ip: '52.213.180.42', port: 43416 }, server: { ip: '10.0.0.62', port: 5001 }, bytesSent: 568, packetsSent: 8, connections: 1, startMs: 1566848875000, endMs: 1566848933000 }),
  // 9. SYN-ACK (18) from the server: the reply direction, counted as received.
  flow({ client: { ip: '52.213.180.42', port: 43416 }, server: { ip: '10.0.0.62', port: 5001 }, bytesReceived: 376, packetsReceived: 7, startMs: 1566848875000, endMs: 1566848933000 }),
  // 10. SYN from the client on 43418.
  flow({ client: { ip: '52.213.180.42', port: 43418 }, server: { ip: '10.0.0.62', port: 5001 }, bytesSent: 100701, packetsSent: 70, connections: 1, startMs: 1566848875000, endMs: 1566848933000 }),
  // 11. SYN-ACK for it.
  flow({ client: { ip: '52.213.180.42', port: 43418 }, server: { ip: '10.0.0.62', port: 5001 }, bytesReceived: 632, packetsReceived: 12, startMs: 1566848875000, endMs: 1566848933000 }),
  // 12. Next interval, FIN (1) from the server: the same connection, reply direction.
  flow({ client: { ip: '52.213.180.42', port: 43418 }, server: { ip: '10.0.0.62', port: 5001 }, bytesReceived: 63388, packetsReceived: 1219, startMs: 1566848933000, endMs: 1566849113000 }),
  // 13. FIN from the client.
  flow({ client: { ip: '52.213.180.42', port: 43418 }, server: { ip: '10.0.0.62', port: 5001 }, bytesSent: 23294588, packetsSent: 15774, startMs: 1566848933000, endMs: 1566849113000 }),
  // 14. Short connection: SYN+FIN (3) from the client.
  flow({ client: { ip: '52.213.180.42', port: 43638 }, server: { ip: '10.0.0.62', port: 5001 }, bytesSent: 1260, packetsSent: 17, connections: 1, startMs: 1566933133000, endMs: 1566933193000 }),
  // 15. SYN-ACK+FIN (19) from the server (the record has a double space).
  flow({ client: { ip: '52.213.180.42', port: 43638 }, server: { ip: '10.0.0.62', port: 5001 }, bytesReceived: 967, packetsReceived: 14, startMs: 1566933133000, endMs: 1566933193000 }),
  // 16. NAT gateway interface: instance → NAT; pkt-dstaddr is the internet host, dstaddr the NAT's own address.
  flow({ client: { ip: '10.0.1.5', port: 0 }, server: { ip: '203.0.113.5', port: 0 }, protocol: '', viaIp: '10.0.0.220', ...clockTime }),
  // 17. NAT → internet host: the NAT's own connection.
  flow({ client: { ip: '10.0.0.220', port: 0 }, server: { ip: '203.0.113.5', port: 0 }, protocol: '', ...clockTime }),
  // 18. Internet host → NAT: the response of 17.
  flow({ client: { ip: '10.0.0.220', port: 0 }, server: { ip: '203.0.113.5', port: 0 }, protocol: '', ...clockTime }),
  // 19. NAT → instance: the response of 16; srcaddr is the NAT's address, pkt-srcaddr the host's.
  flow({ client: { ip: '10.0.1.5', port: 0 }, server: { ip: '203.0.113.5', port: 0 }, protocol: '', viaIp: '10.0.0.220', ...clockTime }),
  // 20. The instance's own interface: no intermediary in sight.
  flow({ client: { ip: '10.0.1.5', port: 0 }, server: { ip: '203.0.113.5', port: 0 }, protocol: '', ...clockTime }),
  // 21. Its response.
  flow({ client: { ip: '10.0.1.5', port: 0 }, server: { ip: '203.0.113.5', port: 0 }, protocol: '', ...clockTime }),
  // 22. Transit gateway, web server's interface: the client's SYN+FIN (3).
  flow({ client: { ip: '10.20.33.164', port: 39812 }, server: { ip: '10.40.2.236', port: 80 }, connections: 1, ...clockTime }),
  // 23. The server's SYN-ACK+FIN (19).
  flow({ client: { ip: '10.20.33.164', port: 39812 }, server: { ip: '10.40.2.236', port: 80 }, ...clockTime }),
  // 24. The transit gateway's interface in subnet 1: srcaddr is the gateway's, pkt-srcaddr the client's.
  flow({ client: { ip: '10.20.33.164', port: 39812 }, server: { ip: '10.40.2.236', port: 80 }, connections: 1, viaIp: '10.40.1.175', ...clockTime }),
  // 25. The gateway's interface in subnet 2, response: dstaddr is the gateway's, pkt-dstaddr the client's.
  flow({ client: { ip: '10.20.33.164', port: 39812 }, server: { ip: '10.40.2.236', port: 80 }, viaIp: '10.40.2.31', ...clockTime }),
  // 26. Version 5: S3 answers an instance (ingress, SYN-ACK+FIN); the record names its region.
  flow({
    client: { ip: '10.0.0.71', port: 34210 },
    server: { ip: '52.95.128.179', port: 80 },
    packetsReceived: 14,
    bytesReceived: 15044,
    startMs: 1616729292000,
    endMs: 1616729349000,
    region: 'ap-southeast-2',
  }),
  // 27. The instance's request to S3 (egress, SYN+FIN).
  flow({
    client: { ip: '10.0.0.71', port: 34210 },
    server: { ip: '52.95.128.179', port: 80 },
    packetsSent: 7,
    bytesSent: 471,
    connections: 1,
    startMs: 1616729292000,
    endMs: 1616729349000,
    region: 'ap-southeast-2',
  }),
];

describe('the AWS flow log record examples', () => {
  const examples = readRealdata('vpcflow/aws-doc-examples.jsonl')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as AwsDocExample);
  const parsers = new FlowParsers({ region: OPTION_REGION, clock: new ManualClock(NOW_MS) });
  const results = examples.map((example) => {
    const parser = parsers.parserFor(ContentTypes.vpcText, { [Headers.vpcFormat]: example.format });
    if (!isParser(parser)) throw new Error(`format refused: ${parser.message}`);
    return parser.parse(example.record);
  });

  it('has the 27 records the page shows', () => {
    expect(examples).toHaveLength(27);
    expect(EXPECTED).toHaveLength(27);
  });

  it.each(EXPECTED.map((expected, i) => [i + 1, expected] as const))('record %i parses to what it says', (line, expected) => {
    const result = results[line - 1];
    expect(result?.rejections).toEqual([]);
    if ('skipped' in expected) expect(result?.flows).toEqual([]);
    else expect(result?.flows).toStrictEqual([expected.flow]);
  });

  it('counts what it skipped and how it oriented each record', () => {
    const c = parsers.counters;
    expect(c.get('vpc_records_parsed')).toBe(23);
    expect(c.get('vpc_records_action_reject')).toBe(2);
    expect(c.get('vpc_records_no_data')).toBe(2);
    expect(c.get('vpc_records_rejected')).toBe(0);
    expect(c.get('vpc_orientation', 'tcp-flags')).toBe(12);
    expect(c.get('vpc_orientation', 'known-connection')).toBe(6);
    expect(c.get('vpc_orientation', 'ports')).toBe(2);
    expect(c.get('vpc_orientation', 'record-order')).toBe(3);
  });
});
