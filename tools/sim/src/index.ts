export * from './lib/config';
export * from './lib/fleet';
export * from './lib/truth';
export * from './lib/metadata';
export * from './lib/nat-flow-log';
export * from './lib/traffic';
export * from './lib/flow-record-json';
export * from './lib/write-simulation';
export { Random } from './lib/random';
