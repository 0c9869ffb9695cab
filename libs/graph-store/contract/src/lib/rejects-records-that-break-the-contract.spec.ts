import { EdgeBucket, NodeId, nodeId, NodeUpsert } from '@topology/model';
import { edgeBucketViolation, nodeUpsertViolation } from './record-rules';

const node = (fields: Partial<NodeUpsert> = {}): NodeUpsert => ({
  id: nodeId('app', 'checkout'),
  kind: 'app',
  displayName: 'checkout',
  firstSeenMs: 1,
  lastSeenMs: 2,
  ...fields,
});

const bucket = (fields: Partial<EdgeBucket<unknown>> = {}): EdgeBucket<unknown> => ({
  src: nodeId('app', 'a'),
  dst: nodeId('intermediary', 'lb-1'),
  granularity: 'app',
  bucketStartMs: 120_000,
  firstSeenMs: 120_001,
  lastSeenMs: 120_002,
  props: { bytes: 1, paths: [{ via: [], confidence: 1 }] },
  ...fields,
});

describe('node upserts', () => {
  it('accepts a complete node', () => {
    expect(nodeUpsertViolation(node({ health: 'healthy', tier: 'tier-1', granularity: 'app' }))).toBeUndefined();
  });

  it.each<[string, NodeUpsert, RegExp]>([
    ['an unknown kind', { ...node(), kind: 'pod' } as unknown as NodeUpsert, /unknown node kind/],
    ['a kind the id contradicts', node({ kind: 'cluster' }), /does not match/],
    ['an app at cluster granularity', node({ granularity: 'cluster' }), /cannot be at cluster/],
    ['a NaN first seen', node({ firstSeenMs: Number.NaN }), /finite/],
    ['first seen after last seen', node({ firstSeenMs: 3 }), /after/],
    ['an unknown health', node({ health: 'fine' } as unknown as Partial<NodeUpsert>), /health/],
    ['a non-string owner', node({ owner: 7 } as unknown as Partial<NodeUpsert>), /owner/],
  ])('refuses %s', (_, record, reason) => {
    expect(nodeUpsertViolation(record)).toMatch(reason);
  });
});

describe('edge buckets', () => {
  it('accepts a bucket aligned to the width', () => {
    expect(edgeBucketViolation(bucket(), 60_000)).toBeUndefined();
  });

  it.each<[string, EdgeBucket<unknown>, RegExp]>([
    ['a start off the grid', bucket({ bucketStartMs: 120_500 }), /aligned/],
    ['a src that is not a node id', bucket({ src: 'checkout' as NodeId }), /not a node id/],
    ['a cluster node at app granularity', bucket({ dst: nodeId('cluster', 'db-v001') }), /cannot be at app/],
    ['a NaN deep in the payload', bucket({ props: { paths: [{ via: [], confidence: Number.NaN }] } }), /non-finite/],
    ['a payload that is not an object', bucket({ props: 5 }), /not an object/],
  ])('refuses %s', (_, record, reason) => {
    expect(edgeBucketViolation(record, 60_000)).toMatch(reason);
  });
});
