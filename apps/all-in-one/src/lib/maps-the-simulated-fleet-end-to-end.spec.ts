import { fleetTruth, generateTraffic, planFleet, type FleetTruth } from '@topology/sim';
import type { EdgeMessage } from '@topology/runtime-gateway';
import { feedBatches, readEdgesOverGrpc, testConfig } from '../testing/run-all-in-one';
import { AllInOne } from './all-in-one';

jest.setTimeout(300_000);

interface Scores {
  precision: number;
  recall: number;
  missing: string[];
  extra: string[];
}

function score(actual: EdgeMessage[], truth: FleetTruth['appEdges']): Scores {
  const got = new Set(actual.map((e) => `${e.src} -> ${e.dst}`));
  const want = new Set(truth.map((e) => `${e.src} -> ${e.dst}`));
  const missing = [...want].filter((k) => !got.has(k));
  const extra = [...got].filter((k) => !want.has(k));
  return { precision: (got.size - extra.length) / got.size, recall: (want.size - missing.length) / want.size, missing: missing.slice(0, 10), extra: extra.slice(0, 10) };
}

function viaPaths(edges: EdgeMessage[]): Map<string, string[]> {
  return new Map(edges.map((e) => [`${e.src} -> ${e.dst}`, (e.network?.paths ?? []).map((p) => p.via.join(' > ')).sort()]));
}

describe('the all-in-one maps a simulated fleet exactly', () => {
  const fleet = planFleet({ seed: 42 });
  const truth = fleetTruth(fleet);
  const range = { fromMs: fleet.startMs, toMs: fleet.endMs + 60_000 };
  const appRoots = fleet.apps.map((a) => `app:${a.name}`);
  const clusterRoots = fleet.clusters.map((c) => `cluster:${c.name}`);
  const config = testConfig();
  let app: AllInOne;
  let appEdges: EdgeMessage[];
  let clusterEdges: EdgeMessage[];

  beforeAll(async () => {
    app = await AllInOne.start(config, { log: () => undefined });
    await feedBatches(app, generateTraffic(fleet));
    await app.drain();
    appEdges = await readEdgesOverGrpc(app.grpcAddress, appRoots, 'GRANULARITY_APP', range);
    clusterEdges = await readEdgesOverGrpc(app.grpcAddress, clusterRoots, 'GRANULARITY_CLUSTER', range);
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('is a fleet of the promised size, with IP churn', () => {
    expect(fleet.apps.length).toBeGreaterThanOrEqual(200);
    expect(fleet.clusters.length).toBeGreaterThanOrEqual(600);
    expect(fleet.loadBalancers.length).toBeGreaterThanOrEqual(20);
    expect(truth.reassignedIps.length).toBeGreaterThan(0);
  });

  it('finds exactly the true app-level dependencies (precision and recall 1.0)', () => {
    const s = score(appEdges, truth.appEdges);
    expect(s).toEqual({ precision: 1, recall: 1, missing: [], extra: [] });
  });

  it('finds exactly the true cluster-level dependencies, each with its true via path', () => {
    const s = score(clusterEdges, truth.clusterEdges);
    expect(s).toEqual({ precision: 1, recall: 1, missing: [], extra: [] });
    const got = viaPaths(clusterEdges);
    const wrongVia = truth.clusterEdges.filter((t) => JSON.stringify(got.get(`${t.src} -> ${t.dst}`)) !== JSON.stringify(t.vias.map((v) => v.join(' > ')).sort()));
    expect(wrongVia.slice(0, 5)).toEqual([]);
  });

  it('has no dependency edge beyond those reachable from the fleet (nothing from Unknown nodes)', async () => {
    const all = await app.store.listEdges({ granularity: 'cluster', range });
    expect(all.length).toBe(truth.clusterEdges.length);
  });

  it('keeps the map across a stop and start', async () => {
    await app.stop();
    app = await AllInOne.start(config, { log: () => undefined });
    const again = await readEdgesOverGrpc(app.grpcAddress, appRoots, 'GRANULARITY_APP', range);
    expect(score(again, truth.appEdges)).toEqual({ precision: 1, recall: 1, missing: [], extra: [] });
  });
});
