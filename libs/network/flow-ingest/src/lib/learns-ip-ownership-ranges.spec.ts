import { IpOwnershipIndex } from './ip-ownership-index';
import { parseIpv4 } from './ip-address';
import { PeerTable, WorkloadOwner } from './peer-table';
import { identity, shuffled } from './testing/flows';

const ip = parseIpv4('10.1.0.5');

function setup(options: Partial<{ graceMs: number; leadMs: number; retentionMs: number; maxRangesPerIp: number }> = {}) {
  const peers = new PeerTable();
  const index = new IpOwnershipIndex({ graceMs: 1_000, leadMs: 100, retentionMs: 60_000, maxRangesPerIp: 8, ...options });
  const owner = (cluster: string) => peers.owner(identity(cluster)) as WorkloadOwner;
  return { index, a: owner('a-prod-v001'), b: owner('b-prod-v001'), c: owner('c-prod-v001') };
}

function spans(index: IpOwnershipIndex) {
  return index.rangesOf(ip).map((r) => `${r.owner.cluster} ${r.fromMs}..${r.toMs}`);
}

describe('IpOwnershipIndex', () => {
  it('extends a range as evidence of the same owner arrives, and answers lookups inside it', () => {
    const { index, a } = setup();
    index.observe(ip, a, 0, 500, true);
    index.observe(ip, a, 400, 2_000, true);
    index.observe(ip, a, 1_000, 1_500, true);
    expect(spans(index)).toEqual(['a-prod-v001 0..2000']);
    expect(index.ownerAt(ip, 1_999)).toBe(a);
    expect(index.ownerAt(ip, -50)).toBe(a); // within the lead before the first evidence
    expect(index.ownerAt(ip, -150)).toBeUndefined();
    expect(index.ownerAt(ip, 2_500)).toBeUndefined();
    expect(index.lookup(ip, 2_500)).toBe(a); // within the grace
    expect(index.lookup(ip, 3_001)).toBeUndefined();
  });

  it('starts a new range for a different owner, and the grace of the old one never reaches into it', () => {
    const { index, a, b } = setup({ graceMs: 10_000 });
    index.observe(ip, a, 0, 1_000, true);
    index.observe(ip, b, 3_000, 5_000, true);
    expect(spans(index)).toEqual(['a-prod-v001 0..1000', 'b-prod-v001 3000..5000']);
    expect(index.lookup(ip, 2_000)).toBe(a);
    expect(index.lookup(ip, 2_950)).toBe(b); // lead of the next owner beats the grace of the last
    expect(index.lookup(ip, 3_000)).toBe(b);
    expect(index.lookup(ip, 6_000)).toBe(b);
    expect(index.ownerAt(ip, 2_000)).toBeUndefined();
  });

  it('builds the same ranges whatever order the evidence arrives in', () => {
    const evidence: [string, number, number][] = [];
    for (let t = 0; t < 10_000; t += 500) evidence.push(['a', t, t + 700]);
    for (let t = 12_000; t < 20_000; t += 500) evidence.push(['b', t, t + 700]);
    for (let t = 25_000; t < 30_000; t += 500) evidence.push(['a', t, t + 700]);
    const results = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const { index, a, b } = setup();
      for (const [who, from, to] of shuffled(evidence, seed)) index.observe(ip, who === 'a' ? a : b, from, to, true);
      results.add(spans(index).join(', '));
    }
    expect([...results]).toEqual(['a-prod-v001 0..10200, b-prod-v001 12000..20200, a-prod-v001 25000..30200']);
  });

  it('keeps an owner\'s evidence on both sides of another owner\'s as two ranges, whatever the order', () => {
    const evidence: [string, number, number][] = [
      ['a', 0, 1_000],
      ['a', 9_000, 10_000],
      ['b', 4_000, 5_000],
    ];
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const { index, a, b } = setup();
      for (const [who, from, to] of shuffled(evidence, seed)) index.observe(ip, who === 'a' ? a : b, from, to, true);
      expect(spans(index)).toEqual(['a-prod-v001 0..1000', 'b-prod-v001 4000..5000', 'a-prod-v001 9000..10000']);
      expect(index.ownerAt(ip, 4_500)).toBe(b);
      expect(index.ownerAt(ip, 9_500)).toBe(a);
      expect(index.ownerAt(ip, 7_000)).toBeUndefined();
      expect(index.lookup(ip, 5_500)).toBe(b);
    }
  });

  it('treats an address two owners use at once as shared, except at a handover within the lead', () => {
    const { index, a, b } = setup({ leadMs: 100, graceMs: 1_000 });
    index.observe(ip, a, 0, 10_000, true);
    index.observe(ip, b, 5_000, 12_000, true);
    expect(index.ownerAt(ip, 3_000)).toBe(a);
    expect(index.ownerAt(ip, 5_050)).toBe(b);
    expect(index.sharedAt(ip, 5_050)).toBe(false);
    expect(index.sharedAt(ip, 7_000)).toBe(true);
    expect(index.ownerAt(ip, 7_000)).toBeUndefined();
    expect(index.lookup(ip, 7_000)).toBeUndefined();
    expect(index.ownerAt(ip, 11_000)).toBe(b);
    expect(index.lookup(ip, 12_500)).toBe(b);
  });

  it('joins evidence of one owner less than the grace apart, and bridges two ranges with evidence between them', () => {
    const { index, a } = setup({ graceMs: 1_000 });
    index.observe(ip, a, 0, 500, true);
    index.observe(ip, a, 3_000, 3_500, true);
    expect(spans(index)).toEqual(['a-prod-v001 0..500', 'a-prod-v001 3000..3500']);
    index.observe(ip, a, 1_200, 2_200, true);
    expect(spans(index)).toEqual(['a-prod-v001 0..3500']);
    expect(a.rangeCount).toBe(1);
  });

  it('over maxRangesPerIp joins the nearest ranges of one owner before dropping anything', () => {
    const { index, a, b } = setup({ maxRangesPerIp: 3 });
    index.observe(ip, a, 0, 1_000, true);
    index.observe(ip, a, 5_000, 6_000, true);
    index.observe(ip, a, 8_000, 9_000, true);
    index.observe(ip, b, 20_000, 21_000, true);
    expect(spans(index)).toEqual(['a-prod-v001 0..1000', 'a-prod-v001 5000..9000', 'b-prod-v001 20000..21000']);
  });

  it('keeps at most maxRangesPerIp ranges per address, dropping the oldest', () => {
    const { index, a, b } = setup({ maxRangesPerIp: 3 });
    for (let i = 0; i < 5; i++) index.observe(ip, i % 2 === 0 ? a : b, i * 10_000, i * 10_000 + 1_000, true);
    expect(spans(index)).toEqual(['a-prod-v001 20000..21000', 'b-prod-v001 30000..31000', 'a-prod-v001 40000..41000']);
    expect(index.droppedOverBoundTotal).toBe(2);
    expect(index.everOwned(ip)).toBe(true);
  });

  it('forgets ranges whose last evidence is older than the retention, and the address with its last range', () => {
    const { index, a, b } = setup({ retentionMs: 10_000 });
    const other = parseIpv4('10.1.0.6');
    index.observe(ip, a, 0, 1_000, true);
    index.observe(other, b, 5_000, 6_000, true);
    index.observe(other, b, 6_000, 15_000, true);
    expect(index.expire()).toBe(1);
    expect(index.everOwned(ip)).toBe(false);
    expect(index.ownerAt(other, 14_000)).toBe(b);
    expect(a.rangeCount).toBe(0);
  });

  it('publishes new ranges at once and extended ones at most once per interval, and never ranges learned elsewhere', () => {
    const { index, a, c } = setup();
    const elsewhere = parseIpv4('10.1.0.7');
    index.observe(ip, a, 0, 1_000, true);
    index.observe(elsewhere, c, 0, 1_000, false);
    expect(index.takeUnpublished(100, 5_000)).toEqual([{ ip: '10.1.0.5', app: 'a', cluster: 'a-prod-v001', fromMs: 0, toMs: 1_000 }]);

    index.observe(ip, a, 1_000, 2_000, true);
    expect(index.takeUnpublished(200, 5_000)).toEqual([expect.objectContaining({ toMs: 2_000 })]);
    index.observe(ip, a, 2_000, 3_000, true);
    expect(index.takeUnpublished(300, 5_000)).toEqual([]);
    index.observe(ip, a, 3_000, 4_000, true);
    expect(index.takeUnpublished(5_200, 5_000)).toEqual([expect.objectContaining({ fromMs: 0, toMs: 4_000 })]);
    expect(index.takeUnpublished(20_000, 5_000)).toEqual([]);
  });
});
