import { resolveConfig } from './config';

describe('simulation settings', () => {
  it('fill in every default', () => {
    expect(resolveConfig({ seed: 9 })).toEqual(expect.objectContaining({ seed: 9, apps: 220, minutes: 10, intervalMs: 10_000, scale: 1 }));
  });

  it.each([
    [{ apps: 5 }, /apps must be/],
    [{ seed: 1.5 }, /seed must be an integer/],
    [{ startMs: Date.UTC(2025, 0, 1) + 1 }, /multiple of intervalMs/],
    [{ minutes: 0 }, /minutes/],
    [{ minutes: 1.05 }, /whole number of intervals/],
    [{ scale: 0 }, /scale/],
    [{ churnShare: 0.5 }, /churnShare/],
  ])('rejects %j', (overrides, message) => {
    expect(() => resolveConfig(overrides)).toThrow(message);
  });
});
