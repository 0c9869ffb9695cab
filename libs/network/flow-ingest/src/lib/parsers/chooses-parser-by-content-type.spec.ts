import { ContentTypes, Headers } from '@topology/contracts';
import { CanonicalFlowJsonParser, CanonicalFlowProtobufParser } from './canonical-flow-parser';
import { HubbleFlowParser } from './hubble-flow-parser';
import { FlowParsers, isParser, parserFor } from './parser-for';
import { VpcFlowLogParser } from './vpc-flow-log-parser';

describe('choosing a parser', () => {
  it.each([
    [ContentTypes.flowJsonLines, CanonicalFlowJsonParser],
    [ContentTypes.flowProtobuf, CanonicalFlowProtobufParser],
    [ContentTypes.hubbleJsonLines, HubbleFlowParser],
    [ContentTypes.vpcText, VpcFlowLogParser],
    [`${ContentTypes.flowJsonLines}; charset=utf-8`, CanonicalFlowJsonParser],
  ])('reads %s with the right parser', (contentType, kind) => {
    expect(parserFor(contentType, {}, {})).toBeInstanceOf(kind);
  });

  it('rejects an unknown content type as an unsupported format', () => {
    const parsers = new FlowParsers();
    const found = parsers.parserFor('application/json', {});
    expect(isParser(found)).toBe(false);
    expect(found).toMatchObject({ reason: 'unsupported-format', message: expect.stringMatching(/no flow parser for content-type "application\/json"/) });
    expect(parsers.counters.get('payloads_unsupported')).toBe(1);
  });

  it('rejects a VPC format it cannot read', () => {
    const found = parserFor(ContentTypes.vpcText, { [Headers.vpcFormat]: '${srcaddr} ${dstaddr} ${flow-id}' }, {});
    expect(found).toMatchObject({ reason: 'unsupported-format', message: expect.stringMatching(/unknown fields \$\{flow-id\}/) });
  });

  it('keeps one parser per format for a partition, so connection memory spans its messages', () => {
    const parsers = new FlowParsers({ region: 'eu-west-1' });
    expect(parsers.parserFor(ContentTypes.hubbleJsonLines, {})).toBe(parsers.parserFor(ContentTypes.hubbleJsonLines, {}));
    const vpcA = parsers.parserFor(ContentTypes.vpcText, { [Headers.vpcFormat]: 'srcaddr dstaddr' });
    expect(parsers.parserFor(ContentTypes.vpcText, { [Headers.vpcFormat]: 'srcaddr dstaddr' })).toBe(vpcA);
    expect(parsers.parserFor(ContentTypes.vpcText, {})).not.toBe(vpcA);
  });

  it('shares one counter set among the parsers of a partition', () => {
    const parsers = new FlowParsers();
    const json = parsers.parserFor(ContentTypes.flowJsonLines, {});
    const vpc = parsers.parserFor(ContentTypes.vpcText, {});
    if (!isParser(json) || !isParser(vpc)) throw new Error('parser expected');
    json.parse('not json');
    vpc.parse('2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA');
    expect(parsers.counters.get('canonical_records_rejected', 'malformed')).toBe(1);
    expect(parsers.counters.get('vpc_records_no_data')).toBe(1);
  });
});
