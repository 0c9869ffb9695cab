export * from './lib/embedded-graph-store';
