export * from './lib/arango-graph-store';
export * from './lib/arango-keys';
