import type { EdgeContribution, FlowAggregate, FlowPartialSnapshot, WindowRef } from '@topology/contracts';
import { Peer, peerNodeId } from '@topology/model';
import type { IntermediaryResolver } from '../lib/intermediary-resolver';

/** Test support: builders for snapshot entries and a driver that runs the chain loop as the runtime does. */

export const W0: WindowRef = { startMs: 0, endMs: 10_000 };

export function workload(cluster: string, region?: string): Peer {
  const app = cluster.split('-')[0] ?? cluster;
  return region === undefined ? { kind: 'workload', app, cluster } : { kind: 'workload', app, cluster, region };
}

export function lb(id: string): Peer {
  return { kind: 'intermediary', id, type: 'load-balancer' };
}

export function nat(id: string): Peer {
  return { kind: 'intermediary', id, type: 'nat-gateway' };
}

export function proxy(id: string): Peer {
  return { kind: 'intermediary', id, type: 'proxy' };
}

export function external(name: string): Peer {
  return { kind: 'external', name };
}

export type EntryFields = Partial<Omit<FlowAggregate, 'src' | 'dst'>>;

/** A flow aggregate with zero counters, confidence 1 and no via, unless given. */
export function flow(src: Peer, dst: Peer, fields: EntryFields = {}): FlowAggregate {
  return {
    src,
    dst,
    dstPort: 443,
    protocol: 'tcp',
    observer: 'client',
    bytesSent: 0,
    bytesReceived: 0,
    packetsSent: 0,
    packetsReceived: 0,
    connections: 0,
    retransmits: 0,
    rttSumUs: 0,
    rttSamples: 0,
    firstSeenMs: 1_000,
    lastSeenMs: 2_000,
    via: [],
    confidence: 1,
    ...fields,
  };
}

export function snapshot(scope: string, key: string, entries: FlowAggregate[], window: WindowRef = W0): FlowPartialSnapshot {
  return { window, scope, key, entries, ingestedAtMs: 0 };
}

/**
 * Flushes, feeds the forwarded snapshots back into `accept` as the runtime does through the
 * partial-flows topic, and repeats until nothing more is forwarded. Returns every contribution
 * emitted, in order.
 */
export function flushUntilSettled(resolver: IntermediaryResolver, maxRounds = 10): EdgeContribution[] {
  const emitted: EdgeContribution[] = [];
  for (let round = 0; round < maxRounds; round++) {
    const { contributions, forwards } = resolver.flush();
    emitted.push(...contributions);
    if (forwards.length === 0) return emitted;
    for (const f of forwards) resolver.accept(f);
  }
  throw new Error(`chain forwarding did not settle within ${maxRounds} rounds`);
}

/** The identity under which downstream replaces contributions. */
export function contributionId(c: EdgeContribution): string {
  return `${c.window.startMs}/${c.window.endMs} ${c.scope} ${peerNodeId(c.src, 'cluster')} ${peerNodeId(c.dst, 'cluster')}`;
}

/** What a downstream consumer holds after applying contributions with replace and remove semantics. */
export class AppliedContributions {
  private readonly byId = new Map<string, EdgeContribution>();

  apply(contributions: readonly EdgeContribution[]): this {
    for (const c of contributions) {
      const id = contributionId(c);
      if (c.removed) this.byId.delete(id);
      else this.byId.set(id, c);
    }
    return this;
  }

  all(): EdgeContribution[] {
    return [...this.byId.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, c]) => c);
  }

  dependencies(): EdgeContribution[] {
    return this.all().filter((c) => !c.hop);
  }

  hops(): EdgeContribution[] {
    return this.all().filter((c) => c.hop);
  }

  find(src: string, dst: string, hop = false): EdgeContribution[] {
    return this.all().filter((c) => peerNodeId(c.src, 'cluster') === src && peerNodeId(c.dst, 'cluster') === dst && c.hop === hop);
  }
}

export function bytesOf(c: { bytesSent: number; bytesReceived: number }): number {
  return c.bytesSent + c.bytesReceived;
}
