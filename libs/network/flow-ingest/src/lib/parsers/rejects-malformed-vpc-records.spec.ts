import type { DeadLetterReason } from '@topology/contracts';
import { RecordProblem } from './flow-parser';
import { parseVpcFormat, VPC_DEFAULT_FORMAT } from './vpc-flow-log-format';
import { VpcFlowLogParser } from './vpc-flow-log-parser';

const GOOD = '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';

function defaultParser(): VpcFlowLogParser {
  const format = parseVpcFormat(VPC_DEFAULT_FORMAT);
  if (format instanceof RecordProblem) throw new Error(format.message);
  return new VpcFlowLogParser(format);
}

const BAD_RECORDS: [string, string, DeadLetterReason, RegExp][] = [
  ['too few fields', '2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 ACCEPT OK', 'malformed', /expected 14 fields .* got 13/],
  ['too many fields', `${GOOD} extra`, 'malformed', /expected 14 fields .* got 15/],
  ['a bad source address', GOOD.replace('172.31.16.139', '172.31.16.1399'), 'invalid-value', /srcaddr is not an IP address: "172.31.16.1399"/],
  ['a bad destination address', GOOD.replace('172.31.16.21', 'db.internal'), 'invalid-value', /dstaddr is not an IP address/],
  ['a port out of range', GOOD.replace(' 20641 ', ' 70000 '), 'invalid-value', /srcport must be 0-65535, got 70000/],
  ['a byte count that is not a number', GOOD.replace(' 4249 ', ' 42x9 '), 'invalid-value', /bytes must be a non-negative integer, got "42x9"/],
  ['a negative packet count', GOOD.replace(' 20 4249 ', ' -20 4249 '), 'invalid-value', /packets must be a non-negative integer/],
  ['a protocol number out of range', GOOD.replace(' 22 6 ', ' 22 300 '), 'invalid-value', /protocol must be an IANA protocol number/],
  ['end before start', GOOD.replace('1418530010 1418530070', '1418530070 1418530010'), 'invalid-time', /end 1418530010 is before start 1418530070/],
  ['an unknown action', GOOD.replace('ACCEPT', 'ALLOW'), 'invalid-value', /action must be ACCEPT or REJECT, got "ALLOW"/],
  ['an unknown log status', GOOD.replace(' OK', ' FINE'), 'invalid-value', /log-status must be OK, NODATA or SKIPDATA/],
];

describe('malformed VPC flow log records', () => {
  it.each(BAD_RECORDS)('reject %s with a reason, and still parse the good records around it', (_name, bad, reason, message) => {
    const parser = defaultParser();
    const result = parser.parse([GOOD, bad, GOOD].join('\n'));
    expect(result.flows).toHaveLength(2);
    expect(result.rejections).toHaveLength(1);
    expect(result.rejections[0]).toMatchObject({ reason, raw: bad });
    expect(result.rejections[0]?.message).toMatch(message);
    expect(parser.counters.get('vpc_records_rejected', reason)).toBe(1);
  });

  it.each([
    ['an unknown field', 'srcaddr dstaddr srcadr', /unknown fields srcadr/],
    ['a field named twice', 'srcaddr dstaddr srcaddr', /names srcaddr twice/],
    ['no destination address', 'srcaddr srcport dstport', /no destination address/],
  ])('refuse a format with %s', (_name, format, message) => {
    const parsed = parseVpcFormat(format);
    expect(parsed).toBeInstanceOf(RecordProblem);
    expect(parsed).toMatchObject({ reason: 'unsupported-format', message: expect.stringMatching(message) });
  });
});
