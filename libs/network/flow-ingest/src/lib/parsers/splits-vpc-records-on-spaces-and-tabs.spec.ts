import { RecordProblem } from './flow-parser';
import { parseVpcFormat, VPC_DEFAULT_FORMAT } from './vpc-flow-log-format';
import { VpcFlowLogParser } from './vpc-flow-log-parser';

const RECORD = '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';

function parser(): VpcFlowLogParser {
  const format = parseVpcFormat(VPC_DEFAULT_FORMAT);
  if (format instanceof RecordProblem) throw new Error(format.message);
  return new VpcFlowLogParser(format);
}

describe('VPC flow log field separators', () => {
  it.each([
    ['single spaces', RECORD],
    ['runs of spaces and leading and trailing ones', `  ${RECORD.replaceAll(' ', '   ')}  `],
    ['tabs', RECORD.replaceAll(' ', '\t')],
    ['tabs and spaces mixed', RECORD.replace(' ', '\t ').replace(' 22 ', '\t22\t\t')],
  ])('read a record separated by %s to the same flow', (_name, line) => {
    const result = parser().parse(line);
    expect(result.rejections).toEqual([]);
    expect(result.flows).toStrictEqual(parser().parse(RECORD).flows);
    expect(result.flows[0]).toMatchObject({ client: { ip: '172.31.16.139', port: 20641 }, server: { ip: '172.31.16.21', port: 22 }, bytesSent: 4249, packetsSent: 20 });
  });

  it.each([
    ['spaces', ' '],
    ['tabs', '\t'],
  ])('count the fields of a record separated by %s, and skip a header line so separated', (_name, separator) => {
    const p = parser();
    const header = VPC_DEFAULT_FORMAT.replaceAll(' ', separator);
    const short = RECORD.split(' ').slice(0, -1).join(separator);
    const long = `${RECORD.replaceAll(' ', separator)}${separator}extra${separator}more`;
    const result = p.parse([header, short, long, RECORD.replaceAll(' ', separator)].join('\n'));
    expect(result.flows).toHaveLength(1);
    expect(result.rejections.map((r) => r.message)).toEqual([expect.stringMatching(/expected 14 fields .* got 13$/), expect.stringMatching(/expected 14 fields .* got 16$/)]);
    expect(p.counters.get('vpc_header_lines')).toBe(1);
  });
});
