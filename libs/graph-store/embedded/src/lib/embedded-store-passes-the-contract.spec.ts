import { networkBucketMerger } from '@topology/model';
import { describeGraphLayerStoreContract } from '@topology/graph-store-contract';
import { EmbeddedGraphStore, EmbeddedGraphStoreConfig } from './embedded-graph-store';

const BUCKET_MS = 60_000;

for (const graphIndex of ['memory', 'sql'] as const) {
  const config = (dir: string, readonly: boolean): EmbeddedGraphStoreConfig => ({ dir, layer: 'network', bucketMs: BUCKET_MS, readonly, graphIndex });
  describeGraphLayerStoreContract(`EmbeddedGraphStore with the ${graphIndex} graph index`, (dir) => EmbeddedGraphStore.open(config(dir, false), networkBucketMerger), {
    openReader: (dir) => EmbeddedGraphStore.open(config(dir, true), networkBucketMerger),
  });
}
