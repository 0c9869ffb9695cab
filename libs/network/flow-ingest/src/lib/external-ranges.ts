import ipaddr from 'ipaddr.js';
import { AddressKey, ipv4FromBytes, ipv6BigInt } from './ip-address';
import { AttributedPeer } from './peer-table';

const WHITESPACE = /\s/;

function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (-1 << (32 - prefix)) | 0;
}

interface PrefixTable<K> {
  readonly prefix: number;
  readonly mask: K;
  readonly table: Map<K, AttributedPeer>;
}

const V6_ALL = (1n << 128n) - 1n;

function v6Mask(prefix: number): bigint {
  return prefix === 0 ? 0n : (V6_ALL << BigInt(128 - prefix)) & V6_ALL;
}

/**
 * Known external networks (a SaaS vendor, a partner, the internet egress of an office) as CIDR
 * entries, matched by longest prefix. IPv4 keeps one Map per prefix length in use, keyed by the
 * masked address as an int32, so a lookup is at most one Map probe per length in use and never
 * parses text; IPv6 does the same with 128-bit integers.
 */
export class ExternalRanges {
  /** One table per prefix length in use, longest first. */
  private v4: PrefixTable<number>[] = [];
  private v6: PrefixTable<bigint>[] = [];

  /** Adds or renames a range. Returns a problem when the entry is unusable. */
  add(cidr: string, name: string): string | undefined {
    if (name.length === 0 || WHITESPACE.test(name)) return `external range name ${JSON.stringify(name)} is empty or has whitespace`;
    if (!ipaddr.isValidCIDR(cidr)) return `not a CIDR: ${JSON.stringify(cidr)}`;
    const [address, prefix] = ipaddr.parseCIDR(cidr);
    if (address.kind() === 'ipv4') {
      const network = ipv4FromBytes(address.toByteArray()) & v4Mask(prefix);
      const canonical = `${ipaddr.IPv4.networkAddressFromCIDR(cidr).toString()}/${prefix}`;
      let level = this.v4.find((l) => l.prefix === prefix);
      if (level === undefined) {
        level = { prefix, mask: v4Mask(prefix), table: new Map() };
        this.v4 = [...this.v4, level].sort((a, b) => b.prefix - a.prefix);
      }
      level.table.set(network, this.peerFor(level.table.get(network), name, canonical));
      return undefined;
    }
    const network = ipv6BigInt(address.toString()) & v6Mask(prefix);
    const canonical = `${ipaddr.IPv6.networkAddressFromCIDR(cidr).toString()}/${prefix}`;
    let level = this.v6.find((l) => l.prefix === prefix);
    if (level === undefined) {
      level = { prefix, mask: v6Mask(prefix), table: new Map() };
      this.v6 = [...this.v6, level].sort((a, b) => b.prefix - a.prefix);
    }
    level.table.set(network, this.peerFor(level.table.get(network), name, canonical));
    return undefined;
  }

  /** The external peer of the longest prefix containing the address. */
  lookup(address: AddressKey): AttributedPeer | undefined {
    if (typeof address === 'number') {
      const levels = this.v4;
      for (let i = 0; i < levels.length; i++) {
        const level = levels[i] as PrefixTable<number>;
        const hit = level.table.get(address & level.mask);
        if (hit !== undefined) return hit;
      }
      return undefined;
    }
    if (this.v6.length === 0) return undefined;
    const value = ipv6BigInt(address);
    for (const level of this.v6) {
      const hit = level.table.get(value & level.mask);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }

  get size(): number {
    let count = 0;
    for (const level of this.v4) count += level.table.size;
    for (const level of this.v6) count += level.table.size;
    return count;
  }

  private peerFor(existing: AttributedPeer | undefined, name: string, cidr: string): AttributedPeer {
    // Keep the interned peer when nothing changed, so open windows never see two objects for it.
    if (existing !== undefined && existing.peer.kind === 'external' && existing.peer.name === name) return existing;
    return new AttributedPeer({ kind: 'external', name, cidr });
  }
}
