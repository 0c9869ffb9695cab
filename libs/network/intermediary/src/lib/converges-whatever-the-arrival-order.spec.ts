import type { EdgeContribution, FlowPartialSnapshot, MetadataEvent } from '@topology/contracts';
import { ManualClock } from '@topology/model';
import { AppliedContributions, flow, lb, proxy, snapshot, workload } from '../testing/resolution-run';
import { IntermediaryResolver } from './intermediary-resolver';
import { DEFAULT_INTERMEDIARY_RESOLVER_CONFIG } from './intermediary-resolver-config';

const A = workload('a-prod-v001');
const B = workload('b-prod-v001');
const C = workload('c-prod-v002');
const D = workload('d-prod-v001');
const GW = workload('gateway-prod-v001');
const LB = lb('lb-1');
const P = proxy('proxy-1');
const W1 = { startMs: 10_000, endMs: 20_000 };

const metadata: MetadataEvent[] = [
  { app: { app: 'gateway', intermediaryType: 'api-gateway' } },
  { listener: { intermediaryId: 'lb-1', port: 443, targetClusters: ['b-prod-v001', 'c-prod-v002'] } },
];

/** A fleet slice with direct traffic, a chain, a gateway in front of the chain, and two windows. */
const snapshots: FlowPartialSnapshot[] = [
  snapshot('p0', 'cluster:a-prod-v001 -> cluster:d-prod-v001', [flow(A, D, { bytesSent: 1_234, bytesReceived: 77, connections: 3 })]),
  snapshot('p1', 'cluster:a-prod-v001 -> cluster:d-prod-v001', [flow(A, D, { observer: 'server', bytesSent: 1_230, bytesReceived: 77, connections: 3 })]),
  snapshot('p0', 'intermediary:proxy-1', [flow(A, P, { dstPort: 3128, bytesSent: 333, bytesReceived: 999, connections: 7 })]),
  snapshot('vpc', 'intermediary:proxy-1', [flow(P, LB, { observer: 'network', bytesSent: 700, bytesReceived: 1_900, connections: 7 })]),
  snapshot('p2', 'cluster:d-prod-v001 -> cluster:gateway-prod-v001', [flow(D, GW, { bytesSent: 210, bytesReceived: 90, connections: 1 })]),
  snapshot('p3', 'intermediary:lb-1', [
    flow(GW, LB, { observer: 'client', bytesSent: 211, bytesReceived: 91, connections: 1 }),
    flow(LB, B, { dstPort: 8080, observer: 'server', bytesSent: 600, bytesReceived: 1_300, connections: 5 }),
  ]),
  snapshot('p4', 'intermediary:lb-1', [
    flow(LB, C, { dstPort: 8080, observer: 'server', bytesSent: 311, bytesReceived: 700, connections: 3 }),
    flow(LB, D, { dstPort: 8080, observer: 'server', bytesSent: 5_000, bytesReceived: 1, connections: 1 }),
  ]),
  snapshot('p0', 'intermediary:proxy-1', [flow(A, P, { dstPort: 3128, bytesSent: 1, bytesReceived: 2, connections: 1 })], W1),
  snapshot('vpc', 'intermediary:proxy-1', [flow(P, LB, { observer: 'network', bytesSent: 3, connections: 1 })], W1),
  snapshot('p3', 'intermediary:lb-1', [flow(LB, B, { dstPort: 8080, observer: 'server', bytesSent: 3, connections: 1 })], W1),
];

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** What downstream holds, without the emission times (which depend on when each flush ran). */
function settledState(held: AppliedContributions): Omit<EdgeContribution, 'ingestedAtMs'>[] {
  return held.all().map(({ ingestedAtMs: _ingested, ...rest }) => rest);
}

/**
 * Delivers the snapshots in the given order, flushing at random points and delivering the
 * forwarded snapshots late and out of order among the rest, as a runtime under load would.
 */
function replay(order: readonly FlowPartialSnapshot[], random: () => number): AppliedContributions {
  const clock = new ManualClock(5_000);
  const resolver = new IntermediaryResolver(DEFAULT_INTERMEDIARY_RESOLVER_CONFIG, clock);
  for (const m of metadata) resolver.applyMetadata(m);
  const held = new AppliedContributions();
  const pending: FlowPartialSnapshot[] = [...order];
  let rounds = 0;
  while (pending.length > 0 || rounds === 0) {
    rounds++;
    const next = pending.shift();
    if (next !== undefined) resolver.accept(next);
    if (random() < 0.5 || pending.length === 0) {
      clock.advance(250);
      const { contributions, forwards } = resolver.flush();
      held.apply(contributions);
      for (const f of forwards) pending.splice(Math.floor(random() * (pending.length + 1)), 0, f);
    }
    if (rounds > 1_000) throw new Error('did not settle');
  }
  return held;
}

describe('order independence', () => {
  const reference = settledState(replay(snapshots, () => 0.99));

  it('produces the resolved chain and gateway edges in the reference order', () => {
    const deps = reference.filter((c) => !c.hop).map((c) => `${c.scope} ${c.via.join(',')}`);
    expect(deps).toContain('via:intermediary:lb-1 intermediary:proxy-1,intermediary:lb-1');
    expect(deps).toContain('via:intermediary:lb-1 app:gateway,intermediary:lb-1');
    expect(deps).toContain('direct ');
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('gives exactly the same final contributions for shuffle %i', (seed) => {
    const random = lcg(seed);
    expect(settledState(replay(shuffled(snapshots, random), random))).toEqual(reference);
  });

  it('is unchanged by a redelivery of every snapshot (at-least-once)', () => {
    const random = lcg(42);
    expect(settledState(replay([...shuffled(snapshots, random), ...snapshots], random))).toEqual(reference);
  });
});
