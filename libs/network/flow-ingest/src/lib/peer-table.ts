import { IntermediaryType, NodeId, Peer, UnknownReason, WorkloadIdentity, nodeId, parseClusterName, peerNodeId } from '@topology/model';
import type { IpAssignment } from '@topology/contracts';
import type { PeerPair } from './window-pre-aggregator';

/** Every field of the peer, so two distinct interned peers never sort as equal. */
function exactKey(peer: Peer): string {
  switch (peer.kind) {
    case 'workload':
      return `w/${peer.cluster}/${peer.app}/${peer.region ?? ''}/${peer.account ?? ''}`;
    case 'intermediary':
      return `i/${peer.id}/${peer.type}/${peer.name ?? ''}/${peer.region ?? ''}`;
    case 'external':
      return `e/${peer.name}/${peer.cidr ?? ''}`;
    case 'unknown':
      return `u/${peer.reason}/${peer.ip}/${peer.region ?? ''}`;
  }
}

const NO_VIA: readonly string[] = Object.freeze([]);
const WHITESPACE = /\s/;

/**
 * A peer as attribution hands it on: interned, so the pre-aggregator can key its state by object
 * identity instead of building key strings per record.
 */
export class AttributedPeer {
  readonly clusterNode: NodeId;
  /** Sorts entries of a snapshot the same way whatever order records came in. */
  readonly sortKey: string;
  /** Node id when traffic through this peer is resolved by stage 2; otherwise undefined. */
  intermediaryNode: NodeId | undefined;
  /** The `via` this peer stands for when a record shows traffic passing through it. */
  via: readonly string[] = NO_VIA;
  /** Start of the latest window that used this peer; peers unused by open windows can be dropped. */
  lastWindowStartMs = Number.NEGATIVE_INFINITY;
  /** Pre-aggregation state of traffic from this peer, by destination; kept by the pre-aggregator. */
  outbound: Map<AttributedPeer, PeerPair> | undefined;

  constructor(readonly peer: Peer, intermediaryNode?: NodeId) {
    Object.freeze(peer);
    this.clusterNode = peerNodeId(peer, 'cluster');
    this.sortKey = exactKey(peer);
    this.setIntermediaryNode(intermediaryNode);
  }

  setIntermediaryNode(node: NodeId | undefined): void {
    // The via list is compared by identity in the pre-aggregator: keep it while nothing changes.
    if (node === this.intermediaryNode && (node === undefined || this.via.length > 0)) return;
    this.intermediaryNode = node;
    this.via = node === undefined ? NO_VIA : Object.freeze([node]);
  }
}

/** A workload identity that owns addresses over time ranges. */
export class WorkloadOwner extends AttributedPeer {
  /** Ownership ranges that point at this owner; an owner with ranges is never dropped. */
  rangeCount = 0;

  constructor(
    readonly app: string,
    readonly cluster: string,
    readonly region: string | undefined,
    readonly account: string | undefined,
  ) {
    super({ kind: 'workload', app, cluster, ...(region ? { region } : {}), ...(account ? { account } : {}) });
  }
}

interface OwnersOfCluster {
  /** The app a cluster name implies, used when an identity names no app. */
  readonly impliedApp: string;
  readonly owners: WorkloadOwner[];
}

function validName(name: string): boolean {
  return name.length > 0 && !WHITESPACE.test(name);
}

/**
 * Interns every peer attribution produces. Workload owners are looked up per record, so that path
 * compares a few fields of a short list instead of joining strings.
 */
export class PeerTable {
  private readonly clusters = new Map<string, OwnersOfCluster>();
  private readonly intermediaryApps = new Map<string, IntermediaryType>();
  private readonly intermediaries = new Map<string, AttributedPeer[]>();
  private readonly unknowns = new Map<string, AttributedPeer>();

  /**
   * The interned owner of an identity, or undefined when the identity is unusable (no cluster
   * and no app, or a name with whitespace, which no node id may contain).
   */
  owner(identity: WorkloadIdentity): WorkloadOwner | undefined {
    // An identity without cluster is an app deployed as a single cluster of its own name.
    const cluster = identity.cluster || identity.app;
    let entry = this.clusters.get(cluster);
    if (entry === undefined) {
      if (!validName(cluster)) return undefined;
      entry = { impliedApp: parseClusterName(cluster).app, owners: [] };
      this.clusters.set(cluster, entry);
    }
    const app = identity.app || entry.impliedApp;
    const region = identity.region || undefined;
    const account = identity.account || undefined;
    const owners = entry.owners;
    for (let i = 0; i < owners.length; i++) {
      const owner = owners[i] as WorkloadOwner;
      if (owner.app === app && owner.region === region && owner.account === account) return owner;
    }
    if (!validName(app) || (region !== undefined && !validName(region)) || (account !== undefined && WHITESPACE.test(account))) return undefined;
    const owner = new WorkloadOwner(app, cluster, region, account);
    const type = this.intermediaryApps.get(app);
    if (type !== undefined) owner.setIntermediaryNode(nodeId('app', app));
    owners.push(owner);
    return owner;
  }

  /** Marks (or unmarks) an app as a proxy or API gateway: stage 2 resolves traffic through it. */
  setIntermediaryApp(app: string, type: IntermediaryType | undefined): void {
    if (type === undefined) this.intermediaryApps.delete(app);
    else this.intermediaryApps.set(app, type);
    if (!validName(app)) return;
    const node = type === undefined ? undefined : nodeId('app', app);
    for (const entry of this.clusters.values()) {
      for (const owner of entry.owners) if (owner.app === app) owner.setIntermediaryNode(node);
    }
  }

  /** The peer of an IP assignment's intermediary, or undefined when its id is unusable. */
  intermediary(assignment: IpAssignment): AttributedPeer | undefined {
    const id = assignment.intermediaryId;
    if (!validName(id)) return undefined;
    let list = this.intermediaries.get(id);
    if (list === undefined) {
      list = [];
      this.intermediaries.set(id, list);
    }
    const name = assignment.name || undefined;
    const region = assignment.region || undefined;
    for (const ref of list) {
      const peer = ref.peer;
      if (peer.kind === 'intermediary' && peer.type === assignment.type && peer.name === name && peer.region === region) return ref;
    }
    const peer: Peer = { kind: 'intermediary', id, type: assignment.type, ...(name ? { name } : {}), ...(region ? { region } : {}) };
    const ref = new AttributedPeer(peer, nodeId('intermediary', id));
    list.push(ref);
    return ref;
  }

  unknown(reason: UnknownReason, ip: string, region: string | undefined): AttributedPeer {
    // Only hold-back expiry and address-less records come here, never the per-record fast path.
    const key = `${reason}\u0000${ip}\u0000${region ?? ''}`;
    let ref = this.unknowns.get(key);
    if (ref === undefined) {
      ref = new AttributedPeer({ kind: 'unknown', reason, ip: ip || '-', ...(region ? { region } : {}) });
      this.unknowns.set(key, ref);
    }
    return ref;
  }

  /**
   * Drops peers that no open window and no ownership range refers to. A peer still in use is never
   * dropped, so one peer never has two interned objects within a window.
   */
  prune(oldestOpenWindowStartMs: number): number {
    let dropped = 0;
    for (const [cluster, entry] of this.clusters) {
      const kept = entry.owners.filter((o) => o.rangeCount > 0 || o.lastWindowStartMs >= oldestOpenWindowStartMs);
      dropped += entry.owners.length - kept.length;
      if (kept.length === 0) this.clusters.delete(cluster);
      else if (kept.length !== entry.owners.length) this.clusters.set(cluster, { impliedApp: entry.impliedApp, owners: kept });
    }
    for (const [key, ref] of this.unknowns) {
      if (ref.lastWindowStartMs < oldestOpenWindowStartMs) {
        this.unknowns.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  get ownerCount(): number {
    let count = 0;
    for (const entry of this.clusters.values()) count += entry.owners.length;
    return count;
  }
}
