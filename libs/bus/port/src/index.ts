export * from './lib/bus';
