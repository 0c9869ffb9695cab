import { ManualClock } from '@topology/model';
import { FlowIngestor } from './flow-ingestor';
import { DEFAULT_FLOW_INGESTOR_CONFIG, validateFlowIngestorConfig } from './flow-ingestor-config';

describe('flow-ingestor config', () => {
  it('accepts the defaults', () => {
    expect(validateFlowIngestorConfig(DEFAULT_FLOW_INGESTOR_CONFIG)).toEqual([]);
  });

  it('rejects values outside their domain', () => {
    const problems = validateFlowIngestorConfig({ ...DEFAULT_FLOW_INGESTOR_CONFIG, windowMs: 0, allowedLatenessMs: -1, maxHeldFlows: 1.5, ownershipGraceMs: Number.NaN });
    expect(problems).toEqual([
      'windowMs must be a positive number (got 0)',
      'allowedLatenessMs must be zero or more (got -1)',
      'ownershipGraceMs must be zero or more (got NaN)',
      'maxHeldFlows must be an integer (got 1.5)',
    ]);
  });

  it('rejects combinations that cannot work', () => {
    const problems = validateFlowIngestorConfig({ ...DEFAULT_FLOW_INGESTOR_CONFIG, holdBackMs: 60_000, ownershipPublishIntervalMs: 60_000, ownershipRetentionMs: 1_000 });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/holdBackMs .* exceeds maxOutOfOrderMs \+ allowedLatenessMs/);
    expect(problems[1]).toMatch(/ownershipPublishIntervalMs .* must be below holdBackMs/);
    expect(problems[2]).toMatch(/ownershipRetentionMs .* must cover/);
  });

  it('refuses to start with a config that cannot work', () => {
    expect(() => new FlowIngestor({ ...DEFAULT_FLOW_INGESTOR_CONFIG, windowMs: -5 }, new ManualClock())).toThrow(/windowMs must be a positive number/);
  });
});
