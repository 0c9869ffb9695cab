import { encodeMetricsRequestObject } from '@topology/ipc-ingest';
import { nodeId, type NodeId } from '@topology/model';
import type { ExternalService, Fleet, Route, SimApp } from './fleet';
import { Random } from './random';
import type { SimulationBatch } from './traffic';

/**
 * IPC metrics of the simulated fleet: what each instrumented app's OpenTelemetry SDK would export
 * per reporting interval (delta histograms of call durations), derived from the fleet's routes.
 *
 * At the application layer an edge is the app that made a call → the app that served it, as the
 * caller names it. Load balancers are invisible (the caller names the app behind them); the API
 * gateway is an app like any other, so a call through it is two edges (caller → gateway, gateway →
 * backend); external services appear by the name the caller gives them (the names of the
 * metadata's external ranges). Network-level resolution through the gateway is not repeated here.
 */

/** Which generation of the semantic conventions an app's instrumentation follows. */
export type IpcConventions = 'current' | 'older';

export interface AppInstrumentation {
  conventions: IpcConventions;
  /** Whether its server metrics name the caller (`service.peer.name` / `peer.service`). */
  namesCallers: boolean;
}

export interface IpcSimulationOptions {
  /** Share of apps that are instrumented. Default 0.85. */
  instrumentedShare: number;
  /** Share of instrumented apps on the older conventions. Default 0.3. */
  olderShare: number;
  /** Share of instrumented apps whose server metrics name the caller. Default 0.75. */
  namingShare: number;
  /** Share of calls that fail everywhere. Default 0.005. */
  baselineErrorRate: number;
  /** Apps whose served calls fail at the given rate (injected failures), from `fromMs` on. */
  failures: { app: string; errorRate: number; fromMs?: number }[];
}

export const DEFAULT_IPC_SIMULATION: Readonly<IpcSimulationOptions> = {
  instrumentedShare: 0.85,
  olderShare: 0.3,
  namingShare: 0.75,
  baselineErrorRate: 0.005,
  failures: [],
};

type Callee = { kind: 'app'; app: SimApp } | { kind: 'external'; external: ExternalService };

/** All calls of one app to one callee, over every route between their clusters. */
export interface AppCall {
  caller: SimApp;
  callee: Callee;
  calleeId: NodeId;
  protocol: 'grpc' | 'http';
  /** Endpoints of the callee this caller calls, as the server names them, with their shares of the calls. */
  endpoints: { name: string; share: number }[];
  /** Mean calls per reporting interval. */
  callsPerInterval: number;
  /** Median call duration, milliseconds. */
  medianMs: number;
}

export interface IpcTruthEdge {
  src: NodeId;
  dst: NodeId;
  protocol: 'grpc' | 'http';
  /** True when only the server reports the calls (the caller is not instrumented). */
  serverReportedOnly: boolean;
  /** Endpoint names as the counted view names them, sorted. */
  endpoints: string[];
}

/** What a correct application layer holds for the simulated fleet. */
export interface IpcTruth {
  instrumentedApps: string[];
  /** Apps that report no IPC metrics at all. */
  uninstrumentedApps: string[];
  appEdges: IpcTruthEdge[];
  /** Node ids the application layer knows: ends of its edges and every instrumented app. */
  nodes: NodeId[];
}

/** One interval's exports: an ExportMetricsServiceRequest (protobuf) per reporting app. */
export interface IpcMetricsBatch {
  index: number;
  window: { startMs: number; endMs: number };
  requests: { app: string; request: Uint8Array }[];
  dataPoints: number;
  calls: number;
}

const BOUNDS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const BOUNDS_MS = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];
const GRPC_PORTS = new Set([50051, 9090]);
const GRPC_UNAVAILABLE = 14;
const RPC_VERBS = ['Get', 'List', 'Update', 'Search'];
const HTTP_ROUTES = ['GET /v1/{app}/{id}', 'POST /v1/{app}', 'GET /v1/{app}', 'PUT /v1/{app}/{id}'];
/** Calls per reporting interval a connection pool slot carries, and per short connection. */
const CALLS_PER_POOL_SLOT = 40;
const CALLS_PER_CONNECTION = 6;

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The endpoints an app serves: one to three, named after it. */
function endpointsOf(name: string, protocol: 'grpc' | 'http'): string[] {
  const n = 1 + (hash(name) % 3);
  if (protocol === 'grpc') return RPC_VERBS.slice(0, n).map((verb) => `${name}.v1.${pascal(name)}Service/${verb}${pascal(name)}`);
  return HTTP_ROUTES.slice(0, n).map((r) => r.replace('{app}', name));
}

function calleeOf(route: Route): Callee {
  switch (route.kind) {
    case 'direct':
      return { kind: 'app', app: route.server.app };
    case 'balanced':
      return { kind: 'app', app: route.listener.loadBalancer.app };
    case 'external':
      return { kind: 'external', external: route.external };
  }
}

function medianMsOf(callee: Callee): number {
  if (callee.kind === 'external') return (callee.external.rttUs / 1000) * 4;
  switch (callee.app.layer) {
    case 'data':
      return 3;
    case 'gateway':
      return 45;
    default:
      return 12 + (hash(callee.app.name) % 30);
  }
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 for erf; error below 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** `n` calls spread over the buckets of `boundsMs` as a log-normal(median, 0.6) says, rounded by largest remainder. */
function latencyBuckets(n: number, medianMs: number, boundsMs: readonly number[]): number[] {
  const sigma = 0.6;
  const counts: number[] = [];
  const remainders: number[] = [];
  let previous = 0;
  let given = 0;
  for (let i = 0; i <= boundsMs.length; i++) {
    const b = boundsMs[i];
    const cdf = b === undefined ? 1 : b <= 0 ? 0 : normalCdf(Math.log(b / medianMs) / sigma);
    const exact = n * (cdf - previous);
    previous = cdf;
    counts.push(Math.floor(exact));
    remainders.push(exact - Math.floor(exact));
    given += Math.floor(exact);
  }
  const order = remainders.map((r, i) => [r, i] as const).sort((a, b) => b[0] - a[0]);
  for (let k = 0; k < n - given; k++) {
    const i = (order[k % order.length] as readonly [number, number])[1];
    counts[i] = (counts[i] as number) + 1;
  }
  return counts;
}

type Attribute = { key: string; value: { stringValue: string } | { intValue: number } };
const str = (key: string, value: string): Attribute => ({ key, value: { stringValue: value } });
const int = (key: string, value: number): Attribute => ({ key, value: { intValue: value } });

interface Point {
  attributes: Attribute[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  count: number;
  bucketCounts: number[];
  explicitBounds: number[];
}

/**
 * Plans which apps are instrumented (fixed by the seed) and the app-level calls of the fleet, and
 * renders each interval's exports. Calls per interval are Poisson around the routes' connection
 * rates; every call pair and endpoint has calls in the first interval, so the whole layer is there
 * from the start.
 */
export class IpcMetricsGenerator {
  readonly options: IpcSimulationOptions;
  readonly instrumentation = new Map<string, AppInstrumentation>();
  readonly calls: AppCall[];
  private readonly random: Random;

  constructor(
    readonly fleet: Fleet,
    options: Partial<IpcSimulationOptions> = {},
  ) {
    this.options = { ...DEFAULT_IPC_SIMULATION, ...options };
    const r = new Random(fleet.config.seed).fork('ipc-instrumentation');
    for (const app of fleet.apps) {
      if (!r.chance(this.options.instrumentedShare)) continue;
      this.instrumentation.set(app.name, { conventions: r.chance(this.options.olderShare) ? 'older' : 'current', namesCallers: r.chance(this.options.namingShare) });
    }
    this.calls = this.appCalls();
    this.random = new Random(fleet.config.seed).fork('ipc-traffic');
  }

  private appCalls(): AppCall[] {
    const byPair = new Map<string, AppCall>();
    for (const route of this.fleet.routes) {
      const callee = calleeOf(route);
      const calleeId = callee.kind === 'app' ? nodeId('app', callee.app.name) : nodeId('external', callee.external.name);
      const key = `${route.client.app.name} ${calleeId}`;
      const rate = route.pooled ? CALLS_PER_POOL_SLOT * route.poolSize : CALLS_PER_CONNECTION * route.rate;
      const known = byPair.get(key);
      if (known) {
        known.callsPerInterval += rate;
        continue;
      }
      const protocol = callee.kind === 'app' && GRPC_PORTS.has(callee.app.port) ? 'grpc' : 'http';
      const names = endpointsOf(callee.kind === 'app' ? callee.app.name : callee.external.name, protocol);
      const weights = names.map((_, i) => 1 / (i + 1));
      const total = weights.reduce((a, b) => a + b, 0);
      byPair.set(key, {
        caller: route.client.app,
        callee,
        calleeId,
        protocol,
        endpoints: names.map((name, i) => ({ name, share: (weights[i] as number) / total })),
        callsPerInterval: rate,
        medianMs: medianMsOf(callee),
      });
    }
    return [...byPair.values()];
  }

  /** The exports of one reporting interval. */
  interval(index: number, window: { startMs: number; endMs: number }): IpcMetricsBatch {
    const byApp = new Map<string, Map<string, { unit: string; points: Point[] }>>();
    const start = String(BigInt(window.startMs) * 1_000_000n);
    const end = String(BigInt(window.endMs) * 1_000_000n);
    let dataPoints = 0;
    let calls = 0;
    const add = (app: string, metric: string, unit: string, point: Point) => {
      let metrics = byApp.get(app);
      if (!metrics) {
        metrics = new Map();
        byApp.set(app, metrics);
      }
      let m = metrics.get(metric);
      if (!m) {
        m = { unit, points: [] };
        metrics.set(metric, m);
      }
      m.points.push(point);
      dataPoints++;
    };
    for (const c of this.calls) {
      const client = this.instrumentation.get(c.caller.name);
      const server = c.callee.kind === 'app' ? this.instrumentation.get(c.callee.app.name) : undefined;
      if (!client && !server) {
        // Nobody reports these calls; the random stream still advances, so instrumentation choices never reshape traffic.
        for (const _ of c.endpoints) this.random.poisson(1);
        continue;
      }
      const errorRate = this.errorRateOf(c, window.startMs);
      for (const endpoint of c.endpoints) {
        let n = this.random.poisson(c.callsPerInterval * endpoint.share);
        if (index === 0 && n === 0) n = 1;
        if (n === 0) continue;
        const failed = Math.min(n, Math.round(n * errorRate + (this.random.next() - 0.5)));
        calls += n;
        for (const [outcome, count] of [
          ['ok', n - failed],
          ['failed', failed],
        ] as const) {
          if (count <= 0) continue;
          if (client) {
            const p = this.point(c, endpoint.name, 'client', client.conventions, outcome === 'failed', count, start, end);
            add(c.caller.name, p.metric, p.unit, p.point);
          }
          if (server && c.callee.kind === 'app') {
            const p = this.point(c, endpoint.name, server.namesCallers ? 'server-naming' : 'server', server.conventions, outcome === 'failed', count, start, end);
            add(c.callee.app.name, p.metric, p.unit, p.point);
          }
        }
      }
    }
    const requests = [...byApp].map(([app, metrics]) => ({
      app,
      request: encodeMetricsRequestObject({
        resourceMetrics: [
          {
            resource: { attributes: [str('service.name', app), str('service.instance.id', `${app}-sim`), str('telemetry.sdk.language', 'simulated')] },
            scopeMetrics: [
              {
                scope: { name: 'topology-sim' },
                metrics: [...metrics].map(([name, m]) => ({ name, unit: m.unit, histogram: { aggregationTemporality: 1, dataPoints: m.points } })),
              },
            ],
          },
        ],
      }),
    }));
    return { index, window, requests, dataPoints, calls };
  }

  private errorRateOf(c: AppCall, atMs: number): number {
    if (c.callee.kind === 'app') {
      const name = c.callee.app.name;
      const failure = this.options.failures.find((f) => f.app === name && (f.fromMs === undefined || atMs >= f.fromMs));
      if (failure) return failure.errorRate;
    }
    return this.options.baselineErrorRate;
  }

  private point(c: AppCall, endpoint: string, side: 'client' | 'server' | 'server-naming', conventions: IpcConventions, failed: boolean, count: number, start: string, end: string): { metric: string; unit: string; point: Point } {
    const current = conventions === 'current';
    const client = side === 'client';
    const attributes: Attribute[] = [];
    if (c.protocol === 'grpc') {
      const slash = endpoint.lastIndexOf('/');
      if (current) attributes.push(str('rpc.system.name', 'grpc'), str('rpc.method', endpoint), str('rpc.status_code', failed ? 'UNAVAILABLE' : 'OK'));
      else attributes.push(str('rpc.system', 'grpc'), str('rpc.service', endpoint.slice(0, slash)), str('rpc.method', endpoint.slice(slash + 1)), int('rpc.grpc.status_code', failed ? GRPC_UNAVAILABLE : 0));
      if (failed && current) attributes.push(str('error.type', 'UNAVAILABLE'));
    } else {
      const space = endpoint.indexOf(' ');
      const method = endpoint.slice(0, space);
      const route = endpoint.slice(space + 1);
      attributes.push(str(current ? 'http.request.method' : 'http.method', method), int(current ? 'http.response.status_code' : 'http.status_code', failed ? 503 : 200));
      if (failed && current) attributes.push(str('error.type', '503'));
      // Servers know their route; of the clients only current instrumentation names it (url.template).
      if (!client) attributes.push(str('http.route', route));
      else if (current) attributes.push(str('url.template', route));
    }
    const calleeName = c.callee.kind === 'app' ? c.callee.app.name : c.callee.external.name;
    if (client) {
      if (c.callee.kind === 'external') attributes.push(str(current ? 'service.peer.name' : 'peer.service', calleeName));
      else if (current) attributes.push(str('server.address', `${calleeName}.svc.cluster.local`), int('server.port', c.callee.app.port));
      else attributes.push(str('peer.service', calleeName), str('net.peer.name', `${calleeName}.internal`));
    } else if (side === 'server-naming') {
      attributes.push(str(current ? 'service.peer.name' : 'peer.service', c.caller.name));
    }
    const metric = c.protocol === 'grpc' ? (current ? `rpc.${client ? 'client' : 'server'}.call.duration` : `rpc.${client ? 'client' : 'server'}.duration`) : current ? `http.${client ? 'client' : 'server'}.request.duration` : `http.${client ? 'client' : 'server'}.duration`;
    const bounds = current ? BOUNDS_S : BOUNDS_MS;
    const boundsMs = current ? BOUNDS_S.map((b) => b * 1000) : BOUNDS_MS;
    const median = failed ? c.medianMs * 3 : c.medianMs;
    return {
      metric,
      unit: current ? 's' : 'ms',
      point: { attributes, startTimeUnixNano: start, timeUnixNano: end, count, bucketCounts: latencyBuckets(count, median, boundsMs), explicitBounds: bounds },
    };
  }

  /** The application layer a correct pipeline builds from these exports. */
  truth(): IpcTruth {
    const edges = new Map<string, IpcTruthEdge>();
    for (const c of this.calls) {
      const client = this.instrumentation.get(c.caller.name);
      const server = c.callee.kind === 'app' ? this.instrumentation.get(c.callee.app.name) : undefined;
      if (!client && !server?.namesCallers) continue;
      const src = nodeId('app', c.caller.name);
      const endpoints = c.endpoints.map((e) => (client && c.protocol === 'http' && client.conventions === 'older' ? e.name.slice(0, e.name.indexOf(' ')) : e.name));
      edges.set(`${src} ${c.calleeId}`, { src, dst: c.calleeId, protocol: c.protocol, serverReportedOnly: !client, endpoints: [...new Set(endpoints)].sort() });
    }
    const appEdges = [...edges.values()].sort((a, b) => compare(a.src, b.src) || compare(a.dst, b.dst));
    const instrumentedApps = this.fleet.apps.filter((a) => this.instrumentation.has(a.name)).map((a) => a.name).sort();
    const nodes = new Set<NodeId>(instrumentedApps.map((a) => nodeId('app', a)));
    for (const e of appEdges) {
      nodes.add(e.src);
      nodes.add(e.dst);
    }
    return {
      instrumentedApps,
      uninstrumentedApps: this.fleet.apps.filter((a) => !this.instrumentation.has(a.name)).map((a) => a.name).sort(),
      appEdges,
      nodes: [...nodes].sort(),
    };
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The IPC exports that go with each batch of the fleet's traffic (same intervals). */
export function* generateIpcMetrics(fleet: Fleet, batches: Iterable<Pick<SimulationBatch, 'index' | 'window'>>, options: Partial<IpcSimulationOptions> = {}): Generator<IpcMetricsBatch> {
  const generator = new IpcMetricsGenerator(fleet, options);
  for (const b of batches) yield generator.interval(b.index, b.window);
}
