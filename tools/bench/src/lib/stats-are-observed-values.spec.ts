import { distribution, percentile } from './stats';

describe('latency distributions', () => {
  it('take percentiles by nearest rank, so every figure is a value that was observed', () => {
    const values = Array.from({ length: 200 }, (_, i) => 200 - i);
    const d = distribution(values);
    expect(d).toMatchObject({ count: 200, min: 1, p50: 100, p90: 180, p99: 198, max: 200 });
    expect(percentile([5], 99)).toBe(5);
  });

  it('let a sample that never arrived (infinite) dominate the tail instead of vanishing', () => {
    const d = distribution([10, 12, 11, Number.POSITIVE_INFINITY]);
    expect(d.p50).toBe(11);
    expect(d.max).toBe(Number.POSITIVE_INFINITY);
  });
});
