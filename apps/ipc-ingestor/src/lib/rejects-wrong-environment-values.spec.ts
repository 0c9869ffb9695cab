import { ConfigError } from '@topology/runtime-pipeline';
import { loadIpcIngestorConfig } from './ipc-ingestor.config';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadIpcIngestorConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('ipc-ingestor configuration from the environment', () => {
  it('writes the application store under its data folder with the pipeline bucket, a week of history and the ingestor defaults', () => {
    const config = loadIpcIngestorConfig({ TOPOLOGY_DATA_DIR: '/var/lib/topology/application', TOPOLOGY_BUCKET_MS: '120000', TOPOLOGY_WINDOW_MS: '10000' });
    expect({ dataDir: config.dataDir, retentionMs: config.retentionMs, bucketMs: config.ipc.bucketMs, lateness: config.ipc.allowedLatenessMs, group: config.groupId, http: config.httpAddress }).toEqual({
      dataDir: '/var/lib/topology/application',
      retentionMs: 604_800_000,
      bucketMs: 120_000,
      lateness: 600_000,
      group: 'ipc-ingestor',
      http: '0.0.0.0:4385',
    });
  });

  it('reads the ingestor settings: cumulative series, peer naming and health thresholds', () => {
    const config = loadIpcIngestorConfig({
      TOPOLOGY_IPC_INITIAL_CUMULATIVE: 'count',
      TOPOLOGY_IPC_SERIES_TTL_MS: '600000',
      TOPOLOGY_IPC_INTERNAL_HOST_SUFFIXES: '.mesh,.corp',
      TOPOLOGY_IPC_EXTERNAL_HOSTS: '.stripe.com=payments-psp, api.twilio.com=twilio',
      TOPOLOGY_IPC_DEGRADED_ERROR_RATE: '0.02',
      TOPOLOGY_IPC_HEALTH_MIN_CALLS: '50',
    });
    expect(config.ipc).toMatchObject({
      initialCumulative: 'count',
      seriesTtlMs: 600_000,
      peers: { internalHostSuffixes: ['.mesh', '.corp'], externalHosts: { '.stripe.com': 'payments-psp', 'api.twilio.com': 'twilio' } },
      health: { degradedErrorRate: 0.02, minCalls: 50, unhealthyErrorRate: 0.25 },
    });
  });

  it('reports every wrong value at once', () => {
    expect(problemsOf({ TOPOLOGY_IPC_INITIAL_CUMULATIVE: 'sometimes', TOPOLOGY_IPC_DEGRADED_ERROR_RATE: '5%', TOPOLOGY_IPC_EXTERNAL_HOSTS: 'stripe' })).toEqual([
      'TOPOLOGY_IPC_INITIAL_CUMULATIVE="sometimes": expected one of auto, count, drop',
      'TOPOLOGY_IPC_EXTERNAL_HOSTS: "stripe" is not host=name',
      'TOPOLOGY_IPC_DEGRADED_ERROR_RATE="5%": expected a number in [0, 1]',
    ]);
  });

  it('rejects settings the ingestor cannot work with', () => {
    expect(problemsOf({ TOPOLOGY_IPC_DEGRADED_ERROR_RATE: '0.5', TOPOLOGY_IPC_UNHEALTHY_ERROR_RATE: '0.1', TOPOLOGY_IPC_HEALTH_WINDOW_MS: '30000', TOPOLOGY_RETENTION_MS: '60000', TOPOLOGY_BUCKET_MS: '120000' })).toEqual([
      'ipc-ingestor: health.degradedErrorRate must not exceed health.unhealthyErrorRate',
      'ipc-ingestor: health.windowMs (30000) must be at least bucketMs (120000): health is judged on whole buckets',
      'TOPOLOGY_RETENTION_MS (60000) must be at least TOPOLOGY_BUCKET_MS (120000)',
    ]);
  });
});
