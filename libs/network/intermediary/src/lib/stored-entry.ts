import type { FlowAggregate, Observer } from '@topology/contracts';
import { INTERMEDIARY_TYPES, NodeId, Peer, UNKNOWN_REASONS, parseClusterName, peerKey, peerNodeId } from '@topology/model';

/** A validated snapshot entry with the identities the resolver groups by, computed once on arrival. */
export interface StoredEntry {
  readonly agg: FlowAggregate;
  /** Exact peer identity (`peerKey`), the grouping key of a connection's ends. */
  readonly srcKey: string;
  readonly dstKey: string;
  /** Cluster-granularity node ids, the identity of an emitted contribution's ends. */
  readonly srcNode: NodeId;
  readonly dstNode: NodeId;
}

const OBSERVERS: readonly Observer[] = ['client', 'server', 'network'];

const COUNTERS = [
  'bytesSent',
  'bytesReceived',
  'packetsSent',
  'packetsReceived',
  'connections',
  'retransmits',
  'rttSumUs',
  'rttSamples',
] as const;

const WHITESPACE = /\s/;

function isPlainName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && !WHITESPACE.test(v);
}

/** The peer with an app filled in from its cluster name when the record had none; undefined when unusable. */
function normalisedPeer(peer: unknown): Peer | undefined {
  if (typeof peer !== 'object' || peer === null) return undefined;
  const p = peer as Peer;
  switch (p.kind) {
    case 'workload':
      if (!isPlainName(p.cluster)) return undefined;
      if (p.app === '' || p.app === undefined) return { ...p, app: parseClusterName(p.cluster).app };
      return isPlainName(p.app) ? p : undefined;
    case 'intermediary':
      return isPlainName(p.id) && (INTERMEDIARY_TYPES as readonly string[]).includes(p.type) ? p : undefined;
    case 'external':
      return isPlainName(p.name) ? p : undefined;
    case 'unknown':
      return isPlainName(p.ip) && (UNKNOWN_REASONS as readonly string[]).includes(p.reason) ? p : undefined;
    default:
      return undefined;
  }
}

/** The entry ready for grouping, or the reason it cannot be used. */
export function storeEntry(entry: FlowAggregate): StoredEntry | string {
  if (typeof entry !== 'object' || entry === null) return 'entry is not an object';
  const src = normalisedPeer(entry.src);
  const dst = normalisedPeer(entry.dst);
  if (src === undefined) return 'src is not a usable peer';
  if (dst === undefined) return 'dst is not a usable peer';
  if (!Number.isInteger(entry.dstPort) || entry.dstPort < 0 || entry.dstPort > 65535) return `dstPort ${entry.dstPort} is not a port`;
  if (typeof entry.protocol !== 'string' || entry.protocol.length === 0) return 'protocol is empty';
  if (!OBSERVERS.includes(entry.observer)) return `observer ${String(entry.observer)} is not client, server or network`;
  for (const field of COUNTERS) {
    const v = entry[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return `${field} ${String(v)} is not a non-negative number`;
  }
  if (!Number.isFinite(entry.firstSeenMs) || !Number.isFinite(entry.lastSeenMs)) return 'first or last seen is not a time';
  if (!Number.isFinite(entry.confidence) || entry.confidence < 0 || entry.confidence > 1) return `confidence ${entry.confidence} is outside [0, 1]`;
  if (!Array.isArray(entry.via) || !entry.via.every(isPlainName)) return 'via is not a list of node ids';
  const agg = src === entry.src && dst === entry.dst ? entry : { ...entry, src, dst };
  return { agg, srcKey: peerKey(src), dstKey: peerKey(dst), srcNode: peerNodeId(src, 'cluster'), dstNode: peerNodeId(dst, 'cluster') };
}
