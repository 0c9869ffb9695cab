export * from './lib/observed-flow';
export * from './lib/flow-ingestor';
export * from './lib/flow-ingestor-config';
export * from './lib/flow-ingest-counters';
export * from './lib/parsers';
