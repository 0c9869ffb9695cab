export * from './lib/clickhouse-executor';
export * from './lib/chdb-executor';
export * from './lib/server-executor';
export * from './lib/request-edge-window';
export * from './lib/clickhouse-request-store';
