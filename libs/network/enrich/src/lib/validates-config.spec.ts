import { ManualClock } from '@topology/model';
import { DEFAULT_NETWORK_ENRICHER_CONFIG, validateNetworkEnricherConfig } from './network-enricher-config';
import { NetworkEnricher } from './network-enricher';

describe('network enricher configuration', () => {
  it('accepts the defaults', () => {
    expect(validateNetworkEnricherConfig(DEFAULT_NETWORK_ENRICHER_CONFIG)).toEqual([]);
  });

  it.each([
    [{ bucketMs: 45_000, windowMs: 10_000, retentionMs: 600_000 }, /multiple of windowMs/],
    [{ bucketMs: 0, windowMs: 10_000, retentionMs: 600_000 }, /bucketMs must be a positive/],
    [{ bucketMs: 60_000, windowMs: 2.5, retentionMs: 600_000 }, /windowMs must be a positive/],
    [{ bucketMs: 60_000, windowMs: 10_000, retentionMs: 30_000 }, /retentionMs .* at least bucketMs/],
  ])('rejects %o', (config, problem) => {
    expect(validateNetworkEnricherConfig(config)).toEqual([expect.stringMatching(problem)]);
    expect(() => new NetworkEnricher(config, new ManualClock())).toThrow(problem);
  });
});
