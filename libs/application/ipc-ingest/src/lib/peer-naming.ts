import { isNodeId, nodeId, parseClusterName, type NodeId } from '@topology/model';

/**
 * How a reporter named the other end of a call: by a logical service name (`service.peer.name`,
 * `peer.service`, `ipc.server.app`, an Istio canonical service) or by the host it dialled
 * (`server.address`, `net.peer.name`, `ipc.vip`, an Istio destination service).
 */
export type PeerNaming = 'service' | 'host';

export interface PeerNamingConfig {
  /**
   * Host name suffixes of the fleet's own services (Kubernetes service names, internal DNS zones).
   * A host ending in one, or a bare name without dots, names the app in its first label.
   */
  internalHostSuffixes: string[];
  /**
   * Host names (exact, or `.suffix` for a whole domain) of services outside the fleet, mapped to the
   * name their `external:` node gets, e.g. `{ ".stripe.com": "payments-psp" }`. Names from the
   * metadata's external ranges are added at run time.
   */
  externalHosts: Record<string, string>;
}

export const DEFAULT_PEER_NAMING: Readonly<PeerNamingConfig> = {
  internalHostSuffixes: ['.svc.cluster.local', '.svc', '.cluster.local', '.internal', '.local', '.consul'],
  externalHosts: {},
};

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const WHITESPACE = /\s/g;

/** An address literal: the application layer cannot say whose it is (the network layer can). */
export function isAddressLiteral(host: string): boolean {
  return IPV4.test(host) || host.includes(':') || host.startsWith('[') || host.startsWith('/');
}

/** Strips a port (`checkout:7001`, `[::1]:80`) and a trailing dot, lowercases. */
export function normaliseHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h;
  const colon = h.lastIndexOf(':');
  if (colon > 0 && h.indexOf(':') === colon && /^\d+$/.test(h.slice(colon + 1))) h = h.slice(0, colon);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/**
 * Names the node at the other end of a call. The rules, in order:
 * 1. a service name is `external:<name>` when the name is a known external service (an external
 *    range of the metadata, or a value of `externalHosts`), else `app:<name>`;
 * 2. a host that is an address literal cannot be named (undefined): the call still counts towards
 *    its reporter's health;
 * 3. a host listed in `externalHosts` (exactly or by suffix) is that external service;
 * 4. a host ending in an internal suffix, or without dots, is the app named by its first label,
 *    read as a cluster name (`checkout-prod-v012.internal` is app `checkout`);
 * 5. any other host name is an external service named by the host itself (`external:api.example.com`).
 */
export class PeerNamer {
  private readonly externalNames = new Set<string>();
  private readonly exactHosts = new Map<string, string>();
  private readonly suffixHosts: [string, string][] = [];
  private readonly cache = new Map<string, NodeId | null>();

  constructor(private readonly config: PeerNamingConfig) {
    for (const [host, name] of Object.entries(config.externalHosts)) {
      const h = host.toLowerCase();
      if (h.startsWith('.')) this.suffixHosts.push([h, name]);
      else this.exactHosts.set(h, name);
      this.externalNames.add(name);
    }
  }

  /** Learns an external service name (from an `ExternalRange`); returns whether it was new. */
  addExternalName(name: string): boolean {
    if (this.externalNames.has(name)) return false;
    this.externalNames.add(name);
    this.cache.clear();
    return true;
  }

  resolve(naming: PeerNaming, name: string): NodeId | undefined {
    const key = naming === 'service' ? `s ${name}` : `h ${name}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const resolved = naming === 'service' ? this.service(name) : this.host(name);
    this.cache.set(key, resolved ?? null);
    return resolved;
  }

  private service(name: string): NodeId | undefined {
    const clean = name.trim().replace(WHITESPACE, '_');
    if (clean.length === 0) return undefined;
    return safeNodeId(this.externalNames.has(clean) ? 'external' : 'app', clean);
  }

  private host(raw: string): NodeId | undefined {
    const host = normaliseHost(raw);
    if (host.length === 0 || isAddressLiteral(host)) return undefined;
    const exact = this.exactHosts.get(host);
    if (exact !== undefined) return safeNodeId('external', exact);
    for (const [suffix, name] of this.suffixHosts) if (host.endsWith(suffix)) return safeNodeId('external', name);
    const internal = !host.includes('.') || this.config.internalHostSuffixes.some((s) => host.endsWith(s));
    if (internal) {
      const first = host.split('.')[0] ?? host;
      return this.service(parseClusterName(first).app);
    }
    return safeNodeId('external', host);
  }
}

function safeNodeId(kind: 'app' | 'external', name: string): NodeId | undefined {
  const id = `${kind}:${name}`;
  return isNodeId(id) ? nodeId(kind, name) : undefined;
}
