import { ConfigError } from '@topology/runtime-pipeline';
import { loadIntermediaryResolverConfig } from './intermediary-resolver.config';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadIntermediaryResolverConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('intermediary-resolver configuration from the environment', () => {
  it('has defaults that work', () => {
    const config = loadIntermediaryResolverConfig({});
    expect({ groupId: config.groupId, maxChainDepth: config.maxChainDepth, http: config.httpAddress }).toEqual({ groupId: 'intermediary-resolver', maxChainDepth: 4, http: '0.0.0.0:4382' });
  });

  it('lets instances share one group and names each instance apart', () => {
    const a = loadIntermediaryResolverConfig({ TOPOLOGY_GROUP_ID: 'resolvers' });
    const b = loadIntermediaryResolverConfig({ TOPOLOGY_GROUP_ID: 'resolvers' });
    expect(a.groupId).toBe(b.groupId);
    expect(a.instanceId).not.toBe(b.instanceId);
  });

  it('reports every wrong value at once', () => {
    expect(problemsOf({ TOPOLOGY_MAX_CHAIN_DEPTH: '0', TOPOLOGY_GROUP_ID: 'two words', TOPOLOGY_HTTP_ADDRESS: 'localhost' })).toEqual([
      'TOPOLOGY_GROUP_ID="two words": expected letters, digits, \'.\', \'_\' or \'-\'',
      'TOPOLOGY_HTTP_ADDRESS="localhost": expected host:port',
      'TOPOLOGY_MAX_CHAIN_DEPTH="0": expected an integer in [1, 32]',
    ]);
  });
});
