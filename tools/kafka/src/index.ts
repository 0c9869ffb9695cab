export * from './lib/repository';
export * from './lib/built-apps';
export * from './lib/local-broker';
export * from './lib/app-process';
export * from './lib/fleet-publisher';
export * from './lib/network-map';
export * from './lib/local-pipeline';
export * from './lib/with-kafka';
