import { ManualClock } from '@topology/model';
import type { FlowPartialSnapshot } from '@topology/contracts';
import { FlowIngestor } from './flow-ingestor';
import { DEFAULT_FLOW_INGESTOR_CONFIG } from './flow-ingestor-config';
import type { ObservedFlow } from './observed-flow';
import { LatestSnapshots, T0, end, flow, shuffled } from './testing/flows';

const config = { ...DEFAULT_FLOW_INGESTOR_CONFIG, ownershipGraceMs: 1_000, ownershipLeadMs: 200 };

describe('views of one connection', () => {
  it('aggregates the client-side and the server-side record of one connection apart, by observer', () => {
    const ingestor = new FlowIngestor(config, new ManualClock(T0 + 20_000));
    const latest = new LatestSnapshots();
    const clientSide = flow(end('10.2.0.7', 50000, 'c-prod-v001'), end('10.4.0.2', 8080), T0 + 1_000, 300);
    const serverSide = flow(end('10.2.0.7', 50000), end('10.4.0.2', 8080, 'cart-prod-v003'), T0 + 1_000, 290);
    ingestor.ingest([clientSide, serverSide], 'us-east-1/flows/3');
    latest.add(ingestor.flush().snapshots);
    expect(latest.entries().map((e) => [e.key, e.src.kind === 'workload' && e.src.cluster, e.dst.kind === 'workload' && e.dst.cluster, e.dstPort, e.observer, e.bytesSent])).toEqual([
      ['cluster:c-prod-v001 -> cluster:cart-prod-v003', 'c-prod-v001', 'cart-prod-v003', 8080, 'client', 300],
      ['cluster:c-prod-v001 -> cluster:cart-prod-v003', 'c-prod-v001', 'cart-prod-v003', 8080, 'server', 290],
    ]);
  });
});

/** A mix of every path: direct, reused address, intermediary, external, held and released, unknown. */
function mixedInput(): { flow: ObservedFlow; scope: string }[] {
  const input: { flow: ObservedFlow; scope: string }[] = [];
  const scopes = ['r/t/0', 'r/t/1', 'r/t/2'];
  let n = 0;
  const add = (f: ObservedFlow) => input.push({ flow: f, scope: scopes[n++ % scopes.length] as string });
  for (let t = T0 - 8_000; t < T0 + 18_000; t += 700) {
    add(flow(end('10.2.0.7', 50000, 'c-prod-v001'), end('10.4.0.2', 8080), t, 10));
    add(flow(end('10.2.0.7', 50000), end('10.4.0.2', 8080, 'cart-prod-v003'), t, 11));
    add(flow(end('10.2.0.8', 50000, 'd-prod-v001'), end('10.1.0.5', 443), t + 50, 3));
    // 10.1.0.5: a, then nobody, then b, then (a tight reuse, within the grace) a again.
    if (t < T0 + 3_000 || t > T0 + 12_000) add(flow(end('10.3.0.1', 1), end('10.1.0.5', 443, 'a-prod-v001'), t, 1));
    if (t > T0 + 8_000 && t <= T0 + 12_000) add(flow(end('10.3.0.1', 1), end('10.1.0.5', 443, 'b-prod-v001'), t, 1));
    add(flow(end('10.2.0.7', 50001, 'c-prod-v001'), end('10.0.9.9', 443), t, 5));
    add(flow(end('10.2.0.7', 50002, 'c-prod-v001'), end('52.94.5.10', 443), t, 7));
    add(flow(end('10.2.0.7', 50003, 'c-prod-v001'), end('203.0.113.9', 443), t, 9));
  }
  return input;
}

function run(order: { flow: ObservedFlow; scope: string }[]): FlowPartialSnapshot[] {
  const clock = new ManualClock(T0 + 20_000);
  const ingestor = new FlowIngestor(config, clock);
  ingestor.applyMetadata({ ipAssignment: { ip: '10.0.9.9', intermediaryId: 'lb-1', type: 'load-balancer', fromMs: T0 - 60_000 } });
  ingestor.applyMetadata({ externalRange: { cidr: '52.94.0.0/16', name: 'aws-s3' } });
  const latest = new LatestSnapshots();
  for (let i = 0; i < order.length; i += 4) {
    const batch = order.slice(i, i + 4);
    for (const { flow: f, scope } of batch) expect(ingestor.ingest([f], scope)).toEqual([]);
    clock.advance(5);
    latest.add(ingestor.flush().snapshots);
  }
  clock.advance(config.holdBackMs);
  latest.add(ingestor.flush().snapshots);
  return latest.all().map((s) => ({ ...s, ingestedAtMs: 0 }));
}

describe('determinism', () => {
  it('gives the same final snapshots for the same input in any order within the lateness', () => {
    const input = mixedInput();
    const expected = run(input);
    expect(expected.length).toBeGreaterThan(10);
    const keys = new Set(expected.map((s) => s.key));
    expect(keys).toContain('intermediary:lb-1');
    expect(keys).toContain('cluster:d-prod-v001 -> cluster:a-prod-v001');
    expect(keys).toContain('cluster:d-prod-v001 -> cluster:b-prod-v001');
    expect(keys).toContain('cluster:d-prod-v001 -> unknown:no-owner-at-time/10.1.0.5');
    expect(keys).toContain('cluster:c-prod-v001 -> unknown:public-unmapped/203.0.113.9');
    for (const seed of [11, 12, 13, 14]) expect(run(shuffled(input, seed))).toEqual(expected);
  });
});
