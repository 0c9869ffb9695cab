import { ManualClock, peerNodeId } from '@topology/model';
import { FlowIngestor } from './flow-ingestor';
import { DEFAULT_FLOW_INGESTOR_CONFIG } from './flow-ingestor-config';
import type { ObservedFlow } from './observed-flow';
import { HubbleFlowParser } from './parsers';
import { readRealdata } from './parsers/testdata/realdata';
import { LatestSnapshots } from './testing/flows';

/**
 * Real `hubble observe` TCP flows of an Istio Bookinfo cluster (shared/realdata/hubble), through
 * the Hubble parser and the ingestor. Ground truth: groundtruth/bookinfo/edges.csv, plus ratings
 * calling productpage (the capture uses the ratings pod as load generator).
 */
function ingestCapture(): { ingestor: FlowIngestor; latest: LatestSnapshots; flows: ObservedFlow[] } {
  const lines = readRealdata('hubble/basic-sample-400-tcp-flows.json').split('\n').filter((l) => l.trim() !== '');
  const parser = new HubbleFlowParser();
  const flows: ObservedFlow[] = [];
  for (const line of lines) flows.push(...parser.parse(line).flows);
  const clock = new ManualClock(Math.max(...flows.map((f) => f.endMs)));
  const ingestor = new FlowIngestor(DEFAULT_FLOW_INGESTOR_CONFIG, clock);
  const latest = new LatestSnapshots();
  for (let i = 0; i < flows.length; i += 25) {
    expect(ingestor.ingest(flows.slice(i, i + 25), 'gke/flows.hubble.v1/0')).toEqual([]);
    latest.add(ingestor.flush().snapshots);
  }
  clock.advance(DEFAULT_FLOW_INGESTOR_CONFIG.holdBackMs);
  latest.add(ingestor.flush().snapshots);
  return { ingestor, latest, flows };
}

describe('real Hubble flows of Bookinfo', () => {
  const { ingestor, latest, flows } = ingestCapture();
  const appEdges = new Set(latest.entries().map((e) => `${peerNodeId(e.src, 'app')} -> ${peerNodeId(e.dst, 'app')}`));

  it('finds every Bookinfo call of the ground truth', () => {
    for (const edge of ['app:productpage -> app:details', 'app:productpage -> app:reviews', 'app:reviews -> app:ratings', 'app:ratings -> app:productpage']) {
      expect(appEdges).toContain(edge);
    }
  });

  it('attributes addresses without labels only to workloads that owned them at the time', () => {
    // Every workload-to-workload edge must be one the capture shows with both ends labelled.
    const labelled = new Set(flows.filter((f) => f.client.identity && f.server.identity).map((f) => `app:${f.client.identity?.app} -> app:${f.server.identity?.app}`));
    const workloadEdges = [...appEdges].filter((e) => /^app:.* -> app:/.test(e));
    expect(workloadEdges.filter((e) => !labelled.has(e))).toEqual([]);
    expect(ingestor.counters.get('ends_attributed', 'ownership')).toBeGreaterThan(0);
  });

  it('attributes the node address that several pods and the host send from to no single workload', () => {
    // In this kind cluster 10.244.0.148 is the source of productpage, ratings and the host (probes).
    const fromNode = latest.entries().filter((e) => e.src.kind !== 'workload' && peerNodeId(e.src, 'app').endsWith('/10.244.0.148'));
    expect(fromNode.map((e) => `${peerNodeId(e.src, 'app')} -> ${peerNodeId(e.dst, 'app')}`)).toContain('unknown:shared-address/10.244.0.148 -> app:jaeger');
    expect(ingestor.counters.get('ends_attributed', 'shared-address')).toBeGreaterThan(0);
  });

  it('leaves nothing held and rejects nothing', () => {
    expect(ingestor.heldCount()).toBe(0);
    expect(ingestor.counters.get('flows_invalid') + ingestor.counters.get('flows_too_late')).toBe(0);
    expect(ingestor.counters.get('flows_in')).toBe(flows.length);
  });
});
