import { NAT_FLOW_LOG_FIELDS, NAT_FLOW_LOG_FORMAT } from './nat-flow-log';
import { parseNatLine } from '../testing/read-simulation';
import { simulationRun } from '../testing/default-run';

describe('the NAT gateways\u2019 VPC flow log of a default run', () => {
  const { fleet, output } = simulationRun();
  const lines = output.natFlowLog.map(parseNatLine);
  const natIps = new Set(fleet.natGateways.map((n) => n.ip));
  const externalIps = new Set(fleet.externals.flatMap((e) => e.ips));

  it('declares a custom format with the packet-level addresses, in AWS field names', () => {
    expect(NAT_FLOW_LOG_FIELDS).toEqual(expect.arrayContaining(['srcaddr', 'dstaddr', 'pkt-srcaddr', 'pkt-dstaddr', 'start', 'end', 'bytes', 'flow-direction']));
    expect(NAT_FLOW_LOG_FORMAT.split(' ')).toHaveLength(NAT_FLOW_LOG_FIELDS.length);
  });

  it('has one well-formed line per field of the format', () => {
    expect(lines.length).toBeGreaterThan(0);
    const wrong = lines.filter(
      (n) =>
        n.version !== 5 ||
        !/^eni-[0-9a-f]{17}$/.test(n.interfaceId) ||
        n.instanceId !== '-' ||
        n.protocol !== 6 ||
        n.action !== 'ACCEPT' ||
        n.logStatus !== 'OK' ||
        n.endS < n.startS ||
        n.startS * 1000 < fleet.startMs ||
        n.endS * 1000 >= fleet.endMs ||
        !(n.bytes > 0 && n.packets > 0) ||
        (n.direction !== 'ingress' && n.direction !== 'egress'),
    );
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it('shows client → external traffic as in the AWS NAT example: dstaddr the NAT, pkt-dstaddr the external host', () => {
    const requests = lines.filter((n) => n.direction === 'ingress' && natIps.has(n.dstaddr) && !externalIps.has(n.srcaddr));
    expect(requests.length).toBe(lines.length / 4);
    expect(requests.filter((n) => n.pktSrcaddr !== n.srcaddr || !externalIps.has(n.pktDstaddr))).toEqual([]);
    const responses = lines.filter((n) => n.direction === 'egress' && natIps.has(n.srcaddr) && !externalIps.has(n.dstaddr));
    expect(responses.length).toBe(requests.length);
    expect(responses.filter((n) => n.pktDstaddr !== n.dstaddr || !externalIps.has(n.pktSrcaddr))).toEqual([]);
  });

  it('matches every client record to an external address with its four lines in the same window', () => {
    const viaNat = new Set(
      lines.filter((n) => n.direction === 'ingress' && natIps.has(n.dstaddr) && n.pktDstaddr !== n.dstaddr).map((n) => `${n.srcaddr}:${n.srcport}>${n.pktDstaddr}@${Math.floor((n.startS * 1000) / fleet.config.intervalMs)}`),
    );
    const toExternal = output.flows.filter((f) => externalIps.has(f.remote.ip));
    expect(toExternal.length).toBe(lines.length / 4);
    const unlogged = toExternal.filter((f) => !viaNat.has(`${f.local.ip}:${f.local.port}>${f.remote.ip}@${Math.floor(f.startMs / fleet.config.intervalMs)}`));
    expect(unlogged).toEqual([]);
  });
});
