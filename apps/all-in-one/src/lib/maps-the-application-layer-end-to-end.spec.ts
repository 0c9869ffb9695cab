import * as http from 'http';
import { createTopologyClient, type EdgeMessage, type LayerName } from '@topology/runtime-gateway';
import { fleetTruth, generateIpcMetrics, generateTraffic, IpcMetricsGenerator, planFleet } from '@topology/sim';
import { feedBatches, testConfig } from '../testing/run-all-in-one';
import { AllInOne } from './all-in-one';

jest.setTimeout(300_000);

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** POSTs one OTLP export to the all-in-one's OTLP/HTTP receiver, as an SDK's exporter does. */
function exportOverHttp(address: string, body: Uint8Array): Promise<number> {
  const colon = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: address.slice(0, colon), port: Number(address.slice(colon + 1)), path: '/v1/metrics', method: 'POST', headers: { 'content-type': 'application/x-protobuf', 'content-length': String(body.length) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Every edge leaving the roots in the given layers, one hop, read over gRPC page by page. */
async function edgesOverGrpc(address: string, roots: string[], layers: LayerName[], range: { fromMs: number; toMs: number }): Promise<EdgeMessage[]> {
  const client = createTopologyClient(address);
  const edges = new Map<string, EdgeMessage>();
  try {
    for (let i = 0; i < roots.length; i += 100) {
      let pageToken = '';
      do {
        const page = await client.traverse({ roots: roots.slice(i, i + 100), direction: 'DIRECTION_DOWN', depth: 1, granularity: 'GRANULARITY_APP', layers, range, pageSize: 1000, pageToken });
        const failed = page.layerStatus.filter((s) => s.state !== 'STATE_OK');
        if (failed.length > 0) throw new Error(`layer failed: ${JSON.stringify(failed)}`);
        for (const e of page.edges) edges.set(`${e.src} -> ${e.dst}`, e);
        pageToken = page.nextPageToken;
      } while (pageToken !== '');
    }
  } finally {
    client.close();
  }
  return [...edges.values()];
}

describe('the all-in-one maps the application layer of a simulated fleet', () => {
  const fleet = planFleet({ seed: 42, minutes: 5 });
  const networkTruth = fleetTruth(fleet);
  const ipc = new IpcMetricsGenerator(fleet);
  const truth = ipc.truth();
  const range = { fromMs: fleet.startMs, toMs: fleet.endMs + 60_000 };
  const roots = [...new Set([...fleet.apps.map((a) => `app:${a.name}`), ...truth.nodes])];
  let app: AllInOne;
  let application: EdgeMessage[];
  let merged: EdgeMessage[];
  let statuses: number[];

  beforeAll(async () => {
    app = await AllInOne.start(testConfig(), { log: () => undefined });
    // The network first: its metadata names the external services the IPC metrics call.
    await feedBatches(app, generateTraffic(fleet));
    await app.drain();
    const exports: Promise<number>[] = [];
    for (const batch of generateIpcMetrics(fleet, generateTraffic(fleet))) {
      for (const r of batch.requests) exports.push(exportOverHttp(app.application.otlpHttp.address, r.request));
    }
    statuses = await Promise.all(exports);
    await app.drain();
    application = await edgesOverGrpc(app.grpcAddress, roots, ['LAYER_APPLICATION'], range);
    merged = await edgesOverGrpc(app.grpcAddress, roots, ['LAYER_NETWORK', 'LAYER_APPLICATION'], range);
  });

  afterAll(async () => {
    await app?.stop();
    agent.destroy();
  });

  it('takes every export over OTLP/HTTP', () => {
    expect(statuses.length).toBeGreaterThan(1000);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });

  it('holds exactly the true application-layer edges, each with its endpoints, from the client view where there is one', () => {
    const got = application.map((e) => ({
      edge: `${e.src} -> ${e.dst}`,
      serverReportedOnly: (e.application?.endpoints ?? []).every((p) => p.serverReportedOnly),
      endpoints: (e.application?.endpoints ?? []).map((p) => p.endpoint).sort(),
    }));
    const want = truth.appEdges.map((t) => ({ edge: `${t.src} -> ${t.dst}`, serverReportedOnly: t.serverReportedOnly, endpoints: t.endpoints }));
    const byEdge = (a: { edge: string }, b: { edge: string }) => (a.edge < b.edge ? -1 : 1);
    expect(got.sort(byEdge)).toEqual(want.sort(byEdge));
    expect(application.every((e) => (e.application?.calls ?? 0) > 0 && e.layers.join() === 'LAYER_APPLICATION')).toBe(true);
  });

  it('shows an uninstrumented app only where an instrumented app reports its calls with it', () => {
    const instrumented = new Set(truth.instrumentedApps.map((a) => `app:${a}`));
    const uninstrumented = new Set(truth.uninstrumentedApps.map((a) => `app:${a}`));
    const touching = application.filter((e) => uninstrumented.has(e.src) || uninstrumented.has(e.dst));
    expect(touching.length).toBeGreaterThan(0);
    for (const e of touching) {
      const reporter = uninstrumented.has(e.src) ? e.dst : e.src;
      expect({ edge: `${e.src} -> ${e.dst}`, reportedBy: instrumented.has(reporter) }).toEqual({ edge: `${e.src} -> ${e.dst}`, reportedBy: true });
      // Calls from an uninstrumented app are known from the server alone, and marked so.
      if (uninstrumented.has(e.src)) expect(e.application?.endpoints.every((p) => p.serverReportedOnly)).toBe(true);
    }
  });

  it('merges application edges with network edges in one traversal: an edge both layers saw carries both property sets', () => {
    const network = new Set(networkTruth.appEdges.map((e) => `${e.src} -> ${e.dst}`));
    const applicationKeys = new Set(truth.appEdges.map((e) => `${e.src} -> ${e.dst}`));
    const both = [...applicationKeys].filter((k) => network.has(k));
    expect(both.length).toBeGreaterThan(50);
    const byKey = new Map(merged.map((e) => [`${e.src} -> ${e.dst}`, e]));
    for (const key of both) {
      const e = byKey.get(key);
      expect({ key, layers: e?.layers, network: e?.network !== undefined && e?.network !== null, application: e?.application !== undefined && e?.application !== null }).toEqual({
        key,
        layers: ['LAYER_NETWORK', 'LAYER_APPLICATION'],
        network: true,
        application: true,
      });
    }
    // Calls through the gateway are two application edges; the network resolves them through it.
    const onlyApplication = [...applicationKeys].filter((k) => !network.has(k));
    expect(onlyApplication.some((k) => k.endsWith('-> app:apigateway'))).toBe(true);
    for (const key of onlyApplication) expect(byKey.get(key)?.layers).toEqual(['LAYER_APPLICATION']);
    const onlyNetwork = [...network].filter((k) => !applicationKeys.has(k));
    expect(onlyNetwork.length).toBeGreaterThan(0);
    for (const key of onlyNetwork) expect(byKey.get(key)?.layers).toEqual(['LAYER_NETWORK']);
  });

  it('gives the nodes it saw a health from their calls', async () => {
    const nodes = await app.application.store.getNodes(truth.instrumentedApps.slice(0, 20).map((a) => `app:${a}`) as never);
    expect(nodes.length).toBe(20);
    expect(nodes.some((n) => n.health === 'healthy')).toBe(true);
    expect(nodes.every((n) => n.health !== 'unhealthy')).toBe(true);
  });
});
