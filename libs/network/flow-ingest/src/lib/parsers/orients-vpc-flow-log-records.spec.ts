import { ManualClock } from '@topology/model';
import { RecordProblem } from './flow-parser';
import { parseVpcFormat, VPC_DEFAULT_FORMAT } from './vpc-flow-log-format';
import type { VpcFlowLogParserOptions } from './vpc-flow-log-parser';
import { VpcFlowLogParser } from './vpc-flow-log-parser';

const FLAGS_FORMAT = '${version} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${tcp-flags} ${log-status}';

function parserFor(format: string, options: VpcFlowLogParserOptions = {}): VpcFlowLogParser {
  const parsed = parseVpcFormat(format);
  if (parsed instanceof RecordProblem) throw new Error(parsed.message);
  return new VpcFlowLogParser(parsed, options);
}

function ends(parser: VpcFlowLogParser, lines: string[]): string[] {
  const result = parser.parse(lines.join('\n'));
  expect(result.rejections).toEqual([]);
  return result.flows.map((f) => `${f.client.ip}:${f.client.port} -> ${f.server.ip}:${f.server.port}`);
}

describe('orienting VPC flow log records', () => {
  it('trusts the SYN over the ports: a client on a low port is still the client', () => {
    const parser = parserFor(FLAGS_FORMAT);
    expect(ends(parser, ['3 10.0.0.5 10.0.0.9 1000 50051 6 3 180 1700000000 1700000060 ACCEPT 2 OK'])).toEqual(['10.0.0.5:1000 -> 10.0.0.9:50051']);
    expect(parser.counters.get('vpc_orientation', 'tcp-flags')).toBe(1);
  });

  it('keeps the orientation of a connection for its later records, in either direction', () => {
    const parser = parserFor(FLAGS_FORMAT);
    const flows = ends(parser, [
      '3 10.0.0.5 10.0.0.9 1000 50051 6 3 180 1700000000 1700000060 ACCEPT 2 OK',
      '3 10.0.0.9 10.0.0.5 50051 1000 6 9 9000 1700000060 1700000120 ACCEPT 0 OK',
      '3 10.0.0.5 10.0.0.9 1000 50051 6 2 120 1700000060 1700000120 ACCEPT 1 OK',
    ]);
    expect(flows).toEqual(Array(3).fill('10.0.0.5:1000 -> 10.0.0.9:50051'));
    expect(parser.counters.get('vpc_orientation', 'known-connection')).toBe(2);
  });

  it('recognises a server endpoint that answered a handshake when a new client reaches it without flags', () => {
    const parser = parserFor(FLAGS_FORMAT);
    const flows = ends(parser, [
      '3 10.0.0.9 10.0.0.5 50051 41000 6 3 180 1700000000 1700000060 ACCEPT 18 OK',
      // Both ports are in the ephemeral range and the client's is lower: ports alone would get it wrong.
      '3 10.0.0.7 10.0.0.9 40000 50051 6 3 180 1700000000 1700000060 ACCEPT 0 OK',
    ]);
    expect(flows).toEqual(['10.0.0.5:41000 -> 10.0.0.9:50051', '10.0.0.7:40000 -> 10.0.0.9:50051']);
    expect(parser.counters.get('vpc_orientation', 'listener')).toBe(1);
  });

  it('forgets a learned server endpoint after the memory TTL', () => {
    const parser = parserFor(FLAGS_FORMAT, { memoryTtlMs: 60_000 });
    const flows = ends(parser, [
      '3 10.0.0.9 10.0.0.5 50051 41000 6 3 180 1700000000 1700000060 ACCEPT 18 OK',
      '3 10.0.0.7 10.0.0.9 40000 50051 6 3 180 1700001000 1700001060 ACCEPT 0 OK',
    ]);
    expect(flows[1]).toBe('10.0.0.9:50051 -> 10.0.0.7:40000');
  });

  it('takes an AWS service end as the server', () => {
    const format = 'srcaddr dstaddr srcport dstport protocol pkt-src-aws-service pkt-dst-aws-service start end';
    expect(ends(parserFor(format), ['52.95.128.179 10.0.0.71 40001 40000 6 S3 - 1616729292 1616729349'])).toEqual(['10.0.0.71:40000 -> 52.95.128.179:40001']);
  });

  it.each([
    ['a well-known port against an ephemeral one', '443 51000', '10.0.0.9:51000 -> 10.0.0.5:443'],
    ['a well-known port against a registered one', '22 8080', '10.0.0.9:8080 -> 10.0.0.5:22'],
    ['a registered port against an ephemeral one', '51000 8080', '10.0.0.5:51000 -> 10.0.0.9:8080'],
    ['two ports of one class: the lower serves', '9090 8080', '10.0.0.5:9090 -> 10.0.0.9:8080'],
  ])('orients by ports: %s', (_name, ports, expected) => {
    const format = 'srcaddr dstaddr srcport dstport protocol start end';
    expect(ends(parserFor(format), [`10.0.0.5 10.0.0.9 ${ports} 6 1700000000 1700000060`])).toEqual([expected]);
  });

  it('keeps the record direction when nothing else tells, and counts it', () => {
    const parser = parserFor('srcaddr dstaddr protocol start end');
    expect(ends(parser, ['10.0.0.5 10.0.0.9 1 1700000000 1700000060'])).toEqual(['10.0.0.5:0 -> 10.0.0.9:0']);
    expect(parser.counters.get('vpc_orientation', 'record-order')).toBe(1);
  });

  it('reads formats written with ${} and skips header lines', () => {
    const parser = parserFor('${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${bytes} ${start} ${end}');
    const result = parser.parse('srcaddr dstaddr srcport dstport protocol bytes start end\n10.0.0.5 10.0.0.9 51000 443 6 900 1700000000 1700000060');
    expect(result.rejections).toEqual([]);
    expect(result.flows).toHaveLength(1);
    expect(result.flows[0]?.bytesSent).toBe(900);
    expect(parser.counters.get('vpc_header_lines')).toBe(1);
  });

  it('uses processing time for formats without start and end', () => {
    const clock = new ManualClock(1_700_000_123_000);
    const result = parserFor('srcaddr dstaddr', { clock }).parse('10.0.0.5 10.0.0.9');
    expect(result.flows[0]).toMatchObject({ startMs: 1_700_000_123_000, endMs: 1_700_000_123_000 });
  });

  it('sets no intermediary for an instance interface whose packet address is a secondary one', () => {
    const format = 'instance-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr srcport dstport protocol start end';
    const result = parserFor(format).parse('i-0123 10.0.0.5 10.0.0.9 10.0.0.5 10.0.0.77 51000 443 6 1700000000 1700000060');
    expect(result.flows[0]?.server.ip).toBe('10.0.0.77');
    expect(result.flows[0]?.viaIp).toBeUndefined();
  });

  it('reads the default format when no format is given', () => {
    const format = parseVpcFormat(undefined);
    expect(format).not.toBeInstanceOf(RecordProblem);
    expect((format as { text: string }).text).toBe(VPC_DEFAULT_FORMAT);
  });
});
