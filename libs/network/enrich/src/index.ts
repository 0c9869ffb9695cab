export * from './lib/network-enricher-config';
export * from './lib/network-enricher';
export * from './lib/metadata-event';
