export * from './lib/intermediary-resolver-config';
export * from './lib/intermediary-resolver';
