import { ConfigError } from '@topology/runtime-pipeline';
import { loadEnricherConfig } from './enricher.config';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadEnricherConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('enricher configuration from the environment', () => {
  it('writes the network store under the data folder, keeping a week of history by default', () => {
    const config = loadEnricherConfig({ TOPOLOGY_DATA_DIR: '/var/lib/topology' });
    expect({ dataDir: config.dataDir, retentionMs: config.retentionMs, bucketMs: config.network.bucketMs }).toEqual({ dataDir: '/var/lib/topology', retentionMs: 604_800_000, bucketMs: 60_000 });
  });

  it('rejects a retention shorter than a bucket and windows that do not fit buckets', () => {
    expect(problemsOf({ TOPOLOGY_RETENTION_MS: '60000', TOPOLOGY_BUCKET_MS: '120000', TOPOLOGY_WINDOW_MS: '7000' })).toEqual([
      'TOPOLOGY_BUCKET_MS (120000) must be a multiple of TOPOLOGY_WINDOW_MS (7000)',
      'TOPOLOGY_RETENTION_MS (60000) must be at least TOPOLOGY_BUCKET_MS (120000)',
    ]);
  });

  it('rejects a value that is not a number', () => {
    expect(problemsOf({ TOPOLOGY_RETENTION_MS: '7d' })).toEqual(['TOPOLOGY_RETENTION_MS="7d": expected an integer in [60000, 9007199254740991]']);
  });
});
