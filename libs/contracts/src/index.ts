export * from './lib/topics';
export * from './lib/dead-letter';
export * from './lib/messages';
export * from './lib/codec';
export * from './lib/proto-files';
