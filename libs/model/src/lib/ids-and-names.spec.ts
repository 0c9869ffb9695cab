import { edgeKey, nodeId, parseEdgeKey, parseNodeId } from './ids';
import { parseClusterName } from './cluster-name';
import { peerNodeId } from './peer';

describe('node ids and edge keys', () => {
  it('round-trips a node id whose name contains colons (IPv6)', () => {
    const id = nodeId('unknown', 'private-unmapped/fd00::1');
    expect(parseNodeId(id)).toEqual({ kind: 'unknown', name: 'private-unmapped/fd00::1' });
  });

  it('rejects names with whitespace and strings that are not ids', () => {
    expect(() => nodeId('app', 'a b')).toThrow(/whitespace/);
    expect(() => parseNodeId('bogus:x')).toThrow(/not a node id/);
    expect(() => parseNodeId('app:')).toThrow(/not a node id/);
  });

  it('round-trips an edge key', () => {
    const key = edgeKey(nodeId('app', 'api'), nodeId('cluster', 'db-prod-v001'));
    expect(parseEdgeKey(key)).toEqual({ src: 'app:api', dst: 'cluster:db-prod-v001' });
    expect(() => parseEdgeKey('app:api->app:db')).toThrow(/not an edge key/);
  });

  it('names workloads by granularity and everything else the same at both', () => {
    const w = { kind: 'workload', app: 'checkout', cluster: 'checkout-prod-v003' } as const;
    expect(peerNodeId(w, 'app')).toBe('app:checkout');
    expect(peerNodeId(w, 'cluster')).toBe('cluster:checkout-prod-v003');
    const lb = { kind: 'intermediary', id: 'lb-7', type: 'load-balancer' } as const;
    expect(peerNodeId(lb, 'app')).toBe(peerNodeId(lb, 'cluster'));
  });
});

describe('cluster names (app-stack-detail-vNNN)', () => {
  it.each([
    ['checkout-prod-canary-v012', { app: 'checkout', stack: 'prod', detail: 'canary', version: 12 }],
    ['checkout-prod-v003', { app: 'checkout', stack: 'prod', detail: undefined, version: 3 }],
    ['checkout', { app: 'checkout', stack: undefined, detail: undefined, version: undefined }],
    ['api--eu-v001', { app: 'api', stack: undefined, detail: 'eu', version: 1 }],
    ['edge-prod-a-b', { app: 'edge', stack: 'prod', detail: 'a-b', version: undefined }],
  ])('%s', (name, expected) => {
    expect(parseClusterName(name)).toEqual(expected);
  });
});
