import { NodeFilters, NodeRecord } from '@topology/model';

function admits<T>(allowed: readonly T[] | undefined, value: T | undefined): boolean {
  return allowed === undefined || allowed.length === 0 || (value !== undefined && allowed.includes(value));
}

/** Whether a node matches every given filter; a filter with several values matches any of them, an empty one is no filter. */
export function matchesFilters(node: NodeRecord, filters: NodeFilters | undefined): boolean {
  if (filters === undefined) return true;
  return (
    admits(filters.tiers, node.tier) &&
    admits(filters.domains, node.domain) &&
    admits(filters.owners, node.owner) &&
    admits(filters.regions, node.region) &&
    admits(filters.health, node.health)
  );
}

export function hasFilters(filters: NodeFilters | undefined): boolean {
  if (filters === undefined) return false;
  return [filters.tiers, filters.domains, filters.owners, filters.regions, filters.health].some((f) => f !== undefined && f.length > 0);
}
