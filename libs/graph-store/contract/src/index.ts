export * from './lib/record-rules';
export * from './lib/node-filters';
export * from './lib/bucket-window';
export * from './lib/breadth-first';
export * from './lib/network-fixture';
export * from './lib/graph-layer-store-contract';
export * from './lib/server-under-test';
