export * from './lib/observed-flow';
