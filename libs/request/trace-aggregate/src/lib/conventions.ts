import { PeerSource, ProcessDirectory, VirtualPeer } from './span';

/**
 * The attribute names the request layer reads, current OpenTelemetry names first and the older
 * ones real data still carries after them.
 */
export const SERVICE_NAME = 'service.name';

/**
 * Resource attributes that name a service's cluster (one deployment of the app), first found wins.
 * `topology.cluster` is this platform's own, for fleets whose cluster names follow its
 * `app-stack-detail-vNNN` convention; the Kubernetes workload names follow. With none of them
 * the service is its own cluster.
 */
export const CLUSTER_ATTRIBUTES = ['topology.cluster', 'k8s.deployment.name', 'k8s.statefulset.name', 'k8s.daemonset.name'] as const;

export const REGION_ATTRIBUTE = 'cloud.region';

/** Attributes of a client or producer span that name its peer, grouped by what they name. */
export const PEER_ATTRIBUTES: Readonly<Record<PeerSource, readonly string[]>> = {
  service: ['service.peer.name', 'peer.service'],
  address: ['server.address', 'net.peer.name'],
  database: ['db.system.name', 'db.system'],
  messaging: ['messaging.system'],
};

/**
 * Host name suffixes of the fleet's own services (Kubernetes service names, internal DNS zones): a
 * host ending in one names the service in its first label (`orders.shop.svc.cluster.local` is
 * `app:orders`), as the application layer reads hosts too. Any other host name is an external
 * service named by the host; an address literal names nobody.
 */
export const INTERNAL_HOST_SUFFIXES = ['.svc.cluster.local', '.svc', '.cluster.local', '.internal', '.local', '.consul'] as const;

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const PORT = /:\d+$/;

/** The peer a host names, or undefined for an address literal. */
function hostPeer(directory: ProcessDirectory, raw: string): VirtualPeer | undefined {
  let host = raw.trim().toLowerCase();
  if (host.startsWith('[') || host.startsWith('/')) return undefined;
  // One colon is a port (`orders:8080`); more are an IPv6 literal.
  if (host.indexOf(':') === host.lastIndexOf(':')) host = host.replace(PORT, '');
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host === '' || host.includes(':') || IPV4.test(host)) return undefined;
  for (const suffix of INTERNAL_HOST_SUFFIXES) {
    if (host.endsWith(suffix) && host.length > suffix.length) return directory.peer(host.slice(0, host.indexOf('.')), 'service');
  }
  return directory.peer(host, 'address');
}

/** Refine a database or messaging system with what it holds: `postgresql/orders`, `kafka/payments`. */
export const DATABASE_NAMESPACE_ATTRIBUTES = ['db.namespace', 'db.name'] as const;
export const MESSAGING_DESTINATION_ATTRIBUTES = ['messaging.destination.name', 'messaging.destination'] as const;

const SERVICE = 0;
const ADDRESS = 1;
const DATABASE = 2;
const NAMESPACE = 3;
const MESSAGING = 4;
const DESTINATION = 5;
const SLOTS = 6;

/** Attribute name → the slot it fills and its rank there (lower wins), built from the lists above. */
const SLOT_OF = new Map<string, { slot: number; rank: number }>();
function addSlots(slot: number, names: readonly string[]): void {
  names.forEach((name, rank) => SLOT_OF.set(name, { slot, rank }));
}
addSlots(SERVICE, PEER_ATTRIBUTES.service);
addSlots(ADDRESS, PEER_ATTRIBUTES.address);
addSlots(DATABASE, PEER_ATTRIBUTES.database);
addSlots(NAMESPACE, DATABASE_NAMESPACE_ATTRIBUTES);
addSlots(MESSAGING, PEER_ATTRIBUTES.messaging);
addSlots(DESTINATION, MESSAGING_DESTINATION_ATTRIBUTES);

const UNSET = 127;

/**
 * Collects the peer attributes of one span while its attribute list is walked once, then names the
 * peer: a service name first, then an address, then a database, then a messaging destination.
 * One instance is reused for every span (`reset` between spans).
 */
export class PeerAttributes {
  private readonly values: string[] = new Array<string>(SLOTS).fill('');
  private readonly ranks = new Int8Array(SLOTS).fill(UNSET);

  reset(): void {
    this.ranks.fill(UNSET);
  }

  /** Whether an attribute name is one this class reads (so callers can skip decoding the value). */
  static reads(key: string): boolean {
    return SLOT_OF.has(key);
  }

  /** Offers one string attribute; anything that is not a peer attribute is ignored. */
  offer(key: string, value: string): void {
    const at = SLOT_OF.get(key);
    if (at === undefined || value === '') return;
    if (at.rank < (this.ranks[at.slot] as number)) {
      this.ranks[at.slot] = at.rank;
      this.values[at.slot] = value;
    }
  }

  /** Sets the service name outright (Zipkin's `remoteEndpoint.serviceName` outranks tags). */
  offerService(value: string): void {
    if (value === '') return;
    this.ranks[SERVICE] = -1;
    this.values[SERVICE] = value;
  }

  peer(directory: ProcessDirectory): VirtualPeer | undefined {
    const service = this.get(SERVICE);
    if (service !== '') return directory.peer(service, 'service');
    const address = this.get(ADDRESS);
    const byHost = address === '' ? undefined : hostPeer(directory, address);
    if (byHost !== undefined) return byHost;
    const database = this.get(DATABASE);
    if (database !== '') return directory.peer(qualified(database, this.get(NAMESPACE)), 'database');
    const messaging = this.get(MESSAGING);
    if (messaging !== '') return directory.peer(qualified(messaging, this.get(DESTINATION)), 'messaging');
    return undefined;
  }

  private get(slot: number): string {
    return this.ranks[slot] === UNSET ? '' : (this.values[slot] as string);
  }
}

function qualified(system: string, detail: string): string {
  return detail === '' ? system : `${system}/${detail}`;
}
