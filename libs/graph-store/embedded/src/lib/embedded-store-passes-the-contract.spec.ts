import { networkBucketMerger } from '@topology/model';
import { describeGraphLayerStoreContract } from '@topology/graph-store-contract';
import { EmbeddedGraphStore } from './embedded-graph-store';

const BUCKET_MS = 60_000;

describeGraphLayerStoreContract('EmbeddedGraphStore', (dir) => EmbeddedGraphStore.open({ dir, layer: 'network', bucketMs: BUCKET_MS }, networkBucketMerger), {
  openReader: (dir) => EmbeddedGraphStore.open({ dir, layer: 'network', bucketMs: BUCKET_MS, readonly: true }, networkBucketMerger),
});
