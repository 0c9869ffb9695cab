import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { EmbeddedGraphStore } from '@topology/graph-store-embedded';
import { applicationBucketMerger } from '@topology/ipc-ingest';
import { ApplicationEdgeProps, EdgeBucket, isNodeId, NodeId, nodeId } from '@topology/model';
import { TopologyQueryService } from '@topology/query';
import { createGatewayMicroservice, createTopologyClient, type GatewayMicroservice, type TopologyClient } from '@topology/runtime-gateway';
import { fleetMetadata, fleetTruth, generateIpcMetrics, generateTraffic, IpcMetricsGenerator, planFleet, type Fleet, type SimApp } from '@topology/sim';
import { feedBatches, testConfig } from '../testing/run-all-in-one';
import { AllInOne } from './all-in-one';

jest.setTimeout(300_000);

/** Error rate injected into the calls the failing backend serves. */
const INJECTED_ERROR_RATE = 0.4;

interface AppCall {
  src: SimApp;
  dst: SimApp;
  /** Calls per minute. */
  calls: number;
}

/**
 * The app-to-app calls the fleet's routes make, as IPC client metrics describe them: an app calls
 * the app that serves the route (the API gateway is a hop here, unlike on the network, where the
 * pipeline resolves through it). Calls per minute follow the route's connection rate.
 */
function appCalls(fleet: Fleet): AppCall[] {
  const byPair = new Map<string, AppCall>();
  const add = (src: SimApp, dst: SimApp, calls: number) => {
    if (src === dst) return;
    const key = `${src.name} ${dst.name}`;
    const known = byPair.get(key);
    if (known === undefined) byPair.set(key, { src, dst, calls });
    else known.calls += calls;
  };
  for (const route of fleet.routes) {
    const calls = route.pooled ? 300 * route.poolSize : 60 + Math.round(route.rate * 40);
    if (route.kind === 'direct') add(route.client.app, route.server.app, calls);
    if (route.kind === 'balanced') {
      const total = route.listener.weights.reduce((s, w) => s + w, 0);
      route.listener.targets.forEach((target, i) => add(route.client.app, target.app, Math.max(1, Math.round((calls * (route.listener.weights[i] ?? 0)) / total))));
    }
  }
  return [...byPair.values()];
}

/**
 * Errors per call pair when `failing` serves `INJECTED_ERROR_RATE` of its calls as errors and every
 * app above it fails the requests whose downstream calls failed (one call per request): the failure
 * shows all the way up, as it does in a real outage.
 */
function withPropagatedErrors(calls: AppCall[], failing: SimApp): Map<AppCall, number> {
  const outgoing = new Map<SimApp, AppCall[]>();
  for (const c of calls) outgoing.set(c.src, [...(outgoing.get(c.src) ?? []), c]);
  const servedErrorRate = new Map<SimApp, number>();
  const rateOf = (app: SimApp, settling: Set<SimApp>): number => {
    const known = servedErrorRate.get(app);
    if (known !== undefined) return known;
    if (app === failing) return INJECTED_ERROR_RATE;
    // The fleet's calls form a DAG; a cycle would only stop the propagation, not loop.
    if (settling.has(app)) return 0;
    settling.add(app);
    let made = 0;
    let failed = 0;
    for (const c of outgoing.get(app) ?? []) {
      made += c.calls;
      failed += Math.round(c.calls * rateOf(c.dst, settling));
    }
    settling.delete(app);
    const rate = made > 0 ? failed / made : 0;
    servedErrorRate.set(app, rate);
    return rate;
  };
  return new Map(calls.map((c) => [c, Math.round(c.calls * rateOf(c.dst, new Set()))]));
}

function applicationBuckets(fleet: Fleet, calls: AppCall[], errors: Map<AppCall, number>, bucketMs: number): EdgeBucket<ApplicationEdgeProps>[] {
  const buckets: EdgeBucket<ApplicationEdgeProps>[] = [];
  const first = Math.floor(fleet.startMs / bucketMs) * bucketMs;
  for (let start = first; start < fleet.endMs; start += bucketMs) {
    const minutes = bucketMs / 60_000;
    for (const c of calls) {
      const n = c.calls * minutes;
      const e = (errors.get(c) ?? 0) * minutes;
      buckets.push({
        src: nodeId('app', c.src.name),
        dst: nodeId('app', c.dst.name),
        granularity: 'app',
        bucketStartMs: start,
        firstSeenMs: Math.max(start, fleet.startMs),
        lastSeenMs: Math.min(start + bucketMs, fleet.endMs) - 1,
        props: {
          calls: n,
          errors: e,
          endpoints: [{ endpoint: `GET /v1/${c.dst.name}`, protocol: 'http', calls: n, errors: e, errorsByStatus: e > 0 ? { '503': e } : {}, latencyP50Ms: 8, latencyP90Ms: 30, latencyP99Ms: 90 }],
        },
      });
    }
  }
  return buckets;
}

/** Hops from `from` to every app it reaches, over both layers' edges. */
function distancesFrom(from: NodeId, edges: { src: NodeId; dst: NodeId }[]): Map<NodeId, number> {
  const out = new Map<NodeId, NodeId[]>();
  for (const e of edges) out.set(e.src, [...(out.get(e.src) ?? []), e.dst]);
  const distance = new Map<NodeId, number>([[from, 0]]);
  let frontier = [from];
  for (let d = 1; frontier.length > 0; d++) {
    const next: NodeId[] = [];
    for (const n of frontier) {
      for (const m of out.get(n) ?? []) {
        if (distance.has(m)) continue;
        distance.set(m, d);
        next.push(m);
      }
    }
    frontier = next;
  }
  return distance;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

/** POSTs one OTLP export to the all-in-one's OTLP/HTTP receiver, as an SDK's exporter does. */
function exportOverHttp(agent: http.Agent, address: string, body: Uint8Array): Promise<number> {
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

/** The apps the simulated health source reports healthy: for the others "it is me" is a fair answer. */
function healthyApps(fleet: Fleet): Set<string> {
  const healthy = new Set<string>();
  for (const e of fleetMetadata(fleet)) if ('health' in e && e.health.health === 'healthy') healthy.add(e.health.nodeId);
  return healthy;
}

/**
 * The acceptance as it happens in production: the all-in-one runs both layers, the network from the
 * fleet's flows and the application layer from the fleet's OTLP metrics (most apps instrumented),
 * and one backend's served calls fail from the start.
 */
describe('"is it me or upstream?" in the all-in-one fed with the simulated fleet', () => {
  const fleet = planFleet({ seed: 42, minutes: 5 });
  const truth = fleetTruth(fleet);
  const probe = new IpcMetricsGenerator(fleet);
  const ipcTruth = probe.truth();
  const range = { fromMs: fleet.startMs, toMs: fleet.endMs + 60_000 };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const healthy = healthyApps(fleet);

  // The data-tier app with the most callers whose calls the application layer sees, and every
  // healthy app two hops above it through an app whose calls to it the application layer sees.
  const seenInto = (dst: NodeId) => ipcTruth.appEdges.filter((e) => e.dst === dst);
  const failing = fleet.apps.filter((a) => a.layer === 'data').sort((a, b) => seenInto(nodeId('app', b.name)).length - seenInto(nodeId('app', a.name)).length || a.name.localeCompare(b.name))[0];
  if (failing === undefined) throw new Error('the fleet has no data tier');
  const failingId = nodeId('app', failing.name);
  const callersSeen = new Set(seenInto(failingId).map((e) => e.src));
  const unionEdges = [...truth.appEdges, ...ipcTruth.appEdges];
  const twoHopsUp = fleet.apps
    .filter((a) => {
      const id = nodeId('app', a.name);
      if (!healthy.has(id)) return false;
      const distances = distancesFrom(id, unionEdges);
      return distances.get(failingId) === 2 && unionEdges.some((e) => e.src === id && callersSeen.has(e.dst));
    })
    .map((a) => nodeId('app', a.name))
    .sort();

  let app: AllInOne;
  let client: TopologyClient;

  beforeAll(async () => {
    app = await AllInOne.start(testConfig(), { log: () => undefined });
    await feedBatches(app, generateTraffic(fleet));
    await app.drain();
    const exports: Promise<number>[] = [];
    for (const batch of generateIpcMetrics(fleet, generateTraffic(fleet), { failures: [{ app: failing.name, errorRate: INJECTED_ERROR_RATE }] })) {
      for (const r of batch.requests) exports.push(exportOverHttp(agent, app.application.otlpHttp.address, r.request));
    }
    const statuses = await Promise.all(exports);
    if (statuses.some((s) => s !== 200)) throw new Error(`exports refused: ${[...new Set(statuses)].join(', ')}`);
    await app.drain();
    client = createTopologyClient(app.grpcAddress);
  });

  afterAll(async () => {
    client?.close();
    await app?.stop();
    agent.destroy();
  });

  it('names the failing backend for every healthy service two hops upstream of it', async () => {
    expect(twoHopsUp.length).toBeGreaterThan(3);
    const wrong: { app: string; verdict: string; culprit: string; explanation: string }[] = [];
    for (const id of twoHopsUp) {
      const d = await client.diagnose({ id, depth: 3, range });
      expect(d.layerStatus.filter((s) => s.state !== 'STATE_OK')).toEqual([]);
      if (d.verdict !== 'VERDICT_DEPENDENCY' || d.likelyCulprit !== failingId) wrong.push({ app: id, verdict: d.verdict, culprit: d.likelyCulprit, explanation: d.explanation });
    }
    expect(wrong).toEqual([]);
    console.log(`diagnosed ${twoHopsUp.length} services two hops above ${failingId}`);
  });

  it('says the backend itself is failing', async () => {
    const d = await client.diagnose({ id: failingId, range });
    expect(d.verdict).toBe('VERDICT_SELF');
    expect(d.ownErrorRate).toBeCloseTo(INJECTED_ERROR_RATE, 1);
  });

  it('lists as not instrumented exactly the apps on the network that report no IPC metrics', async () => {
    const networkOnly: NodeId[] = [];
    let pageToken = '';
    do {
      const page = await client.coverage({ range, pageSize: 50, pageToken });
      networkOnly.push(...page.networkOnly.map((n) => n.id).filter(isNodeId));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    const onNetwork = new Set(truth.appEdges.flatMap((e) => [e.src, e.dst]).filter((id) => id.startsWith('app:')));
    const uninstrumented = ipcTruth.uninstrumentedApps.map((a) => nodeId('app', a)).filter((id) => onNetwork.has(id));
    expect(uninstrumented.length).toBeGreaterThan(0);
    // Exactly the apps without IPC metrics: an instrumented app counts even when its own metrics
    // make no edge (it serves instrumented callers only, calls nothing, names no caller).
    expect([...networkOnly].sort()).toEqual([...uninstrumented].sort());
  });
});

/**
 * Errors that travel all the way up, as in a real outage: the network layer is the real all-in-one
 * fed with the simulated fleet; the application layer is an embedded store written here with the
 * IPC view of the same fleet's routes, one backend failing and every app above it failing the
 * requests whose calls failed.
 */
describe('"is it me or upstream?" when the failure propagates to every caller', () => {
  const fleet = planFleet({ seed: 42 });
  const truth = fleetTruth(fleet);
  const range = { fromMs: fleet.startMs, toMs: fleet.endMs + 60_000 };
  const config = testConfig();
  const applicationDir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-application-'));
  const calls = appCalls(fleet);
  const unionEdges = [...truth.appEdges, ...calls.map((c) => ({ src: nodeId('app', c.src.name), dst: nodeId('app', c.dst.name) }))];

  // The most called backend of the data tier, and an app exactly two hops above it.
  const callers = (app: SimApp) => calls.filter((c) => c.dst === app).length;
  const failing = [...fleet.apps].filter((a) => a.layer === 'data').sort((a, b) => callers(b) - callers(a) || a.name.localeCompare(b.name))[0];
  if (failing === undefined) throw new Error('the fleet has no data tier');
  const failingId = nodeId('app', failing.name);
  const distances = new Map(fleet.apps.map((a) => [a, distancesFrom(nodeId('app', a.name), unionEdges).get(failingId)]));
  // The simulated health source marks a few apps degraded or unhealthy on their own: for those,
  // "it is me" is a fair answer, so the acceptance looks at the healthy ones.
  const reportedHealth = new Map(fleetMetadata(fleet).flatMap((e) => ('health' in e ? [[e.health.nodeId, e.health.health] as const] : [])));
  const healthy = (a: SimApp) => reportedHealth.get(nodeId('app', a.name)) === 'healthy';
  const twoHopsUp = fleet.apps.filter((a) => distances.get(a) === 2 && healthy(a)).sort((a, b) => a.name.localeCompare(b.name));
  const unaffected = fleet.apps.filter((a) => a.layer !== 'data' && distances.get(a) === undefined && healthy(a)).sort((a, b) => a.name.localeCompare(b.name));

  let app: AllInOne;
  let applicationStore: EmbeddedGraphStore<ApplicationEdgeProps>;
  let gateway: GatewayMicroservice;
  let client: TopologyClient;

  beforeAll(async () => {
    app = await AllInOne.start(config, { log: () => undefined });
    await feedBatches(app, generateTraffic(fleet));
    await app.drain();
    applicationStore = await EmbeddedGraphStore.open({ dir: applicationDir, layer: 'application', bucketMs: config.bucketMs }, applicationBucketMerger);
    await applicationStore.putEdgeBuckets(applicationBuckets(fleet, calls, withPropagatedErrors(calls, failing), config.bucketMs));
    const service = new TopologyQueryService(
      [
        { layer: 'network', reader: app.store },
        { layer: 'application', reader: applicationStore },
      ],
      { liveTtlMs: config.liveTtlMs },
    );
    gateway = await createGatewayMicroservice({ url: '127.0.0.1:0', service });
    client = createTopologyClient(gateway.address);
  });

  afterAll(async () => {
    client?.close();
    await gateway?.close();
    await applicationStore?.close();
    await app?.stop();
  });

  it('has services two hops above the failing backend, and others nowhere near it', () => {
    expect(twoHopsUp.length).toBeGreaterThan(3);
    expect(unaffected.length).toBeGreaterThan(0);
  });

  it('names the failing backend for every service two hops upstream of it, with a path to it', async () => {
    const verdicts = [];
    for (const a of twoHopsUp) {
      const d = await client.diagnose({ id: `app:${a.name}`, depth: 3, range });
      verdicts.push({ app: a.name, verdict: d.verdict, culprit: d.likelyCulprit, path: d.suspects[0]?.path ?? [], layers: d.layerStatus.map((s) => s.state) });
    }
    expect(verdicts.filter((v) => v.verdict !== 'VERDICT_DEPENDENCY' || v.culprit !== failingId)).toEqual([]);
    for (const v of verdicts) {
      expect(v.path[0]).toBe(`app:${v.app}`);
      expect(v.path[v.path.length - 1]).toBe(failingId);
      expect(v.layers).toEqual(['STATE_OK', 'STATE_OK']);
    }
  });

  it('ranks the backend above the services that only pass its errors on, and shows its evidence', async () => {
    const [first] = twoHopsUp;
    const d = await client.diagnose({ id: `app:${first?.name}`, depth: 3, range });
    expect(d.suspects[0]).toMatchObject({ node: expect.objectContaining({ id: failingId }), distance: 2, errorRate: expect.closeTo(INJECTED_ERROR_RATE, 2), evidenceLayers: ['LAYER_APPLICATION'] });
    expect(d.suspects[0]?.evidence[0]).toMatch(/^errors 40% of [\d.]+k? calls served \(application layer\)$/);
    expect(d.suspects.slice(1).every((s) => s.score < (d.suspects[0]?.score ?? 0) / 10)).toBe(true);
  });

  it('says the backend itself is failing, and finds no signal for a service that does not depend on it', async () => {
    expect((await client.diagnose({ id: failingId, range })).verdict).toBe('VERDICT_SELF');
    const [far] = unaffected;
    expect((await client.diagnose({ id: `app:${far?.name}`, depth: 3, range })).verdict).toBe('VERDICT_NO_SIGNAL');
  });

  it('answers the unified 3-hop query over both layers about as fast as a single layer', async () => {
    const roots = fleet.apps.filter((a) => a.layer === 'edge' || a.layer === 'mid').map((a) => `app:${a.name}`);
    const ask = (root: string, layers: ('LAYER_NETWORK' | 'LAYER_APPLICATION')[]) => client.traverse({ roots: [root], depth: 3, range, layers });
    for (const root of roots.slice(0, 20)) await ask(root, ['LAYER_NETWORK', 'LAYER_APPLICATION']);
    const single: number[] = [];
    const both: number[] = [];
    // Interleaved, so both see the same machine load.
    for (let i = 0; i < 400; i++) {
      const root = roots[i % roots.length] ?? '';
      for (const [layers, into] of [
        [['LAYER_NETWORK'], single],
        [['LAYER_NETWORK', 'LAYER_APPLICATION'], both],
      ] as const) {
        const started = process.hrtime.bigint();
        const answer = await ask(root, [...layers]);
        into.push(Number(process.hrtime.bigint() - started) / 1e6);
        if (answer.layerStatus.some((s) => s.state !== 'STATE_OK')) throw new Error(`a layer did not answer for ${root}`);
      }
    }
    single.sort((a, b) => a - b);
    both.sort((a, b) => a - b);
    const figures = (l: number[]) => `p50 ${percentile(l, 0.5).toFixed(1)} ms, p99 ${percentile(l, 0.99).toFixed(1)} ms`;
    console.log(`3-hop query over gRPC, ${fleet.apps.length} apps, ${roots.length} roots: network alone ${figures(single)}; network + application ${figures(both)}`);
    // The target is a p99 under 20 ms on a quiet machine (see tools/bench); test machines are shared,
    // so this only holds the union to a small multiple of one layer's median, measured side by side.
    expect(percentile(both, 0.5)).toBeLessThan(3 * percentile(single, 0.5) + 2);
  });
});
