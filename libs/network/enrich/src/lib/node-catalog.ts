import type { AppMetadata, ExternalRange, HealthEvent, IpAssignment } from '@topology/contracts';
import type { Granularity, Health, NodeId, NodeUpsert, Peer } from '@topology/model';

/** The app a workload belongs to; stage 1 fills it, and the cluster-name convention is the fallback. */
export type WorkloadPeer = Extract<Peer, { kind: 'workload' }>;

/**
 * One node as the flows showed it. A workload peer has two: its app node and its cluster node.
 * Regions and accounts are kept as sets because an app (or a stretched cluster) can span several;
 * the node only states one when it has seen exactly one.
 */
interface NodeState {
  id: NodeId;
  granularity: Granularity | undefined;
  peer: Peer;
  app: string | undefined;
  regions: Set<string>;
  accounts: Set<string>;
  firstSeenMs: number;
  lastSeenMs: number;
  touchedAtMs: number;
  written: NodeUpsert | undefined;
}

interface HealthReport {
  health: Health;
  atMs: number;
}

/**
 * The nodes the enricher has seen and the metadata that describes them. Produces a `NodeUpsert`
 * for each node whose description changed since it was last written, whether the change came from
 * traffic (a new node, a longer seen range) or from metadata arriving later.
 */
export class NodeCatalog {
  private readonly nodes = new Map<string, NodeState>();
  private readonly clustersByApp = new Map<string, Set<NodeState>>();
  private readonly dirty = new Set<NodeState>();

  private readonly apps = new Map<string, AppMetadata>();
  private readonly health = new Map<string, HealthReport>();
  private readonly assignments = new Map<string, IpAssignment>();
  private readonly externalCidrs = new Map<string, Set<string>>();

  /**
   * Records that a peer took part in traffic over [firstSeenMs, lastSeenMs]. The node is always
   * re-described on the next flush; only a description that differs from the last one written is
   * emitted, so replays cost no writes.
   */
  see(peer: Peer, id: NodeId, granularity: Granularity | undefined, app: string | undefined, firstSeenMs: number, lastSeenMs: number, nowMs: number): void {
    let node = this.nodes.get(id);
    if (node === undefined) {
      node = { id, granularity, peer, app, regions: new Set(), accounts: new Set(), firstSeenMs, lastSeenMs, touchedAtMs: nowMs, written: undefined };
      this.nodes.set(id, node);
      if (granularity === 'cluster' && app !== undefined) this.indexCluster(app, node);
    } else {
      if (firstSeenMs < node.firstSeenMs) node.firstSeenMs = firstSeenMs;
      if (lastSeenMs > node.lastSeenMs) node.lastSeenMs = lastSeenMs;
      node.peer = peer;
      node.touchedAtMs = nowMs;
    }
    if (peer.kind === 'external') {
      if (peer.cidr !== undefined) this.addExternalCidr(peer.name, peer.cidr);
    } else {
      if (peer.region !== undefined) node.regions.add(peer.region);
      if (peer.kind === 'workload' && peer.account !== undefined) node.accounts.add(peer.account);
    }
    this.dirty.add(node);
  }

  private indexCluster(app: string, node: NodeState): void {
    let clusters = this.clustersByApp.get(app);
    if (clusters === undefined) {
      clusters = new Set();
      this.clustersByApp.set(app, clusters);
    }
    clusters.add(node);
  }

  private touch(id: string): void {
    const node = this.nodes.get(id);
    if (node !== undefined) this.dirty.add(node);
  }

  /** Owner, domain, tier (and whether the app is a gateway or proxy) for the app node and all its clusters. */
  applyApp(meta: AppMetadata): void {
    this.apps.set(meta.app, meta);
    this.touch(`app:${meta.app}`);
    for (const cluster of this.clustersByApp.get(meta.app) ?? []) this.dirty.add(cluster);
  }

  /** The latest health report of a node wins; a report older than the one held is ignored (returns false). */
  applyHealth(event: HealthEvent): boolean {
    const held = this.health.get(event.nodeId);
    if (held !== undefined && held.atMs > event.atMs) return false;
    this.health.set(event.nodeId, { health: event.health, atMs: event.atMs });
    this.touch(event.nodeId);
    return true;
  }

  /** Name, type and region of an intermediary; of several assignments the one that started last describes it. */
  applyIpAssignment(a: IpAssignment): void {
    const held = this.assignments.get(a.intermediaryId);
    if (held !== undefined && held.fromMs > a.fromMs) return;
    this.assignments.set(a.intermediaryId, a);
    this.touch(`intermediary:${a.intermediaryId}`);
  }

  applyExternalRange(r: ExternalRange): void {
    this.addExternalCidr(r.name, r.cidr);
  }

  private addExternalCidr(name: string, cidr: string): void {
    let cidrs = this.externalCidrs.get(name);
    if (cidrs === undefined) {
      cidrs = new Set();
      this.externalCidrs.set(name, cidrs);
    }
    if (cidrs.has(cidr)) return;
    cidrs.add(cidr);
    this.touch(`external:${name}`);
  }

  /** Upserts for the nodes whose description changed since they were last written. */
  flush(): NodeUpsert[] {
    const out: NodeUpsert[] = [];
    for (const node of this.dirty) {
      const upsert = this.describe(node);
      if (node.written !== undefined && sameUpsert(node.written, upsert)) continue;
      node.written = upsert;
      out.push(upsert);
    }
    this.dirty.clear();
    return out;
  }

  /** Forgets nodes not seen in traffic since `beforeMs` (processing time). Metadata is kept. Returns how many. */
  expire(beforeMs: number): number {
    let expired = 0;
    for (const [id, node] of this.nodes) {
      if (node.touchedAtMs >= beforeMs) continue;
      this.nodes.delete(id);
      this.dirty.delete(node);
      if (node.granularity === 'cluster' && node.app !== undefined) {
        const clusters = this.clustersByApp.get(node.app);
        clusters?.delete(node);
        if (clusters?.size === 0) this.clustersByApp.delete(node.app);
      }
      expired++;
    }
    return expired;
  }

  get size(): number {
    return this.nodes.size;
  }

  private describe(node: NodeState): NodeUpsert {
    const peer = node.peer;
    const base = {
      id: node.id,
      firstSeenMs: node.firstSeenMs,
      lastSeenMs: node.lastSeenMs,
      health: this.health.get(node.id)?.health,
    };
    switch (peer.kind) {
      case 'workload': {
        const app = node.app ?? peer.app;
        const meta = this.apps.get(app);
        const context = {
          app,
          region: only(node.regions),
          account: only(node.accounts),
          owner: meta?.owner,
          domain: meta?.domain,
          tier: meta?.tier,
          intermediaryType: meta?.intermediaryType,
        };
        return node.granularity === 'app'
          ? strip({ ...base, kind: 'app', granularity: 'app', displayName: app, ...context })
          : strip({ ...base, kind: 'cluster', granularity: 'cluster', displayName: peer.cluster, cluster: peer.cluster, ...context });
      }
      case 'intermediary': {
        const a = this.assignments.get(peer.id);
        return strip({
          ...base,
          kind: 'intermediary',
          displayName: a?.name ?? peer.name ?? peer.id,
          intermediaryType: a?.type ?? peer.type,
          region: a?.region ?? only(node.regions),
        });
      }
      case 'external': {
        const cidrs = this.externalCidrs.get(peer.name);
        return strip({
          ...base,
          kind: 'external',
          displayName: peer.name,
          address: cidrs === undefined ? undefined : [...cidrs].sort().join(', '),
        });
      }
      case 'unknown':
        return strip({
          ...base,
          kind: 'unknown',
          displayName: peer.ip.length > 0 ? peer.ip : peer.reason,
          unknownReason: peer.reason,
          address: peer.ip.length > 0 ? peer.ip : undefined,
          region: only(node.regions),
        });
    }
  }
}

function only(values: Set<string>): string | undefined {
  if (values.size !== 1) return undefined;
  for (const v of values) return v;
  return undefined;
}

function strip<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

const UPSERT_FIELDS = [
  'id',
  'kind',
  'granularity',
  'displayName',
  'app',
  'cluster',
  'account',
  'health',
  'firstSeenMs',
  'lastSeenMs',
  'intermediaryType',
  'unknownReason',
  'address',
  'tier',
  'domain',
  'owner',
  'region',
] as const satisfies readonly (keyof NodeUpsert)[];

function sameUpsert(a: NodeUpsert, b: NodeUpsert): boolean {
  for (const f of UPSERT_FIELDS) if (a[f] !== b[f]) return false;
  return true;
}
