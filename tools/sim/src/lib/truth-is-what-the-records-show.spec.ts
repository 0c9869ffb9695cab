import { deriveDependencies } from '../testing/derive-dependencies';
import { simulationRun } from '../testing/default-run';

describe('the ground truth of a default run', () => {
  const { fleet, truth, output } = simulationRun();
  const derived = deriveDependencies(output, fleet.config.intervalMs);
  const key = (e: { src: string; dst: string }): string => `${e.src} -> ${e.dst}`;

  it('leaves no remote address unexplained', () => {
    expect(derived.unattributed).toEqual([]);
  });

  it('has traffic behind every cluster edge', () => {
    const seen = new Set(derived.clusterEdges.map(key));
    expect(truth.clusterEdges.map(key).filter((k) => !seen.has(k))).toEqual([]);
  });

  it('lists every cluster dependency the records imply, with the same via paths', () => {
    expect(derived.clusterEdges).toEqual(truth.clusterEdges);
  });

  it('lists every app dependency the records imply, with the same via paths', () => {
    expect(derived.appEdges).toEqual(truth.appEdges);
  });

  it('resolves through every kind of intermediary, including a gateway in front of a balancer', () => {
    const kind = (id: string): string => (id.startsWith('app:') ? 'gateway' : id.startsWith('intermediary:lb-') ? 'balancer' : id.startsWith('intermediary:nat-') ? 'nat' : id);
    const paths = new Set(truth.clusterEdges.flatMap((e) => e.vias.map((via) => via.map(kind).join(' > '))));
    expect([...paths].sort()).toEqual(['', 'balancer', 'gateway', 'gateway > balancer', 'nat']);
  });
});
