import { ManualClock } from '@topology/model';
import { FlowIngestor } from './flow-ingestor';
import { DEFAULT_FLOW_INGESTOR_CONFIG, FlowIngestorConfig } from './flow-ingestor-config';
import type { ObservedFlow } from './observed-flow';
import { LatestSnapshots, T0, end, flow, shuffled } from './testing/flows';

const config: FlowIngestorConfig = { ...DEFAULT_FLOW_INGESTOR_CONFIG, ownershipGraceMs: 1_000, ownershipLeadMs: 200 };
const REUSED = '10.1.0.5';

/**
 * 10.1.0.5 belongs to app a until T0+2s, to nobody until T0+6s, then to app b: a reuse in the
 * middle of window [T0, T0+10s). Both owners teach it through their own server-side records.
 */
function ownersOwnFlows(): ObservedFlow[] {
  const flows: ObservedFlow[] = [];
  for (let t = T0 - 10_000; t <= T0 + 1_500; t += 500) flows.push(flow(end('10.3.0.1', 40000), end(REUSED, 8080, 'a-prod-v001'), t, 1));
  for (let t = T0 + 6_000; t <= T0 + 19_500; t += 500) flows.push(flow(end('10.3.0.1', 40000), end(REUSED, 9090, 'b-prod-v001'), t, 1));
  return flows;
}

/** Client-side records of app c calling the reused address, each with a distinct byte count. */
const callsFromC: [offsetMs: number, bytes: number][] = [
  [-5_000, 1], // a
  [1_000, 2], // a
  [2_300, 4], // a, only within the grace after its last evidence
  [4_000, 8], // nobody
  [6_500, 16], // b
  [9_000, 32], // b
  [15_000, 64], // b
];

function cFlows(): ObservedFlow[] {
  return callsFromC.map(([offset, bytes]) => flow(end('10.2.0.7', 50000, 'c-prod-v001'), end(REUSED, 443), T0 + offset, bytes));
}

describe('attribution of a reused IP by time range', () => {
  it.each([1, 2, 3, 4, 5])('attributes calls to the owner at their own time, whatever the arrival order (seed %i)', (seed) => {
    const clock = new ManualClock(T0 + 20_000);
    const ingestor = new FlowIngestor(config, clock);
    const latest = new LatestSnapshots();
    const all = shuffled([...ownersOwnFlows(), ...cFlows()], seed);
    for (let i = 0; i < all.length; i += 3) {
      const scope = (i / 3) % 2 === 0 ? 'us-east-1/flows.canonical.v1/0' : 'us-east-1/flows.canonical.v1/1';
      expect(ingestor.ingest(all.slice(i, i + 3), scope)).toEqual([]);
      clock.advance(10);
      latest.add(ingestor.flush().snapshots);
    }
    clock.advance(config.holdBackMs);
    latest.add(ingestor.flush().snapshots);

    expect(latest.bytesByEdge((e) => e.src.kind === 'workload' && e.src.app === 'c')).toEqual({
      '-10000 cluster:c-prod-v001 -> cluster:a-prod-v001': 1,
      '0 cluster:c-prod-v001 -> cluster:a-prod-v001': 2 + 4,
      '0 cluster:c-prod-v001 -> unknown:no-owner-at-time/10.1.0.5': 8,
      '0 cluster:c-prod-v001 -> cluster:b-prod-v001': 16 + 32,
      '10000 cluster:c-prod-v001 -> cluster:b-prod-v001': 64,
    });
    expect(ingestor.heldCount()).toBe(0);
    expect(ingestor.counters.get('ends_attributed', 'ownership-grace')).toBe(1);
    expect(ingestor.counters.get('ends_unknown', 'no-owner-at-time')).toBe(1);
  });

  it('holds a call whose callee has not yet shown its own flows, and releases it when they arrive', () => {
    const clock = new ManualClock(T0 + 20_000);
    const ingestor = new FlowIngestor(config, clock);
    const latest = new LatestSnapshots();
    const call = flow(end('10.2.0.7', 50000, 'c-prod-v001'), end('10.1.0.9', 443), T0 + 12_000, 100);
    ingestor.ingest([call], 'scope-a');
    latest.add(ingestor.flush().snapshots);
    expect(ingestor.heldCount()).toBe(1);
    expect(latest.all()).toEqual([]);

    clock.advance(config.holdBackMs - 1);
    ingestor.ingest([flow(end('10.2.0.7', 50001), end('10.1.0.9', 443, 'f-prod-v002'), T0 + 11_800, 1)], 'scope-b');
    latest.add(ingestor.flush().snapshots);
    expect(ingestor.heldCount()).toBe(0);
    expect(ingestor.counters.get('flows_released')).toBe(1);
    expect(latest.bytesByEdge((e) => e.observer === 'client')).toEqual({ '10000 cluster:c-prod-v001 -> cluster:f-prod-v002': 100 });
  });

  it('does not give a call in the previous owner\'s grace to it when the new owner\'s evidence comes second', () => {
    const clock = new ManualClock(T0 + 20_000);
    const ingestor = new FlowIngestor(config, clock);
    const latest = new LatestSnapshots();
    ingestor.ingest([flow(end('10.3.0.1', 40000), end(REUSED, 8080, 'a-prod-v001'), T0 + 1_000, 1)], 'scope-a'); // a until T0+1.5s
    ingestor.ingest([flow(end('10.2.0.7', 50000, 'c-prod-v001'), end(REUSED, 443), T0 + 2_100, 100)], 'scope-a'); // within a's grace
    latest.add(ingestor.flush().snapshots);
    ingestor.ingest([flow(end('10.3.0.1', 40000), end(REUSED, 9090, 'b-prod-v001'), T0 + 1_900, 1)], 'scope-b'); // b from T0+1.9s
    latest.add(ingestor.flush().snapshots);
    expect(latest.bytesByEdge((e) => e.observer === 'client')).toEqual({ '0 cluster:c-prod-v001 -> cluster:b-prod-v001': 100 });
  });

  it('attributes a call whose callee never shows up to Unknown after the hold-back, and not before', () => {
    const clock = new ManualClock(T0 + 20_000);
    const ingestor = new FlowIngestor(config, clock);
    ingestor.ingest([flow(end('10.2.0.7', 50000, 'c-prod-v001'), end('10.1.0.99', 443), T0 + 12_000, 100)], 'scope-a');
    clock.advance(config.holdBackMs - 1);
    expect(ingestor.flush().snapshots).toEqual([]);
    clock.advance(1);
    const { snapshots } = ingestor.flush();
    expect(snapshots.map((s) => s.key)).toEqual(['cluster:c-prod-v001 -> unknown:private-unmapped/10.1.0.99']);
    expect(ingestor.counters.get('flows_expired')).toBe(1);
  });
});
