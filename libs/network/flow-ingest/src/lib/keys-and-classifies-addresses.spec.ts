import { NOT_IPV4, addressKey, addressText, isPrivateAddress, parseIpv4 } from './ip-address';

describe('address keys', () => {
  it('parses dotted quads to int32 over the whole range and refuses everything else', () => {
    expect(parseIpv4('0.0.0.0')).toBe(0);
    expect(parseIpv4('10.1.2.3')).toBe(0x0a010203);
    expect(parseIpv4('255.255.255.255')).toBe(-1);
    expect(parseIpv4('128.0.0.0')).toBe(-0x80000000);
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1..2.3', '1.2.3.4 ', 'a.b.c.d', '::1']) expect(parseIpv4(bad)).toBe(NOT_IPV4);
  });

  it('gives every spelling of one address the same key, and shows it canonically', () => {
    expect(addressKey('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(addressKey('2001:db8::1')).toBe('2001:db8::1');
    expect(addressKey('::ffff:10.1.2.3')).toBe(parseIpv4('10.1.2.3'));
    expect(addressKey('not-an-address')).toBeUndefined();
    expect(addressKey('2001:db8::zz')).toBeUndefined();
    expect(addressText(parseIpv4('192.168.0.254'))).toBe('192.168.0.254');
    expect(addressText(parseIpv4('255.255.255.255'))).toBe('255.255.255.255');
  });

  it('classifies private, shared, loopback, link-local and unique-local addresses as private', () => {
    const privateOnes = ['10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1', '100.127.255.255', '127.0.0.1', '169.254.169.254', 'fd00::1', '::1', 'fe80::1'];
    const publicOnes = ['8.8.8.8', '172.32.0.1', '100.128.0.1', '52.94.5.10', '2001:db8::1', '2600:1f18::1'];
    for (const ip of privateOnes) expect([ip, isPrivateAddress(addressKey(ip) as string | number)]).toEqual([ip, true]);
    for (const ip of publicOnes) expect([ip, isPrivateAddress(addressKey(ip) as string | number)]).toEqual([ip, false]);
  });
});
