import { AddressKey } from './ip-address';
import { AttributedPeer } from './peer-table';

interface Assignment {
  readonly intermediaryId: string;
  fromMs: number;
  /** Exclusive; +Infinity while still assigned. */
  toMs: number;
  peer: AttributedPeer;
}

/**
 * Addresses of load balancers, NAT gateways and other non-workload intermediaries, from
 * `IpAssignment` metadata events: per address the assignments over [fromMs, toMs). An event for an
 * (address, intermediary, fromMs) already known replaces it, which is how an assignment is ended.
 */
export class IntermediaryAddressIndex {
  private readonly byAddress = new Map<AddressKey, Assignment[]>();

  assign(address: AddressKey, peer: AttributedPeer, intermediaryId: string, fromMs: number, toMs: number | undefined): void {
    const end = toMs === undefined || toMs === 0 ? Number.POSITIVE_INFINITY : toMs;
    let list = this.byAddress.get(address);
    if (list === undefined) {
      list = [];
      this.byAddress.set(address, list);
    }
    const same = list.find((a) => a.intermediaryId === intermediaryId && a.fromMs === fromMs);
    if (same !== undefined) {
      same.toMs = end;
      same.peer = peer;
      return;
    }
    list.push({ intermediaryId, fromMs, toMs: end, peer });
    list.sort((a, b) => a.fromMs - b.fromMs);
  }

  /** The intermediary assigned the address at `atMs`; the latest-starting one when they overlap. */
  lookup(address: AddressKey, atMs: number): AttributedPeer | undefined {
    const list = this.byAddress.get(address);
    if (list === undefined) return undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      const assignment = list[i] as Assignment;
      if (assignment.fromMs <= atMs && atMs < assignment.toMs) return assignment.peer;
    }
    return undefined;
  }

  /** Whether the address was assigned at any time. */
  everAssigned(address: AddressKey): boolean {
    return this.byAddress.has(address);
  }

  /** Drops assignments that ended before `horizonMs`; returns how many. */
  expire(horizonMs: number): number {
    let dropped = 0;
    for (const [address, list] of this.byAddress) {
      const kept = list.filter((a) => a.toMs >= horizonMs);
      dropped += list.length - kept.length;
      if (kept.length === 0) this.byAddress.delete(address);
      else if (kept.length !== list.length) this.byAddress.set(address, kept);
    }
    return dropped;
  }

  get size(): number {
    return this.byAddress.size;
  }
}
