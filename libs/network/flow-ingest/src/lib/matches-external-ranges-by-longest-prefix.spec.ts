import { ExternalRanges } from './external-ranges';
import { addressKey } from './ip-address';

function nameAt(ranges: ExternalRanges, ip: string): string | undefined {
  const key = addressKey(ip);
  if (key === undefined) throw new Error(`bad test address ${ip}`);
  const peer = ranges.lookup(key)?.peer;
  return peer?.kind === 'external' ? `${peer.name} ${peer.cidr}` : undefined;
}

describe('ExternalRanges', () => {
  it('answers with the longest matching IPv4 prefix', () => {
    const ranges = new ExternalRanges();
    expect(ranges.add('52.94.0.0/16', 'aws-s3')).toBeUndefined();
    expect(ranges.add('52.94.5.0/24', 'aws-s3-use1')).toBeUndefined();
    expect(ranges.add('52.94.5.77/32', 'one-host')).toBeUndefined();
    expect(ranges.add('0.0.0.0/0', 'internet')).toBeUndefined();
    expect(nameAt(ranges, '52.94.5.10')).toBe('aws-s3-use1 52.94.5.0/24');
    expect(nameAt(ranges, '52.94.5.77')).toBe('one-host 52.94.5.77/32');
    expect(nameAt(ranges, '52.94.200.1')).toBe('aws-s3 52.94.0.0/16');
    expect(nameAt(ranges, '52.95.0.1')).toBe('internet 0.0.0.0/0');
    expect(nameAt(ranges, '255.255.255.255')).toBe('internet 0.0.0.0/0');
  });

  it('masks host bits of an entry and matches IPv4-mapped IPv6 addresses as IPv4', () => {
    const ranges = new ExternalRanges();
    ranges.add('198.51.100.77/24', 'partner');
    expect(nameAt(ranges, '198.51.100.1')).toBe('partner 198.51.100.0/24');
    expect(nameAt(ranges, '::ffff:198.51.100.9')).toBe('partner 198.51.100.0/24');
    expect(nameAt(ranges, '198.51.101.1')).toBeUndefined();
  });

  it('answers with the longest matching IPv6 prefix, whatever the spelling of the address', () => {
    const ranges = new ExternalRanges();
    ranges.add('2001:db8::/32', 'doc');
    ranges.add('2001:db8:1::/48', 'doc-site-1');
    expect(nameAt(ranges, '2001:db8:1::5')).toBe('doc-site-1 2001:db8:1::/48');
    expect(nameAt(ranges, '2001:0DB8:0001:0000::0005')).toBe('doc-site-1 2001:db8:1::/48');
    expect(nameAt(ranges, '2001:db8:2::5')).toBe('doc 2001:db8::/32');
    expect(nameAt(ranges, '2001:db9::1')).toBeUndefined();
    expect(nameAt(ranges, '10.0.0.1')).toBeUndefined();
  });

  it('renames an entry added again, keeps the peer when nothing changed, and refuses bad entries', () => {
    const ranges = new ExternalRanges();
    ranges.add('203.0.113.0/24', 'old-name');
    const key = addressKey('203.0.113.5') as number;
    const first = ranges.lookup(key);
    ranges.add('203.0.113.0/24', 'old-name');
    expect(ranges.lookup(key)).toBe(first);
    ranges.add('203.0.113.0/24', 'new-name');
    expect(nameAt(ranges, '203.0.113.5')).toBe('new-name 203.0.113.0/24');
    expect(ranges.size).toBe(1);
    expect(ranges.add('203.0.113.0/33', 'x')).toMatch(/not a CIDR/);
    expect(ranges.add('not-an-ip/8', 'x')).toMatch(/not a CIDR/);
    expect(ranges.add('10.0.0.0/8', 'has space')).toMatch(/whitespace/);
  });
});
