import type { DeadLetterReason, EdgeContribution, MetadataEvent, Rejection } from '@topology/contracts';
import type { Clock, EdgeBucket, Granularity, NetworkEdgeProps, NodeId, NodeUpsert, Peer } from '@topology/model';
import { CounterSet, edgeKey, emptyNetworkProps, isNodeId, nodeId, parseClusterName, peerNodeId } from '@topology/model';
import { BucketPart, BucketValue, bucketPartOf, foldParts, foldValues, partEqualsContribution, sameBucketValue } from './bucket-fold';
import { NetworkEnricherConfig, validateNetworkEnricherConfig } from './network-enricher-config';
import { NodeCatalog } from './node-catalog';

export const NETWORK_ENRICHER_COUNTERS = {
  contributions_accepted: 'Edge contributions stored for a (src, dst, window, scope) not held before',
  contributions_replaced: 'Edge contributions that replaced a different earlier one for the same (src, dst, window, scope)',
  contributions_unchanged: 'Edge contributions identical to the one already held (replays); nothing is rewritten',
  contributions_removed: 'Edge contributions withdrawn by a removal',
  removals_unmatched: 'Removals for a contribution not held (never seen, or already expired)',
  contributions_rejected: 'Edge contributions rejected as invalid, by dead-letter reason',
  buckets_written: 'History buckets whose payload changed and were emitted, by granularity',
  buckets_withdrawn: 'History buckets whose last contribution was removed, emitted as an all-zero hop payload, by granularity',
  buckets_expired: 'App-level buckets (with their cluster-level buckets) dropped from memory after retentionMs without contributions',
  nodes_written: 'Node upserts emitted because a node was new or its description changed',
  nodes_expired: 'Nodes dropped from memory after retentionMs without traffic',
  metadata_applied: 'Metadata events applied, by kind',
  health_events_stale: 'Health events older than the one already held for the node, ignored',
} as const;
export type NetworkEnricherCounter = keyof typeof NETWORK_ENRICHER_COUNTERS;

import type { EdgeBucketRef } from '@topology/model';
export type { EdgeBucketRef };

export interface NetworkEnricherOutput {
  nodes: NodeUpsert[];
  /** Buckets whose payload changed, withdrawn ones included (as an all-zero hop payload). */
  buckets: EdgeBucket<NetworkEdgeProps>[];
  /** The buckets of `buckets` that were withdrawn, for a store that can delete them instead. */
  withdrawn: EdgeBucketRef[];
}

interface ClusterBucket {
  key: string;
  src: NodeId;
  dst: NodeId;
  bucketStartMs: number;
  /** By `<window start>/<scope>`. */
  parts: Map<string, BucketPart>;
  /** As last emitted. */
  value: BucketValue | undefined;
  app: AppBucket;
}

/** The app-level bucket that a set of cluster-level buckets roll up into. */
interface AppBucket {
  key: string;
  src: NodeId;
  dst: NodeId;
  bucketStartMs: number;
  clusters: Set<ClusterBucket>;
  value: BucketValue | undefined;
  /** Processing time of the last contribution to any of its cluster buckets. */
  touchedAtMs: number;
}

const COUNT_FIELDS = ['bytesSent', 'bytesReceived', 'packetsSent', 'packetsReceived', 'connections', 'retransmits', 'rttSumUs', 'rttSamples'] as const;

class InvalidContribution {
  constructor(
    readonly reason: DeadLetterReason,
    readonly message: string,
  ) {}
}

function appOf(peer: Extract<Peer, { kind: 'workload' }>): string {
  return peer.app.length > 0 ? peer.app : parseClusterName(peer.cluster).app;
}

function appLevelId(peer: Peer, clusterLevelId: NodeId): NodeId {
  return peer.kind === 'workload' ? nodeId('app', appOf(peer)) : clusterLevelId;
}

/**
 * The key contributions to the enricher are partitioned by: their app-level edge. Every cluster
 * edge folded into one app-level bucket then reaches the same enricher instance, so instances
 * sharing a consumer group each write whole app-level buckets, never a part that replaces the rest.
 */
export function enricherPartitionKey(src: Peer, dst: Peer): string {
  return edgeKey(appLevelId(src, peerNodeId(src, 'cluster')), appLevelId(dst, peerNodeId(dst, 'cluster')));
}

interface Ends {
  src: NodeId;
  dst: NodeId;
  srcApp: NodeId;
  dstApp: NodeId;
}

/** The node ids of both ends at both granularities, or why a peer cannot be named. */
function endsOf(c: EdgeContribution): Ends | InvalidContribution {
  try {
    const src = peerNodeId(c.src, 'cluster');
    const dst = peerNodeId(c.dst, 'cluster');
    return { src, dst, srcApp: appLevelId(c.src, src), dstApp: appLevelId(c.dst, dst) };
  } catch (e) {
    return new InvalidContribution('invalid-value', `a peer cannot be named: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function isCount(v: number): boolean {
  return v >= 0 && v < Infinity;
}

function problemOf(c: EdgeContribution): InvalidContribution | undefined {
  const w = c.window;
  if (w === undefined || !Number.isSafeInteger(w.startMs) || w.startMs < 0) return new InvalidContribution('invalid-time', 'window start is not an epoch millisecond');
  if (typeof c.scope !== 'string' || c.scope.length === 0) return new InvalidContribution('missing-field', 'scope is empty');
  if (c.removed) return undefined;
  if (
    !isCount(c.bytesSent) ||
    !isCount(c.bytesReceived) ||
    !isCount(c.packetsSent) ||
    !isCount(c.packetsReceived) ||
    !isCount(c.connections) ||
    !isCount(c.retransmits) ||
    !isCount(c.rttSumUs) ||
    !isCount(c.rttSamples)
  ) {
    const field = COUNT_FIELDS.find((f) => !isCount(c[f]));
    return new InvalidContribution('invalid-value', `${field} is not a non-negative number: ${field === undefined ? '' : c[field]}`);
  }
  if (!(c.confidence >= 0 && c.confidence <= 1)) return new InvalidContribution('invalid-value', `confidence is outside [0, 1]: ${c.confidence}`);
  if (!(c.firstSeenMs <= c.lastSeenMs && isCount(c.firstSeenMs) && c.lastSeenMs < Infinity)) {
    return new InvalidContribution('invalid-time', `seen range [${c.firstSeenMs}, ${c.lastSeenMs}] is not a range`);
  }
  for (let i = 0; i < c.via.length; i++) {
    const v = c.via[i];
    if (v === undefined || !isNodeId(v)) return new InvalidContribution('invalid-value', `via holds something that is not a node id: ${JSON.stringify(v)}`);
  }
  for (let i = 0; i < c.ports.length; i++) {
    const p = c.ports[i];
    if (p === undefined || !Number.isInteger(p.port) || p.port < 0 || p.port > 65_535 || typeof p.protocol !== 'string') {
      return new InvalidContribution('invalid-value', `not a port and protocol: ${JSON.stringify(p)}`);
    }
  }
  return undefined;
}

/**
 * Stage 3 of the network pipeline: the final aggregation of resolved edge contributions into
 * history buckets at cluster and app granularity, and the nodes they touch, described with
 * metadata and health.
 *
 * Contributions are held per (src, dst, window, scope) at cluster level and replaced, never added,
 * so a replayed contribution converges. A bucket's payload is recomputed from everything held for
 * it whenever one of its contributions changes, and emitted only when the payload differs from the
 * one last emitted. The store's bucket write also replaces, so the whole path is idempotent.
 */
export class NetworkEnricher {
  readonly counters = new CounterSet<NetworkEnricherCounter>(NETWORK_ENRICHER_COUNTERS);

  private readonly clusterBuckets = new Map<string, ClusterBucket>();
  private readonly appBuckets = new Map<string, AppBucket>();
  private readonly dirty = new Set<ClusterBucket>();
  private readonly nodes = new NodeCatalog();
  private readonly sweepEveryMs: number;
  private nextSweepAtMs: number;

  constructor(
    private readonly config: NetworkEnricherConfig,
    private readonly clock: Clock,
  ) {
    const problems = validateNetworkEnricherConfig(config);
    if (problems.length > 0) throw new Error(`invalid network enricher config: ${problems.join('; ')}`);
    this.sweepEveryMs = Math.max(1_000, Math.floor(config.retentionMs / 10));
    this.nextSweepAtMs = clock.now() + this.sweepEveryMs;
  }

  /**
   * Takes one contribution from stage 2. Returns a `Rejection` (and counts it) when the
   * contribution cannot be used; never throws.
   */
  accept(c: EdgeContribution): Rejection | undefined {
    const ends = problemOf(c) ?? endsOf(c);
    if (ends instanceof InvalidContribution) {
      this.counters.inc('contributions_rejected', 1, ends.reason);
      return { reason: ends.reason, message: ends.message, raw: JSON.stringify(c) };
    }
    const { src, dst, srcApp, dstApp } = ends;

    const now = this.clock.now();
    const bucketStartMs = Math.floor(c.window.startMs / this.config.bucketMs) * this.config.bucketMs;
    const partKey = `${c.window.startMs}/${c.scope}`;
    const key = `${src} ${dst} ${bucketStartMs}`;
    let bucket = this.clusterBuckets.get(key);

    if (c.removed) {
      if (bucket === undefined || !bucket.parts.delete(partKey)) {
        this.counters.inc('removals_unmatched');
        return undefined;
      }
      this.counters.inc('contributions_removed');
      bucket.app.touchedAtMs = now;
      this.dirty.add(bucket);
      return undefined;
    }

    if (bucket === undefined) bucket = this.openBucket(key, src, dst, srcApp, dstApp, bucketStartMs, now);
    bucket.app.touchedAtMs = now;
    const held = bucket.parts.get(partKey);
    if (held !== undefined && partEqualsContribution(held, c)) {
      this.counters.inc('contributions_unchanged');
    } else {
      bucket.parts.set(partKey, bucketPartOf(c));
      this.counters.inc(held === undefined ? 'contributions_accepted' : 'contributions_replaced');
      this.dirty.add(bucket);
    }
    this.seePeer(c.src, src, srcApp, c, now);
    this.seePeer(c.dst, dst, dstApp, c, now);
    return undefined;
  }

  private openBucket(key: string, src: NodeId, dst: NodeId, srcApp: NodeId, dstApp: NodeId, bucketStartMs: number, now: number): ClusterBucket {
    const appKey = `${srcApp} ${dstApp} ${bucketStartMs}`;
    let app = this.appBuckets.get(appKey);
    if (app === undefined) {
      app = { key: appKey, src: srcApp, dst: dstApp, bucketStartMs, clusters: new Set(), value: undefined, touchedAtMs: now };
      this.appBuckets.set(appKey, app);
    }
    const bucket: ClusterBucket = { key, src, dst, bucketStartMs, parts: new Map(), value: undefined, app };
    app.clusters.add(bucket);
    this.clusterBuckets.set(key, bucket);
    return bucket;
  }

  private seePeer(peer: Peer, clusterLevel: NodeId, appLevel: NodeId, c: EdgeContribution, now: number): void {
    if (peer.kind === 'workload') {
      const app = appOf(peer);
      this.nodes.see(peer, appLevel, 'app', app, c.firstSeenMs, c.lastSeenMs, now);
      this.nodes.see(peer, clusterLevel, 'cluster', app, c.firstSeenMs, c.lastSeenMs, now);
    } else {
      this.nodes.see(peer, clusterLevel, undefined, undefined, c.firstSeenMs, c.lastSeenMs, now);
    }
  }

  /**
   * Metadata for the nodes: app context (owner, domain, tier) for an app node and all its cluster
   * nodes, health, intermediary names and types, and external ranges. It applies to nodes seen
   * before and after it; a node it changes is written again on the next flush. Listeners only
   * matter to stage 2.
   */
  applyMetadata(event: MetadataEvent): void {
    if ('app' in event) {
      this.nodes.applyApp(event.app);
      this.counters.inc('metadata_applied', 1, 'app');
    } else if ('health' in event) {
      if (this.nodes.applyHealth(event.health)) this.counters.inc('metadata_applied', 1, 'health');
      else this.counters.inc('health_events_stale');
    } else if ('ipAssignment' in event) {
      this.nodes.applyIpAssignment(event.ipAssignment);
      this.counters.inc('metadata_applied', 1, 'ip-assignment');
    } else if ('externalRange' in event) {
      this.nodes.applyExternalRange(event.externalRange);
      this.counters.inc('metadata_applied', 1, 'external-range');
    }
  }

  /** Everything that changed since the last flush: node upserts and bucket payloads at both granularities. */
  flush(): NetworkEnricherOutput {
    const buckets: EdgeBucket<NetworkEdgeProps>[] = [];
    const withdrawn: EdgeBucketRef[] = [];
    const changedApps = new Set<AppBucket>();

    for (const bucket of this.dirty) {
      const value = foldParts(bucket.parts.values());
      if (!sameBucketValue(bucket.value, value)) {
        this.emit(bucket, 'cluster', value, buckets, withdrawn);
        bucket.value = value;
        changedApps.add(bucket.app);
      }
      if (bucket.parts.size === 0) {
        this.clusterBuckets.delete(bucket.key);
        bucket.app.clusters.delete(bucket);
      }
    }
    this.dirty.clear();

    for (const app of changedApps) {
      const value = foldValues(clusterValues(app.clusters));
      if (!sameBucketValue(app.value, value)) {
        this.emit(app, 'app', value, buckets, withdrawn);
        app.value = value;
      }
      if (app.clusters.size === 0) this.appBuckets.delete(app.key);
    }

    const nodes = this.nodes.flush();
    this.counters.inc('nodes_written', nodes.length);
    this.sweep();
    return { nodes, buckets, withdrawn };
  }

  private emit(
    b: { src: NodeId; dst: NodeId; bucketStartMs: number },
    granularity: Granularity,
    value: BucketValue | undefined,
    buckets: EdgeBucket<NetworkEdgeProps>[],
    withdrawn: EdgeBucketRef[],
  ): void {
    if (value !== undefined) {
      buckets.push({ src: b.src, dst: b.dst, granularity, bucketStartMs: b.bucketStartMs, firstSeenMs: value.firstSeenMs, lastSeenMs: value.lastSeenMs, props: value.props });
      this.counters.inc('buckets_written', 1, granularity);
      return;
    }
    // The store port can only replace a bucket: an empty hop keeps the edge out of dependency
    // queries and adds nothing to any sum.
    buckets.push({ src: b.src, dst: b.dst, granularity, bucketStartMs: b.bucketStartMs, firstSeenMs: b.bucketStartMs, lastSeenMs: b.bucketStartMs, props: emptyNetworkProps() });
    withdrawn.push({ src: b.src, dst: b.dst, granularity, bucketStartMs: b.bucketStartMs });
    this.counters.inc('buckets_withdrawn', 1, granularity);
  }

  private sweep(): void {
    const now = this.clock.now();
    if (now < this.nextSweepAtMs) return;
    this.nextSweepAtMs = now + this.sweepEveryMs;
    const before = now - this.config.retentionMs;
    // Cluster buckets go with their app bucket: dropping one alone would let a later contribution
    // to a sibling rewrite the app-level bucket without it.
    for (const [key, app] of this.appBuckets) {
      if (app.touchedAtMs >= before) continue;
      for (const bucket of app.clusters) this.clusterBuckets.delete(bucket.key);
      this.appBuckets.delete(key);
      this.counters.inc('buckets_expired');
    }
    this.counters.inc('nodes_expired', this.nodes.expire(before));
  }

  /**
   * Whether the cluster-level bucket of (src, dst) starting at `bucketStartMs` is held in memory.
   * Once it is not (all its contributions removed, or expired after `retentionMs`), none of its past
   * contributions can change an output again, so a runtime may stop keeping them for a replay.
   */
  holdsBucket(src: NodeId, dst: NodeId, bucketStartMs: number): boolean {
    return this.clusterBuckets.has(`${src} ${dst} ${bucketStartMs}`);
  }

  /** How much is held in memory, for gauges. */
  stateSize(): { clusterBuckets: number; appBuckets: number; nodes: number } {
    return { clusterBuckets: this.clusterBuckets.size, appBuckets: this.appBuckets.size, nodes: this.nodes.size };
  }
}

function* clusterValues(buckets: Set<ClusterBucket>): Iterable<BucketValue> {
  for (const b of buckets) if (b.value !== undefined) yield b.value;
}
