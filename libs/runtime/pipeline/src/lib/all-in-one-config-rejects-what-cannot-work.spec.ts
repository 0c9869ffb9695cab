import { loadAllInOneConfig } from './all-in-one.config';
import { ConfigError } from './env';

describe('all-in-one configuration', () => {
  it('has working defaults', () => {
    const c = loadAllInOneConfig({});
    expect(c.bucketMs % c.windowMs).toBe(0);
    expect(c.simulate).toBe(true);
  });

  it('reports every wrong value at once', () => {
    let error: unknown;
    try {
      loadAllInOneConfig({ TOPOLOGY_WINDOW_MS: '7000', TOPOLOGY_FLUSH_INTERVAL_MS: 'soon', TOPOLOGY_SIMULATE: 'maybe', TOPOLOGY_GRPC_ADDRESS: 'nowhere' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/TOPOLOGY_FLUSH_INTERVAL_MS="soon"/);
    expect(problems).toMatch(/TOPOLOGY_SIMULATE="maybe"/);
    expect(problems).toMatch(/TOPOLOGY_GRPC_ADDRESS="nowhere"/);
    expect(problems).toMatch(/multiple of TOPOLOGY_WINDOW_MS/);
  });
});
