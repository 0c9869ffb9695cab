import type { FlowAggregate } from '@topology/contracts';
import { ManualClock, Peer, peerNodeId } from '@topology/model';
import { AppliedContributions, bytesOf, flow, flushUntilSettled, lb, snapshot, workload } from '../testing/resolution-run';
import { IntermediaryResolver } from './intermediary-resolver';
import { DEFAULT_INTERMEDIARY_RESOLVER_CONFIG } from './intermediary-resolver-config';

/** A small deterministic generator, so a failure reproduces. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('an intermediary with many clients and many backends', () => {
  const random = lcg(7);
  const hub = lb('lb-hub');
  const clients = Array.from({ length: 60 }, (_, i) => workload(`client${i}-prod-v001`));
  const backends = Array.from({ length: 35 }, (_, i) => workload(`backend${i}-prod-v00${1 + (i % 3)}`));
  const sent = clients.map(() => Math.round(random() * 1e7) + 1);
  const received = clients.map(() => Math.round(random() * 1e6));
  const connections = clients.map(() => 1 + Math.floor(random() * 40));

  const resolver = new IntermediaryResolver(DEFAULT_INTERMEDIARY_RESOLVER_CONFIG, new ManualClock(5_000));
  // One snapshot per source partition, as stage 1 sends them: all of that partition's clients.
  const byPartition = new Map<number, FlowAggregate[]>();
  clients.forEach((c, i) => {
    // Some clients use two listener ports; their traffic on both must still add up.
    const ports = i % 4 === 0 ? [443, 80] : [443];
    const entries = byPartition.get(i % 7) ?? [];
    for (const port of ports) {
      entries.push(
        flow(c, hub, { dstPort: port, bytesSent: (sent[i] as number) / ports.length, bytesReceived: (received[i] as number) / ports.length, connections: (connections[i] as number) / ports.length }),
      );
    }
    byPartition.set(i % 7, entries);
  });
  for (const [partition, entries] of byPartition) resolver.accept(snapshot(`eu/flows.canonical.v1/${partition}`, 'intermediary:lb-hub', entries));
  resolver.accept(
    snapshot(
      'eu/flows.canonical.v1/99',
      'intermediary:lb-hub',
      backends.map((b) => flow(hub, b, { dstPort: 8080, observer: 'server', bytesSent: Math.round(random() * 5e6), bytesReceived: Math.round(random() * 5e5), connections: 3 })),
    ),
  );
  const held = new AppliedContributions().apply(flushUntilSettled(resolver));
  const resolvedFrom = (c: Peer) => held.dependencies().filter((e) => peerNodeId(e.src, 'cluster') === peerNodeId(c, 'cluster'));

  it('resolves every client to every backend', () => {
    expect(held.dependencies()).toHaveLength(clients.length * backends.length);
    expect(held.dependencies().every((e) => e.via.length === 1 && e.via[0] === 'intermediary:lb-hub')).toBe(true);
  });

  it("conserves each client's bytes and connections exactly, within float rounding", () => {
    clients.forEach((c, i) => {
      const edges = resolvedFrom(c);
      const total = edges.reduce((s, e) => s + bytesOf(e), 0);
      const expected = (sent[i] as number) + (received[i] as number);
      expect(Math.abs(total - expected)).toBeLessThanOrEqual(expected * 1e-12);
      const conns = edges.reduce((s, e) => s + e.connections, 0);
      expect(Math.abs(conns - (connections[i] as number))).toBeLessThanOrEqual(1e-9);
    });
  });

  it("gives each client confidences that sum to 1, one backend's share each", () => {
    for (const c of clients) {
      const sum = resolvedFrom(c).reduce((s, e) => s + e.confidence, 0);
      expect(sum).toBeCloseTo(1, 12);
    }
  });

  it('apportions by the bytes each backend received from the intermediary', () => {
    const hops = held.hops().filter((h) => h.src.kind === 'intermediary');
    const totalOut = hops.reduce((s, h) => s + bytesOf(h), 0);
    const first = clients[0] as Peer;
    for (const h of hops) {
      const edge = resolvedFrom(first).find((e) => peerNodeId(e.dst, 'cluster') === peerNodeId(h.dst, 'cluster'));
      expect(edge?.confidence).toBeCloseTo(bytesOf(h) / totalOut, 12);
    }
  });
});
