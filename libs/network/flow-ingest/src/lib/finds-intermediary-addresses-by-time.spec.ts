import { IntermediaryAddressIndex } from './intermediary-address-index';
import { parseIpv4 } from './ip-address';
import { PeerTable } from './peer-table';

const ip = parseIpv4('10.0.9.9');

describe('IntermediaryAddressIndex', () => {
  const peers = new PeerTable();
  const lb1 = peers.intermediary({ ip: '10.0.9.9', intermediaryId: 'lb-1', type: 'load-balancer', fromMs: 0 });
  const nat = peers.intermediary({ ip: '10.0.9.9', intermediaryId: 'nat-7', type: 'nat-gateway', fromMs: 0 });
  if (lb1 === undefined || nat === undefined) throw new Error('fixture peers');

  it('answers with the intermediary assigned the address at the time, [from, to)', () => {
    const index = new IntermediaryAddressIndex();
    index.assign(ip, lb1, 'lb-1', 1_000, 5_000);
    index.assign(ip, nat, 'nat-7', 6_000, undefined);
    expect(index.lookup(ip, 999)).toBeUndefined();
    expect(index.lookup(ip, 1_000)).toBe(lb1);
    expect(index.lookup(ip, 4_999)).toBe(lb1);
    expect(index.lookup(ip, 5_000)).toBeUndefined();
    expect(index.lookup(ip, 10_000_000)).toBe(nat);
    expect(index.everAssigned(ip)).toBe(true);
    expect(index.everAssigned(parseIpv4('10.0.9.10'))).toBe(false);
  });

  it('ends an open assignment when the same assignment comes again with an end', () => {
    const index = new IntermediaryAddressIndex();
    index.assign(ip, lb1, 'lb-1', 1_000, 0);
    expect(index.lookup(ip, 50_000)).toBe(lb1);
    index.assign(ip, lb1, 'lb-1', 1_000, 20_000);
    expect(index.lookup(ip, 50_000)).toBeUndefined();
    expect(index.lookup(ip, 19_999)).toBe(lb1);
  });

  it('prefers the latest-starting assignment where two overlap, and forgets ended ones past the horizon', () => {
    const index = new IntermediaryAddressIndex();
    index.assign(ip, lb1, 'lb-1', 0, 10_000);
    index.assign(ip, nat, 'nat-7', 8_000, undefined);
    expect(index.lookup(ip, 9_000)).toBe(nat);
    expect(index.expire(9_000)).toBe(0);
    expect(index.expire(10_001)).toBe(1);
    expect(index.lookup(ip, 5_000)).toBeUndefined();
    expect(index.lookup(ip, 9_000)).toBe(nat);
  });
});
