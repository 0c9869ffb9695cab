import {
  EdgeBucket,
  GRANULARITIES,
  Granularity,
  HEALTH_STATES,
  INTERMEDIARY_TYPES,
  isNodeId,
  NODE_KINDS,
  NodeId,
  NodeKind,
  NodeRecord,
  NodeUpsert,
  parseNodeId,
  UNKNOWN_REASONS,
} from '@topology/model';

/**
 * The rules a record must satisfy before any adapter stores it. Adapters reject a record that breaks
 * one with `StoreError('invalid-record')` and still write the rest of its batch.
 */

/** `app` and `cluster` nodes exist at one granularity only; every other kind at both. */
export function granularityOfKind(kind: NodeKind): Granularity | undefined {
  return kind === 'app' || kind === 'cluster' ? kind : undefined;
}

const OPTIONAL_STRINGS = ['app', 'cluster', 'account', 'tier', 'domain', 'owner', 'region', 'address'] as const;

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isOneOf<T extends string>(values: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (values as readonly string[]).includes(value);
}

/** Why a node upsert breaks the contract, or `undefined` when it may be stored. */
export function nodeUpsertViolation(node: NodeUpsert): string | undefined {
  if (node === null || typeof node !== 'object') return 'not an object';
  if (typeof node.id !== 'string' || !isNodeId(node.id)) return `id ${JSON.stringify(node.id)} is not a node id`;
  if (!isOneOf(NODE_KINDS, node.kind)) return `unknown node kind ${JSON.stringify(node.kind)}`;
  if (parseNodeId(node.id).kind !== node.kind) return `kind ${node.kind} does not match id ${node.id}`;
  if (node.granularity !== undefined) {
    if (!isOneOf(GRANULARITIES, node.granularity)) return `unknown granularity ${JSON.stringify(node.granularity)}`;
    const own = granularityOfKind(node.kind);
    if (own !== undefined && own !== node.granularity) return `${node.kind} node ${node.id} cannot be at ${node.granularity} granularity`;
  }
  if (typeof node.displayName !== 'string') return 'displayName is not a string';
  if (!isFiniteNumber(node.firstSeenMs) || !isFiniteNumber(node.lastSeenMs)) return 'first/last seen are not finite numbers';
  if (node.firstSeenMs > node.lastSeenMs) return 'firstSeenMs is after lastSeenMs';
  if (node.health !== undefined && !isOneOf(HEALTH_STATES, node.health)) return `unknown health ${JSON.stringify(node.health)}`;
  if (node.intermediaryType !== undefined && !isOneOf(INTERMEDIARY_TYPES, node.intermediaryType)) {
    return `unknown intermediary type ${JSON.stringify(node.intermediaryType)}`;
  }
  if (node.unknownReason !== undefined && !isOneOf(UNKNOWN_REASONS, node.unknownReason)) {
    return `unknown reason ${JSON.stringify(node.unknownReason)}`;
  }
  for (const field of OPTIONAL_STRINGS) {
    const value = node[field];
    if (value !== undefined && typeof value !== 'string') return `${field} is not a string`;
  }
  if (node.reportsIpcMetrics !== undefined && typeof node.reportsIpcMetrics !== 'boolean') return 'reportsIpcMetrics is not a boolean';
  return undefined;
}

const MAX_PAYLOAD_DEPTH = 16;

/** Why a payload cannot be stored as JSON without loss: a non-finite number, a function, a cycle. */
function payloadViolation(value: unknown, depth: number): string | undefined {
  if (depth > MAX_PAYLOAD_DEPTH) return 'payload nests too deep';
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? undefined : `payload holds a non-finite number (${value})`;
    case 'string':
    case 'boolean':
    case 'undefined':
      return undefined;
    case 'object': {
      if (value === null) return undefined;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const violation = payloadViolation(value[i], depth + 1);
          if (violation !== undefined) return violation;
        }
        return undefined;
      }
      const fields = value as Record<string, unknown>;
      for (const key in fields) {
        const violation = payloadViolation(fields[key], depth + 1);
        if (violation !== undefined) return violation;
      }
      return undefined;
    }
    default:
      return `payload holds a ${typeof value}`;
  }
}

/** Why a bucket breaks the contract, or `undefined` when it may be stored. */
export function edgeBucketViolation(bucket: EdgeBucket<unknown>, bucketMs: number): string | undefined {
  if (bucket === null || typeof bucket !== 'object') return 'not an object';
  if (typeof bucket.src !== 'string' || !isNodeId(bucket.src)) return `src ${JSON.stringify(bucket.src)} is not a node id`;
  if (typeof bucket.dst !== 'string' || !isNodeId(bucket.dst)) return `dst ${JSON.stringify(bucket.dst)} is not a node id`;
  if (!isOneOf(GRANULARITIES, bucket.granularity)) return `unknown granularity ${JSON.stringify(bucket.granularity)}`;
  for (const end of [bucket.src, bucket.dst]) {
    const own = granularityOfKind(parseNodeId(end).kind);
    if (own !== undefined && own !== bucket.granularity) return `${end} cannot be at ${bucket.granularity} granularity`;
  }
  if (!Number.isSafeInteger(bucket.bucketStartMs) || bucket.bucketStartMs % bucketMs !== 0) {
    return `bucketStartMs ${bucket.bucketStartMs} is not aligned to ${bucketMs} ms`;
  }
  if (!isFiniteNumber(bucket.firstSeenMs) || !isFiniteNumber(bucket.lastSeenMs)) return 'first/last seen are not finite numbers';
  if (bucket.firstSeenMs > bucket.lastSeenMs) return 'firstSeenMs is after lastSeenMs';
  if (bucket.props === null || typeof bucket.props !== 'object') return 'props is not an object';
  return payloadViolation(bucket.props, 0);
}

/**
 * The node a bucket makes known when its endpoint was never upserted: kind and name from the id,
 * health unknown. Stores upsert it with the bucket's seen times so every edge endpoint exists.
 */
export function endpointNode(id: NodeId, firstSeenMs: number, lastSeenMs: number): NodeUpsert {
  const { kind, name } = parseNodeId(id);
  const granularity = granularityOfKind(kind);
  return { id, kind, ...(granularity ? { granularity } : {}), displayName: name, firstSeenMs, lastSeenMs };
}

/** A readable record for a node the store has no row for (for example removed by retention). */
export function nodeRecordFromId(id: NodeId, firstSeenMs: number, lastSeenMs: number): NodeRecord {
  return { ...endpointNode(id, firstSeenMs, lastSeenMs), health: 'unknown' };
}

import type { EdgeBucketRef } from '@topology/model';
export type { EdgeBucketRef };

/**
 * A capability both adapters have and the port does not yet declare: remove buckets, for example
 * one whose last contribution was withdrawn. Idempotent; an edge left without buckets disappears.
 * Returns the number of buckets removed.
 */
export interface DeletesEdgeBuckets {
  deleteEdgeBuckets(refs: EdgeBucketRef[]): Promise<number>;
}

export function canDeleteEdgeBuckets(store: object): store is DeletesEdgeBuckets {
  return typeof (store as Partial<DeletesEdgeBuckets>).deleteEdgeBuckets === 'function';
}
