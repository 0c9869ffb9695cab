import type { FlowRecord } from '@topology/contracts';
import { parseVpcFormat, VpcFlowLogParser, type VpcFlowLogFormat } from '@topology/flow-ingest';
import { ManualClock } from '@topology/model';
import { generateTraffic, planFleet } from '@topology/sim';
import { appendVpcRecords, VPC_V2_FORMAT, VPC_V5_FORMAT, type VpcVersion } from './vpc-records';

function parserOf(text: string): VpcFlowLogParser {
  const format = parseVpcFormat(text);
  if (!('fields' in format)) throw new Error(format.message);
  return new VpcFlowLogParser(format as VpcFlowLogFormat, { clock: new ManualClock(0) });
}

const FORMATS: [VpcVersion, string][] = [
  [2, VPC_V2_FORMAT],
  [5, VPC_V5_FORMAT],
];

const clientRecord: FlowRecord = {
  local: { ip: '10.0.1.7', port: 51_234 },
  remote: { ip: '10.0.9.3', port: 8080 },
  localIdentity: { app: 'checkout', cluster: 'checkout-prod-v012', account: '111122223333', region: 'us-east-1', zone: 'us-east-1a' },
  role: 'client',
  protocol: 'tcp',
  startMs: 1_741_000_000_250,
  endMs: 1_741_000_004_900,
  bytesSent: 1_500,
  bytesReceived: 48_000,
  packetsSent: 4,
  packetsReceived: 40,
  retransmits: 0,
  rttUs: 450,
  connections: 1,
};

describe.each(FORMATS)('VPC version %i records rendered from a flow record', (version, format) => {
  it('parse back into the connection, oriented client → server, with both directions counted', () => {
    const lines: string[] = [];
    appendVpcRecords(clientRecord, version, lines);
    const { flows, rejections } = parserOf(format).parse(lines.join('\n'));
    expect(rejections).toEqual([]);
    expect(flows).toHaveLength(2);
    for (const flow of flows) {
      expect(flow.client).toEqual({ ip: '10.0.1.7', port: 51_234 });
      expect(flow.server).toEqual({ ip: '10.0.9.3', port: 8080 });
      expect(flow.startMs).toBeGreaterThanOrEqual(clientRecord.startMs);
      expect(flow.endMs).toBeLessThanOrEqual(clientRecord.endMs);
    }
    expect(flows.reduce((s, f) => s + f.bytesSent, 0)).toBe(1_500);
    expect(flows.reduce((s, f) => s + f.bytesReceived, 0)).toBe(48_000);
    expect(flows.reduce((s, f) => s + f.packetsReceived, 0)).toBe(40);
  });

  it('render every record of a simulated interval into records the parser accepts', () => {
    const fleet = planFleet({ seed: 7, apps: 20, minutes: 1 });
    const batch = generateTraffic(fleet).next();
    if (batch.done) throw new Error('the fleet produced no interval');
    const lines: string[] = [];
    for (const r of batch.value.flows) appendVpcRecords(r, version, lines);
    const { flows, rejections } = parserOf(format).parse(lines.join('\n'));
    expect(rejections).toEqual([]);
    expect(flows).toHaveLength(2 * batch.value.flows.length);
  });
});

it('marks the opening handshake in version 5 only when the record opened a connection', () => {
  const opened: string[] = [];
  const ongoing: string[] = [];
  appendVpcRecords(clientRecord, 5, opened);
  appendVpcRecords({ ...clientRecord, connections: 0 }, 5, ongoing);
  const flags = (line: string) => line.split(' ')[17];
  expect(opened.map(flags)).toEqual(['2', '18']);
  expect(ongoing.map(flags)).toEqual(['0', '0']);
});
