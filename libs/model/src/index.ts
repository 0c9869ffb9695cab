export * from './lib/ids';
export * from './lib/peer';
export * from './lib/cluster-name';
export * from './lib/graph';
export * from './lib/graph-layer-store';
export * from './lib/network-props';
export * from './lib/counters';
