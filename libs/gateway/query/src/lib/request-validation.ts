import {
  Direction,
  Granularity,
  GRANULARITIES,
  Health,
  HEALTH_STATES,
  isNodeId,
  Layer,
  LAYERS,
  NodeFilters,
  NodeId,
  nodeId,
  TimeRange,
} from '@topology/model';
import { QueryError } from './query-error';

const DIRECTIONS: readonly Direction[] = ['down', 'up', 'both'];
const FILTER_KEYS = ['tiers', 'domains', 'owners', 'regions', 'health'] as const;

function invalid(message: string): QueryError {
  return new QueryError('invalid-argument', message);
}

export function resolveDirection(direction: Direction | undefined): Direction {
  if (direction === undefined) return 'down';
  if (!DIRECTIONS.includes(direction)) throw invalid(`direction must be one of ${DIRECTIONS.join(', ')}, got ${String(direction)}`);
  return direction;
}

export function resolveGranularity(granularity: Granularity | undefined): Granularity {
  if (granularity === undefined) return 'app';
  if (!GRANULARITIES.includes(granularity)) throw invalid(`granularity must be one of ${GRANULARITIES.join(', ')}, got ${String(granularity)}`);
  return granularity;
}

/** A node id as given, or a bare name read as an app or a cluster according to the granularity. */
export function resolveNodeRef(ref: string, granularity: Granularity, field: string): NodeId {
  if (typeof ref !== 'string' || ref.length === 0) throw invalid(`${field} must be a node id or a name, got an empty value`);
  if (ref.includes(':')) {
    if (!isNodeId(ref)) throw invalid(`${field} ${JSON.stringify(ref)} is not a node id (kind:name, kind one of app, cluster, intermediary, external, unknown)`);
    return ref;
  }
  try {
    return nodeId(granularity === 'app' ? 'app' : 'cluster', ref);
  } catch (error) {
    throw invalid(`${field} ${JSON.stringify(ref)}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function resolveRoots(roots: readonly string[] | undefined, granularity: Granularity, maxRoots: number): NodeId[] {
  if (roots === undefined || roots.length === 0) throw invalid('roots must name at least one node');
  if (roots.length > maxRoots) throw invalid(`at most ${maxRoots} roots may be given, got ${roots.length}`);
  const ids = new Set<NodeId>();
  for (const root of roots) ids.add(resolveNodeRef(root, granularity, 'root'));
  return [...ids].sort();
}

/** The requested layers in `LAYERS` order, without repeats; none means every served layer. */
export function resolveLayers(layers: readonly Layer[] | undefined, served: readonly Layer[]): Layer[] {
  if (layers === undefined || layers.length === 0) return [...served];
  for (const layer of layers) {
    if (!LAYERS.includes(layer)) throw invalid(`layer must be one of ${LAYERS.join(', ')}, got ${String(layer)}`);
  }
  return LAYERS.filter((layer) => layers.includes(layer));
}

export interface ResolvedRange {
  range: TimeRange;
  /** The request asked for the live view (0/0), which moves with now. */
  live: boolean;
}

/** 0/0 (or no range) is the live view `[asOf − ttl, asOf]`; `toMs` is exclusive, hence the +1. */
export function resolveRange(range: TimeRange | undefined, asOfMs: number, liveTtlMs: number): ResolvedRange {
  if (range === undefined || (range.fromMs === 0 && range.toMs === 0)) {
    return { range: { fromMs: Math.max(0, asOfMs - liveTtlMs), toMs: asOfMs + 1 }, live: true };
  }
  const { fromMs, toMs } = range;
  if (!Number.isSafeInteger(fromMs) || !Number.isSafeInteger(toMs) || fromMs < 0 || toMs < 0) {
    throw invalid(`range must be epoch milliseconds, got [${fromMs}, ${toMs})`);
  }
  if (fromMs >= toMs) throw invalid(`range is empty: from_ms ${fromMs} is not before to_ms ${toMs}`);
  return { range: { fromMs, toMs }, live: false };
}

/** 0 or absent means `whenZero`; negative, fractional or above `max` is rejected. */
export function resolveDepth(depth: number | undefined, whenZero: number, max: number): number {
  if (depth === undefined || depth === 0) return whenZero;
  if (!Number.isSafeInteger(depth) || depth < 0) throw invalid(`depth must be a non-negative integer, got ${depth}`);
  if (depth > max) throw invalid(`depth ${depth} exceeds the maximum of ${max}`);
  return depth;
}

export function resolvePageSize(pageSize: number | undefined, defaultSize: number, max: number): number {
  if (pageSize === undefined || pageSize === 0) return defaultSize;
  if (!Number.isSafeInteger(pageSize) || pageSize < 0) throw invalid(`page_size must be a non-negative integer, got ${pageSize}`);
  return Math.min(pageSize, max);
}

function healthState(value: string): Health {
  const state = HEALTH_STATES.find((h) => h === value);
  if (state === undefined) throw invalid(`filter health must be one of ${HEALTH_STATES.join(', ')}, got ${value}`);
  return state;
}

/** Filters with their values sorted and empty lists dropped, so equal filters read the same. */
export function resolveFilters(filters: NodeFilters | undefined): NodeFilters | undefined {
  if (filters === undefined) return undefined;
  const out: NodeFilters = {};
  let any = false;
  for (const key of FILTER_KEYS) {
    const values = filters[key];
    if (values === undefined || values.length === 0) continue;
    for (const value of values) {
      if (typeof value !== 'string' || value.length === 0) throw invalid(`filter ${key} has an empty value`);
    }
    if (key === 'health') out.health = [...new Set(values.map(healthState))].sort();
    else out[key] = [...new Set(values)].sort();
    any = true;
  }
  return any ? out : undefined;
}
