import { CanonicalFlowJsonParser, observedFlowFromRecord } from './canonical-flow-parser';
import { RecordProblem } from './flow-parser';

/** A record as host agents write it: every field, in `FlowRecord` order, no whitespace. */
const EXPORTER_LINE =
  '{"local":{"ip":"10.0.1.5","port":43512},"remote":{"ip":"10.0.2.9","port":8080},' +
  '"localIdentity":{"app":"checkout","cluster":"checkout-prod-v012","instance":"i-0abc","account":"123456789012","region":"us-east-1","zone":"us-east-1a"},' +
  '"role":"client","protocol":"tcp","startMs":1700000000000,"endMs":1700000010000,"bytesSent":1200,"bytesReceived":64000,' +
  '"packetsSent":12,"packetsReceived":50,"retransmits":2,"rttUs":850,"connections":1}';

function edited(from: string, to: string): string {
  if (!EXPORTER_LINE.includes(from)) throw new Error(`the exporter line has no ${from}`);
  return EXPORTER_LINE.replace(from, to);
}

/** What `JSON.parse` and the field-by-field checks make of a line. */
function generalReading(line: string, region: string | undefined): unknown {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return { reason: 'malformed' };
  }
  const flow = observedFlowFromRecord(record, region);
  return flow instanceof RecordProblem ? { reason: flow.reason, message: flow.message } : flow;
}

/** What the parser makes of a line arriving as bytes, as bus messages do. */
function parserReading(line: string, region: string | undefined): unknown {
  const result = new CanonicalFlowJsonParser({ region }).parse(new TextEncoder().encode(line));
  const rejection = result.rejections[0];
  if (rejection === undefined) return result.flows[0];
  return rejection.reason === 'malformed' ? { reason: 'malformed' } : { reason: rejection.reason, message: rejection.message };
}

const LINES: [string, string][] = [
  ['as written', EXPORTER_LINE],
  ['of the server side', edited('"role":"client"', '"role":"server"')],
  ['with proto3 enum names', edited('"role":"client"', '"role":"ROLE_SERVER"')],
  ['with an unusual role spelling', edited('"role":"client"', '"role":"Role_Client"')],
  ['with ROLE_UNSPECIFIED', edited('"role":"client"', '"role":"ROLE_UNSPECIFIED"')],
  ['with a numeric role', edited('"role":"client"', '"role":2')],
  ['with another protocol', edited('"protocol":"tcp"', '"protocol":"icmp"')],
  ['with a protocol number', edited('"protocol":"tcp"', '"protocol":"17"')],
  ['with an upper-case protocol', edited('"protocol":"tcp"', '"protocol":"TCP"')],
  ['with an empty protocol', edited('"protocol":"tcp"', '"protocol":""')],
  ['with int64 as strings', edited('"startMs":1700000000000,"endMs":1700000010000', '"startMs":"1700000000000","endMs":"1700000010000"')],
  ['with a string counter with leading zeros', edited('"bytesSent":1200', '"bytesSent":"0012"')],
  ['with a number with a leading zero', edited('"bytesSent":1200', '"bytesSent":01200')],
  ['with a zero', edited('"retransmits":2', '"retransmits":0')],
  ['with a 16-digit counter', edited('"bytesReceived":64000', '"bytesReceived":1234567890123456')],
  ['with a 17-digit counter', edited('"bytesReceived":64000', '"bytesReceived":12345678901234567')],
  ['with a fraction', edited('"packetsSent":12', '"packetsSent":12.5')],
  ['with an exponent', edited('"packetsSent":12', '"packetsSent":1e3')],
  ['with a negative counter', edited('"packetsSent":12', '"packetsSent":-12')],
  ['with a counter that is not a number', edited('"packetsSent":12', '"packetsSent":"12k"')],
  ['with a port out of range', edited('"port":8080', '"port":65536')],
  ['with the highest port', edited('"port":8080', '"port":65535')],
  ['with the end before the start', edited('"endMs":1700000010000', '"endMs":1699999999999')],
  ['with no round trip time', edited('"rttUs":850', '"rttUs":0')],
  ['with an IPv6 address', edited('"ip":"10.0.1.5"', '"ip":"2001:DB8:0:0:0:0:0:1"')],
  ['with an IPv4-mapped IPv6 address', edited('"ip":"10.0.2.9"', '"ip":"::ffff:10.0.2.9"')],
  ['with a bad address', edited('"ip":"10.0.2.9"', '"ip":"10.0.2.300"')],
  ['with an empty address', edited('"ip":"10.0.2.9"', '"ip":""')],
  ['with whitespace', edited('"port":8080', '"port": 8080')],
  ['with an escape in a name', edited('"app":"checkout"', '"app":"check\\u006fut"')],
  ['with a quote escaped in a name', edited('"app":"checkout"', '"app":"check\\"out"')],
  ['with a space in a name', edited('"app":"checkout"', '"app":"check out"')],
  ['with identity fields in another order', edited('"app":"checkout","cluster":"checkout-prod-v012"', '"cluster":"checkout-prod-v012","app":"checkout"')],
  ['with the cluster alone', edited('"app":"checkout","cluster":"checkout-prod-v012"', '"cluster":"checkout-prod-v012"')],
  ['with the app alone', edited('"app":"checkout","cluster":"checkout-prod-v012"', '"app":"checkout"')],
  ['with an empty app', edited('"app":"checkout"', '"app":""')],
  ['with empty names', edited('"app":"checkout","cluster":"checkout-prod-v012"', '"app":"","cluster":""')],
  ['with an identity naming neither', edited('"app":"checkout","cluster":"checkout-prod-v012",', '')],
  ['with an empty identity', EXPORTER_LINE.replace(/"localIdentity":\{[^}]*\}/, '"localIdentity":{}')],
  ['with an app named twice', edited('"app":"checkout"', '"app":"checkout","app":"cart"')],
  ['with an unknown identity field', edited('"app":"checkout"', '"app":"checkout","team":"shop"')],
  ['with an empty instance', edited('"instance":"i-0abc"', '"instance":""')],
  ['with a numeric account', edited('"account":"123456789012"', '"account":123456789012')],
  ['with a field left out', edited('"retransmits":2,', '')],
  ['with snake_case names', edited('"bytesSent":1200,"bytesReceived":64000', '"bytes_sent":1200,"bytes_received":64000')],
  ['with a field after the last', edited('"connections":1}', '"connections":1,"extra":true}')],
  ['with a field named twice', edited('"connections":1}', '"connections":1,"connections":3}')],
  ['with trailing text', `${EXPORTER_LINE}x`],
  ['with a trailing space', `${EXPORTER_LINE} `],
  ['with a non-ASCII name', edited('"zone":"us-east-1a"', '"zone":"zone-é"')],
  ['with a closing brace in a name', edited('"zone":"us-east-1a"', '"zone":"us}east"')],
  ['cut short', EXPORTER_LINE.slice(0, -1)],
  ['cut inside a number', EXPORTER_LINE.slice(0, EXPORTER_LINE.indexOf('"endMs":') + 12)],
];

describe('lines in the order exporters write them', () => {
  it.each(LINES)('read a line %s to what the general JSON reader makes of it', (_name, line) => {
    for (const region of [undefined, 'eu-west-1']) expect(parserReading(line, region)).toStrictEqual(generalReading(line, region));
  });

  it('read a payload of exporter lines with bad lines among them, each to its own flow or rejection', () => {
    const lines = LINES.map(([, line]) => line);
    const result = new CanonicalFlowJsonParser().parse(new TextEncoder().encode(lines.join('\r\n')));
    const expected = lines.map((line) => generalReading(line, undefined));
    expect(result.flows).toStrictEqual(expected.filter((e) => (e as { reason?: string }).reason === undefined));
    expect(result.rejections.map((r) => r.reason)).toStrictEqual(expected.flatMap((e) => (e as { reason?: string }).reason ?? []));
    expect(result.rejections.map((r) => r.raw)).toStrictEqual(lines.filter((_line, i) => (expected[i] as { reason?: string }).reason !== undefined));
  });

  it('give the flows of one host one identity, and tell hosts apart', () => {
    const other = edited('"instance":"i-0abc"', '"instance":"i-0abd"');
    const result = new CanonicalFlowJsonParser().parse(new TextEncoder().encode([EXPORTER_LINE, other, EXPORTER_LINE].join('\n')));
    const [first, second, third] = result.flows.map((f) => f.client.identity);
    expect(third).toBe(first);
    expect(second?.instance).toBe('i-0abd');
    expect(first?.instance).toBe('i-0abc');
  });
});
