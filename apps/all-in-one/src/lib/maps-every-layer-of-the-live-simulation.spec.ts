import { createTopologyClient, type EdgeMessage, type LayerName } from '@topology/runtime-gateway';
import { planFleet, traceTruth } from '@topology/sim';
import { testConfig } from '../testing/run-all-in-one';
import { AllInOne } from './all-in-one';

jest.setTimeout(180_000);

const APPS = 40;
const SEED = 7;

/** Every app-level edge one layer knows in the live range, read over gRPC from all the roots given. */
async function layerEdges(address: string, roots: string[], layer: LayerName): Promise<EdgeMessage[]> {
  const client = createTopologyClient(address);
  try {
    const page = await client.traverse({ roots, direction: 'DIRECTION_BOTH', depth: 1, granularity: 'GRANULARITY_APP', layers: [layer], pageSize: 1000 });
    expect(page.layerStatus.map((s) => s.state)).toEqual(['STATE_OK']);
    expect(page.nextPageToken).toBe('');
    return page.edges;
  } finally {
    client.close();
  }
}

describe('npm start (the all-in-one with its simulated fleet)', () => {
  it('maps every layer of the live simulation: flows, IPC metrics and sampled traces all arrive and every trace edge is a true one', async () => {
    const config = { ...testConfig(), simulate: true, simulationApps: APPS, simulationSeed: SEED };
    const startedMs = Date.now();
    const app = await AllInOne.start(config);
    try {
      // The backfilled minutes are published at start, each feed on its own.
      const feeds = [app.feed, app.application.feed, app.request.feed];
      await Promise.all(feeds.map((f) => f?.settled()));
      expect(feeds.map((f) => (f?.published ?? 0) > 0)).toEqual([true, true, true]);
      await app.drain();

      const runStartMs = Math.floor(startedMs / config.windowMs) * config.windowMs - 2 * 60_000;
      const fleet = planFleet({ seed: SEED, apps: APPS, startMs: runStartMs, minutes: 60, intervalMs: config.windowMs });
      const roots = fleet.apps.map((a) => `app:${a.name}`);
      const network = await layerEdges(app.grpcAddress, roots, 'LAYER_NETWORK');
      const application = await layerEdges(app.grpcAddress, roots, 'LAYER_APPLICATION');
      const request = await layerEdges(app.grpcAddress, roots, 'LAYER_REQUEST');
      expect(network.length).toBeGreaterThan(20);
      expect(application.length).toBeGreaterThan(10);
      expect(request.length).toBeGreaterThan(5);

      const truth = new Set(traceTruth(fleet).appEdges.map((e) => `${e.src} -> ${e.dst}`));
      expect(request.map((e) => `${e.src} -> ${e.dst}`).filter((e) => !truth.has(e))).toEqual([]);
      expect(request.every((e) => (e.request?.calls ?? 0) > 0)).toBe(true);
    } finally {
      await app.stop();
    }
  });
});
