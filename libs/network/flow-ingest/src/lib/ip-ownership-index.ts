import type { IpOwnership } from '@topology/contracts';
import { AddressKey, addressText } from './ip-address';
import { WorkloadOwner } from './peer-table';

/** One workload's continuous hold on an address, from its evidence. */
export interface OwnershipRange {
  readonly ip: string;
  readonly owner: WorkloadOwner;
  /** Start of the earliest evidence. */
  fromMs: number;
  /** End of the latest evidence: the grace runs from here. */
  toMs: number;
  /** When this instance last published it (processing time); undefined while never. */
  publishedAtMs: number | undefined;
  /** Waiting to be published. */
  queued: boolean;
}

export interface IpOwnershipIndexOptions {
  /**
   * How long after a range's last evidence its owner still answers a lookup, event time ms. Two
   * pieces of evidence of one owner this close together also join into one range.
   */
  graceMs: number;
  /** How long before a range's first evidence its owner already answers (clock skew between hosts), ms. */
  leadMs: number;
  /** Ranges whose last evidence is older than the newest evidence by this much are dropped, ms. */
  retentionMs: number;
  /** Ranges kept per address; beyond it the two closest of one owner join, or the oldest is dropped. */
  maxRangesPerIp: number;
}

/**
 * Who owned each address when, learned from flow ends that carry their own identity and from ranges
 * other instances publish.
 *
 * Per address, a list of ranges sorted by start. A range is the union of one owner's evidence,
 * pieces less than the grace apart joined: so the ranges are a function of the set of evidence, not
 * of the order it arrived in, and every instance that sees the same evidence builds the same ranges.
 * Ranges of different owners do not overlap unless the evidence contradicts itself.
 *
 * A lookup at time t answers, in order: the range covering t; the range starting within the lead
 * after t (clock skew between the two ends' hosts); the owner of the latest range before t if t is
 * within the grace after its last evidence. The grace therefore never reaches into the next owner's
 * range, so a reused address is not attributed to its previous owner. Where ranges of different
 * owners both cover t (beyond a handover within the lead), the address is shared at t (a node
 * address of host-network pods, source NAT) and no one owns it.
 */
export class IpOwnershipIndex {
  private readonly byAddress = new Map<AddressKey, OwnershipRange[]>();
  private readonly created = new Set<OwnershipRange>();
  private readonly extended = new Set<OwnershipRange>();
  private newestEvidenceMs = Number.NEGATIVE_INFINITY;
  private lastExtendedPublishMs = Number.NEGATIVE_INFINITY;
  private ranges = 0;
  /** Ranges started so far (a new owner for an address at some time). */
  createdTotal = 0;
  /** Ranges joined or dropped so far because an address had more than `maxRangesPerIp`. */
  droppedOverBoundTotal = 0;

  constructor(private readonly options: IpOwnershipIndexOptions) {}

  /**
   * Records that `owner` held `address` over [fromMs, toMs]. Returns the range whose coverage grew
   * (new or extended), or undefined when the evidence told nothing new. `local` evidence (from this
   * instance's own flows) is published by `takeUnpublished`; ranges learned from other instances
   * are not published again.
   */
  observe(address: AddressKey, owner: WorkloadOwner, fromMs: number, toMs: number, local: boolean): OwnershipRange | undefined {
    if (toMs > this.newestEvidenceMs) this.newestEvidenceMs = toMs;
    const gap = this.options.graceMs;
    let list = this.byAddress.get(address);
    if (list === undefined) {
      list = [];
      this.byAddress.set(address, list);
    }

    // The common case: more evidence of the owner of the latest range, at or after its start.
    const last = list[list.length - 1];
    if (last !== undefined && last.owner === owner && fromMs >= last.fromMs && fromMs <= last.toMs + gap) {
      if (toMs <= last.toMs) return undefined;
      last.toMs = toMs;
      if (local) this.markChanged(last);
      return last;
    }

    let joined: OwnershipRange | undefined;
    let from = fromMs;
    let to = toMs;
    for (let i = 0; i < list.length; i++) {
      const range = list[i] as OwnershipRange;
      if (range.owner !== owner || range.fromMs > toMs + gap || range.toMs + gap < fromMs) continue;
      if (joined === undefined) {
        joined = range;
      } else {
        // The new evidence bridges two ranges of the owner: keep the first, drop the second.
        list.splice(i--, 1);
        this.forget(range);
      }
      if (range.fromMs < from) from = range.fromMs;
      if (range.toMs > to) to = range.toMs;
    }

    if (joined === undefined) {
      const range = this.newRange(addressText(address), owner, fromMs, toMs);
      list.push(range);
      if (list.length > 1) list.sort(byStart);
      if (local) this.markChanged(range);
      this.bound(list);
      return range;
    }
    if (from === joined.fromMs && to === joined.toMs) return undefined;
    const startMoved = from !== joined.fromMs;
    joined.fromMs = from;
    joined.toMs = to;
    if (startMoved) list.sort(byStart);
    if (local) this.markChanged(joined);
    return joined;
  }

  /**
   * The owner whose evidence covers `atMs`, or whose first evidence is within the lead after it.
   * None when the address is shared at that time (see `sharedAt`).
   */
  ownerAt(address: AddressKey, atMs: number): WorkloadOwner | undefined {
    const list = this.byAddress.get(address);
    if (list === undefined) return undefined;
    let at = list.length - 1;
    while (at >= 0 && (list[at] as OwnershipRange).fromMs > atMs) at--;
    for (let i = at; i >= 0; i--) {
      const range = list[i] as OwnershipRange;
      if (atMs <= range.toMs) return isShared(list, i, atMs, this.options.leadMs) ? undefined : range.owner;
    }
    const next = list[at + 1];
    return next !== undefined && next.fromMs - this.options.leadMs <= atMs ? next.owner : undefined;
  }

  /**
   * Whether workloads of different identities all have evidence covering `atMs` on this address,
   * beyond a handover within the lead: a node address shared by host-network pods, or source NAT.
   * No one of them can be told to own it then.
   */
  sharedAt(address: AddressKey, atMs: number): boolean {
    const list = this.byAddress.get(address);
    if (list === undefined) return false;
    for (let i = list.length - 1; i >= 0; i--) {
      const range = list[i] as OwnershipRange;
      if (range.fromMs <= atMs && atMs <= range.toMs) return isShared(list, i, atMs, this.options.leadMs);
    }
    return false;
  }

  /** The owner at `atMs` as `ownerAt` says, else the owner whose grace covers it. */
  lookup(address: AddressKey, atMs: number): WorkloadOwner | undefined {
    return this.ownerAt(address, atMs) ?? this.graceOwnerAt(address, atMs);
  }

  /**
   * The owner whose grace covers `atMs` (meant for when `ownerAt` found none): the owner of the range
   * that ended last before it, if that end is at most the grace ago.
   */
  graceOwnerAt(address: AddressKey, atMs: number): WorkloadOwner | undefined {
    const list = this.byAddress.get(address);
    if (list === undefined || this.sharedAt(address, atMs)) return undefined;
    let latest: OwnershipRange | undefined;
    for (const range of list) {
      if (range.fromMs > atMs) break;
      if (range.toMs <= atMs && (latest === undefined || range.toMs > latest.toMs)) latest = range;
    }
    return latest !== undefined && atMs <= latest.toMs + this.options.graceMs ? latest.owner : undefined;
  }

  /** Whether the address has any range kept, at whatever time. */
  everOwned(address: AddressKey): boolean {
    return this.byAddress.has(address);
  }

  rangesOf(address: AddressKey): readonly Readonly<OwnershipRange>[] {
    return this.byAddress.get(address) ?? [];
  }

  /**
   * Ranges to publish: every range created since the last call, and ranges extended since they
   * were last published once `publishIntervalMs` has passed since the previous round of extensions.
   */
  takeUnpublished(nowMs: number, publishIntervalMs: number): IpOwnership[] {
    const out: IpOwnership[] = [];
    for (const range of this.created) out.push(this.publish(range, nowMs));
    this.created.clear();
    if (this.extended.size > 0 && nowMs - this.lastExtendedPublishMs >= publishIntervalMs) {
      for (const range of this.extended) out.push(this.publish(range, nowMs));
      this.extended.clear();
      this.lastExtendedPublishMs = nowMs;
    }
    return out;
  }

  /** Drops ranges whose last evidence is older than the retention; returns how many. */
  expire(): number {
    const horizon = this.newestEvidenceMs - this.options.retentionMs;
    let dropped = 0;
    for (const [address, list] of this.byAddress) {
      let kept = 0;
      for (const range of list) {
        if (range.toMs < horizon) this.forget(range);
        else list[kept++] = range;
      }
      dropped += list.length - kept;
      list.length = kept;
      if (kept === 0) this.byAddress.delete(address);
    }
    return dropped;
  }

  /** End of the newest evidence seen, event time. */
  get newestEvidence(): number {
    return this.newestEvidenceMs;
  }

  get addressCount(): number {
    return this.byAddress.size;
  }

  get rangeCount(): number {
    return this.ranges;
  }

  private newRange(ip: string, owner: WorkloadOwner, fromMs: number, toMs: number): OwnershipRange {
    owner.rangeCount++;
    this.ranges++;
    this.createdTotal++;
    return { ip, owner, fromMs, toMs, publishedAtMs: undefined, queued: false };
  }

  private markChanged(range: OwnershipRange): void {
    if (range.queued) return;
    range.queued = true;
    if (range.publishedAtMs === undefined) this.created.add(range);
    else this.extended.add(range);
  }

  private publish(range: OwnershipRange, nowMs: number): IpOwnership {
    range.publishedAtMs = nowMs;
    range.queued = false;
    const { owner } = range;
    return {
      ip: range.ip,
      app: owner.app,
      cluster: owner.cluster,
      ...(owner.region === undefined ? {} : { region: owner.region }),
      ...(owner.account === undefined ? {} : { account: owner.account }),
      fromMs: range.fromMs,
      toMs: range.toMs,
    };
  }

  /**
   * Over the bound, the two nearest ranges of one owner with nothing between them join (losing
   * only the gap's shape); with no such pair, the oldest range goes.
   */
  private bound(list: OwnershipRange[]): void {
    while (list.length > this.options.maxRangesPerIp) {
      let pair = -1;
      for (let i = 0; i + 1 < list.length; i++) {
        const a = list[i] as OwnershipRange;
        const b = list[i + 1] as OwnershipRange;
        if (a.owner !== b.owner) continue;
        if (pair === -1 || b.fromMs - a.toMs < (list[pair + 1] as OwnershipRange).fromMs - (list[pair] as OwnershipRange).toMs) pair = i;
      }
      const dropped = pair === -1 ? list.shift() : list.splice(pair + 1, 1)[0];
      if (dropped === undefined) return;
      if (pair !== -1) {
        const kept = list[pair] as OwnershipRange;
        if (dropped.toMs > kept.toMs) kept.toMs = dropped.toMs;
      }
      this.forget(dropped);
      this.droppedOverBoundTotal++;
    }
  }

  private forget(range: OwnershipRange): void {
    range.owner.rangeCount--;
    this.ranges--;
    if (range.queued) {
      this.created.delete(range);
      this.extended.delete(range);
      range.queued = false;
    }
  }
}

/**
 * Whether a range other than `list[covering]` (the latest-starting one covering `atMs`) also covers
 * it with another owner, past the handover: the first `leadMs` of the later range belong to it.
 */
function isShared(list: readonly OwnershipRange[], covering: number, atMs: number, leadMs: number): boolean {
  const range = list[covering] as OwnershipRange;
  if (atMs - range.fromMs <= leadMs) return false;
  for (let i = covering - 1; i >= 0; i--) {
    const other = list[i] as OwnershipRange;
    if (other.owner !== range.owner && atMs <= other.toMs) return true;
  }
  return false;
}

function byStart(a: OwnershipRange, b: OwnershipRange): number {
  return a.fromMs - b.fromMs;
}
