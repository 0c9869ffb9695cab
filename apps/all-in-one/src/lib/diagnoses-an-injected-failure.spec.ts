import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EmbeddedGraphStore } from '@topology/graph-store-embedded';
import { applicationBucketMerger } from '@topology/ipc-ingest';
import { ApplicationEdgeProps, EdgeBucket, NodeId, nodeId } from '@topology/model';
import { TopologyQueryService } from '@topology/query';
import { createGatewayMicroservice, createTopologyClient, type GatewayMicroservice, type TopologyClient } from '@topology/runtime-gateway';
import { fleetMetadata, fleetTruth, generateTraffic, planFleet, type Fleet, type SimApp } from '@topology/sim';
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

/**
 * The network layer is the real all-in-one fed with the simulated fleet. The application layer is
 * an embedded store written here with the IPC view of the same fleet's routes (the all-in-one does
 * not run the application layer yet), with errors injected into one backend.
 */
describe('"is it me or upstream?" on the simulated fleet', () => {
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
    // The target is a p99 under 20 ms on a quiet machine; this bound only catches a regression by an
    // order of magnitude on a loaded test machine.
    expect(percentile(both, 0.99)).toBeLessThan(250);
  });
});
