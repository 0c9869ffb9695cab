export * from './lib/query-error';
export * from './lib/query-config';
export * from './lib/queries';
export { systemTimer } from './lib/layer-fan-out';
export type { Timer } from './lib/layer-fan-out';
export { TopologyQueryService, QUERY_COUNTERS, teamsToNotify } from './lib/topology-query-service';
export type { QueryCounter, QueryServiceDeps } from './lib/topology-query-service';
export { InMemoryLayerReader } from './lib/testing/in-memory-layer-reader';
