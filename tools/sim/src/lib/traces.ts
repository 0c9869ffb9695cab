import otlpRoot = require('otlp-proto-definitions/build/src/generated/root');
import { nodeId, type NodeId } from '@topology/model';
import type { ExternalService, Fleet, Route, SimApp, SimCluster } from './fleet';
import { Random } from './random';
import type { SimulationBatch } from './traffic';

/**
 * Sampled distributed traces of the simulated fleet: what the instrumented apps' tracing SDKs would
 * export, derived from the fleet's routes. A request enters at a cluster nothing calls (the edge
 * apps, test stages), and each service calls on along its own routes, so every span pair follows
 * a route. Load balancers are invisible to traces (a client span meets a server span in one of the
 * listener's targets); the API gateway is a service like any other, so a call through it is two
 * calls. Services that are not instrumented (the data tier, a share of the mid tier) report no
 * span: their callers' client spans name them, and their own calls are not traced.
 */

export type SpanKindName = 'server' | 'client' | 'producer' | 'consumer' | 'internal';

export interface SimSpan {
  /** 32 hex digits. */
  traceId: string;
  /** 16 hex digits. */
  spanId: string;
  /** Empty for a root. */
  parentSpanId: string;
  service: string;
  cluster: string;
  region: string;
  kind: SpanKindName;
  name: string;
  /** Epoch microseconds. */
  startUs: number;
  durationUs: number;
  error: boolean;
  /** Span attributes (peer attributes of client spans), current or older names by the app's instrumentation. */
  attributes: Record<string, string>;
}

export interface SimTrace {
  traceId: string;
  spans: SimSpan[];
}

export interface TraceBatch {
  index: number;
  window: { startMs: number; endMs: number };
  /** Traces whose root starts in the window. */
  traces: SimTrace[];
}

export interface TraceSimulationOptions {
  /** Share of requests sampled. Default 0.01. */
  sampleRate: number;
  /** Requests per reporting interval entering at each entry cluster (a prod one; test and canary stages get less). Default 150. */
  requestsPerInterval: number;
  /** Share of mid-tier apps without tracing. Default 0.1. The data tier never traces. */
  uninstrumentedShare: number;
  /** Chance that a service calls a given one of its routes while serving a request. Default 0.4. */
  callChance: number;
  /** Share of calls that fail. Default 0.01. */
  errorRate: number;
  /** Spans of one trace at most; calls beyond it are not made. Default 400. */
  maxSpansPerTrace: number;
}

export const DEFAULT_TRACE_SIMULATION: Readonly<TraceSimulationOptions> = {
  sampleRate: 0.01,
  requestsPerInterval: 150,
  uninstrumentedShare: 0.1,
  callChance: 0.4,
  errorRate: 0.01,
  maxSpansPerTrace: 400,
};

/** The cluster attribute the simulated SDKs set on their resource. */
export const SIM_CLUSTER_ATTRIBUTE = 'k8s.deployment.name';

export interface TraceTruth {
  /** Apps whose services report spans. */
  instrumentedApps: string[];
  /**
   * Every edge the traces can show (a superset of what a sample shows): the client's cluster (or
   * app) → the callee's cluster (or app), or → `app:<name>` for a callee that reports no spans, or
   * → `external:<name>` for an external service.
   */
  appEdges: { src: NodeId; dst: NodeId }[];
  clusterEdges: { src: NodeId; dst: NodeId }[];
}

type Conventions = 'current' | 'older';

/** Which apps trace, and with which generation of the semantic conventions: fixed by the seed. */
export class TraceInstrumentation {
  private readonly conventions = new Map<string, Conventions>();

  constructor(fleet: Fleet, options: Partial<TraceSimulationOptions> = {}) {
    const { uninstrumentedShare } = { ...DEFAULT_TRACE_SIMULATION, ...options };
    const r = new Random(fleet.config.seed).fork('trace-instrumentation');
    for (const app of fleet.apps) {
      const skip = app.layer === 'data' || (app.layer === 'mid' && r.chance(uninstrumentedShare));
      const conventions: Conventions = r.chance(0.4) ? 'older' : 'current';
      if (!skip) this.conventions.set(app.name, conventions);
    }
  }

  traces(app: SimApp): boolean {
    return this.conventions.has(app.name);
  }

  conventionsOf(app: SimApp): Conventions {
    return this.conventions.get(app.name) ?? 'current';
  }

  apps(): string[] {
    return [...this.conventions.keys()].sort();
  }
}

type Callee = { kind: 'cluster'; cluster: SimCluster } | { kind: 'external'; external: ExternalService };

/** Where a route may lead: its server, each target of its listener, or its external service. */
function calleesOf(route: Route): Callee[] {
  switch (route.kind) {
    case 'direct':
      return [{ kind: 'cluster', cluster: route.server }];
    case 'balanced':
      return route.listener.targets.map((cluster) => ({ kind: 'cluster', cluster }));
    case 'external':
      return [{ kind: 'external', external: route.external }];
  }
}

function routesByClient(fleet: Fleet): Map<SimCluster, Route[]> {
  const byClient = new Map<SimCluster, Route[]>();
  for (const route of fleet.routes) {
    const list = byClient.get(route.client);
    if (list === undefined) byClient.set(route.client, [route]);
    else list.push(route);
  }
  return byClient;
}

/** Clusters traced requests enter at: instrumented, with routes, and called by no route. */
function entryClusters(fleet: Fleet, instrumentation: TraceInstrumentation, byClient: Map<SimCluster, Route[]>): SimCluster[] {
  const called = new Set<SimCluster>();
  for (const route of fleet.routes) for (const callee of calleesOf(route)) if (callee.kind === 'cluster') called.add(callee.cluster);
  return fleet.clusters.filter((c) => instrumentation.traces(c.app) && byClient.has(c) && !called.has(c));
}

/** The edges traces can show, from the routes alone. */
export function traceTruth(fleet: Fleet, options: Partial<TraceSimulationOptions> = {}): TraceTruth {
  const instrumentation = new TraceInstrumentation(fleet, options);
  const apps = new Map<string, { src: NodeId; dst: NodeId }>();
  const clusters = new Map<string, { src: NodeId; dst: NodeId }>();
  const add = (into: Map<string, { src: NodeId; dst: NodeId }>, src: NodeId, dst: NodeId) => into.set(`${src} ${dst}`, { src, dst });
  for (const route of fleet.routes) {
    if (!instrumentation.traces(route.client.app)) continue;
    const clientCluster = nodeId('cluster', route.client.name);
    const clientApp = nodeId('app', route.client.app.name);
    for (const callee of calleesOf(route)) {
      if (callee.kind === 'external') {
        const external = nodeId('external', callee.external.name);
        add(clusters, clientCluster, external);
        add(apps, clientApp, external);
        continue;
      }
      const calleeApp = nodeId('app', callee.cluster.app.name);
      add(apps, clientApp, calleeApp);
      add(clusters, clientCluster, instrumentation.traces(callee.cluster.app) ? nodeId('cluster', callee.cluster.name) : calleeApp);
    }
  }
  const sorted = (m: Map<string, { src: NodeId; dst: NodeId }>) => [...m.values()].sort((a, b) => (a.src < b.src ? -1 : a.src > b.src ? 1 : a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0));
  return { instrumentedApps: instrumentation.apps(), appEdges: sorted(apps), clusterEdges: sorted(clusters) };
}

const DATABASE_OF: readonly [string, string][] = [
  ['db', 'postgresql'],
  ['cache', 'redis'],
  ['kv', 'redis'],
  ['store', 'cassandra'],
  ['index', 'elasticsearch'],
  ['archive', 'postgresql'],
];

/** Builds the traces of one reporting interval after another. */
class TraceGenerator {
  private readonly random: Random;
  private readonly byClient: Map<SimCluster, Route[]>;
  private readonly entries: SimCluster[];
  private spans: SimSpan[] = [];
  private traceId = '';

  constructor(
    private readonly fleet: Fleet,
    private readonly options: TraceSimulationOptions,
    private readonly instrumentation: TraceInstrumentation,
  ) {
    this.random = new Random(fleet.config.seed).fork('traces');
    this.byClient = routesByClient(fleet);
    this.entries = entryClusters(fleet, instrumentation, this.byClient);
  }

  interval(index: number): TraceBatch {
    const startMs = this.fleet.startMs + index * this.fleet.config.intervalMs;
    const endMs = startMs + this.fleet.config.intervalMs;
    const traces: SimTrace[] = [];
    for (const entry of this.entries) {
      const weight = entry.stack === 'test' ? 0.15 : entry.canary ? 0.2 : 1;
      const sampled = this.random.poisson(this.options.requestsPerInterval * weight * this.options.sampleRate);
      for (let i = 0; i < sampled; i++) {
        // Whole milliseconds of start, so a trace never starts outside its interval.
        const atUs = (startMs + this.random.int(0, this.fleet.config.intervalMs - 2_000)) * 1000;
        traces.push(this.trace(entry, atUs));
      }
    }
    return { index, window: { startMs, endMs }, traces };
  }

  private trace(entry: SimCluster, atUs: number): SimTrace {
    this.spans = [];
    this.traceId = this.random.hex(32);
    this.serve(entry, '', atUs, `GET /${entry.app.name}`);
    return { traceId: this.traceId, spans: this.spans };
  }

  /** A server span in `cluster`, the calls it makes along its routes, in order; returns its duration. */
  private serve(cluster: SimCluster, parentSpanId: string, atUs: number, name: string): { durationUs: number; error: boolean } {
    const span = this.span(cluster, 'server', parentSpanId, name, atUs);
    let cursorUs = atUs + 100 + this.random.int(0, 400);
    const routes = this.byClient.get(cluster) ?? [];
    // A gateway forwards each request to one backend; other services call some of theirs.
    const calls = cluster.app === this.fleet.gateway ? (routes.length > 0 ? [this.random.pick(routes)] : []) : routes.filter(() => this.random.chance(this.options.callChance));
    let failed = false;
    for (const route of calls) {
      if (this.spans.length >= this.options.maxSpansPerTrace) break;
      const outcome = this.call(cluster, span, route, cursorUs);
      cursorUs += outcome.durationUs + 50;
      failed = failed || outcome.error;
    }
    span.durationUs = cursorUs - atUs + this.random.int(200, 2_000);
    // A service fails its request now and then, or when a call it made failed.
    span.error = failed || this.random.chance(this.options.errorRate);
    return { durationUs: span.durationUs, error: span.error };
  }

  private call(cluster: SimCluster, parent: SimSpan, route: Route, atUs: number): { durationUs: number; error: boolean } {
    const callees = calleesOf(route);
    const callee = callees.length === 1 ? (callees[0] as Callee) : this.pickTarget(route, callees);
    const sameRegion = callee.kind === 'external' || callee.cluster.region === cluster.region;
    const rttUs = callee.kind === 'external' ? callee.external.rttUs : sameRegion ? 450 : 76_000;
    const conventions = this.instrumentation.conventionsOf(cluster.app);
    const client = this.span(cluster, 'client', parent.spanId, '', atUs);
    let calleeUs: number;
    let error: boolean;
    if (callee.kind === 'external') {
      client.name = `POST ${callee.external.name}`;
      client.attributes = conventions === 'current' ? { 'server.address': callee.external.name, 'server.port': '443' } : { 'net.peer.name': callee.external.name, 'net.peer.port': '443' };
      calleeUs = this.random.int(5_000, 60_000);
      error = this.random.chance(this.options.errorRate);
    } else {
      const app = callee.cluster.app;
      const operation = `${app.layer === 'data' ? 'query' : 'POST'} /${app.name}/${this.random.pick(['read', 'write', 'list'])}`;
      client.name = operation;
      client.attributes = peerAttributes(app, conventions);
      if (this.instrumentation.traces(app)) {
        const served = this.serve(callee.cluster, client.spanId, atUs + Math.round(rttUs / 2), operation);
        calleeUs = served.durationUs;
        error = served.error;
      } else {
        calleeUs = this.random.int(300, app.layer === 'data' ? 8_000 : 30_000);
        error = this.random.chance(this.options.errorRate);
      }
    }
    client.durationUs = calleeUs + rttUs;
    client.error = error;
    return { durationUs: client.durationUs, error };
  }

  /** A balancer picks a target by its weights. */
  private pickTarget(route: Route, callees: Callee[]): Callee {
    if (route.kind !== 'balanced') return callees[0] as Callee;
    return callees[this.random.weightedIndex(route.listener.weights)] as Callee;
  }

  private span(cluster: SimCluster, kind: SpanKindName, parentSpanId: string, name: string, startUs: number): SimSpan {
    const span: SimSpan = {
      traceId: this.traceId,
      spanId: this.random.hex(16),
      parentSpanId,
      service: cluster.app.name,
      cluster: cluster.name,
      region: cluster.region,
      kind,
      name,
      startUs,
      durationUs: 0,
      error: false,
      attributes: {},
    };
    this.spans.push(span);
    return span;
  }
}

/** How a client span names its callee: always as a service; a database also by its system. */
function peerAttributes(app: SimApp, conventions: Conventions): Record<string, string> {
  const host = `${app.name}.internal`;
  const attributes: Record<string, string> =
    conventions === 'current' ? { 'service.peer.name': app.name, 'server.address': host, 'server.port': String(app.port) } : { 'peer.service': app.name, 'net.peer.name': host, 'net.peer.port': String(app.port) };
  if (app.layer === 'data') {
    const system = DATABASE_OF.find(([suffix]) => app.name.endsWith(suffix))?.[1] ?? 'postgresql';
    attributes[conventions === 'current' ? 'db.system.name' : 'db.system'] = system;
  }
  return attributes;
}

/**
 * Yields the sampled traces of each interval of `batches` (the flow simulation's, so both cover the
 * same time); without batches, every interval of the fleet's run.
 */
export function* generateTraces(fleet: Fleet, batches?: Iterable<Pick<SimulationBatch, 'index'>>, options: Partial<TraceSimulationOptions> = {}): Generator<TraceBatch> {
  const resolved = { ...DEFAULT_TRACE_SIMULATION, ...options };
  const generator = new TraceGenerator(fleet, resolved, new TraceInstrumentation(fleet, resolved));
  if (batches === undefined) {
    for (let index = 0; index < fleet.intervals; index++) yield generator.interval(index);
    return;
  }
  for (const batch of batches) yield generator.interval(batch.index);
}

// OTLP protobuf, as the simulated SDKs (or a Collector's Kafka exporter) would send it.

interface OtlpEncoder {
  fromObject(value: object): unknown;
  encode(message: unknown): { finish(): Uint8Array };
}
const ExportTraceServiceRequest = (otlpRoot as unknown as { opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: OtlpEncoder } } } } } })
  .opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

const OTLP_KIND: Readonly<Record<SpanKindName, number>> = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };

function keyValues(attributes: Record<string, string>): { key: string; value: { stringValue: string } }[] {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: { stringValue: value } }));
}

/** One ExportTraceServiceRequest with a resource per reporting cluster. */
export function otlpTraceRequest(spans: readonly SimSpan[]): Uint8Array {
  const byResource = new Map<string, SimSpan[]>();
  for (const span of spans) {
    const list = byResource.get(span.cluster);
    if (list === undefined) byResource.set(span.cluster, [span]);
    else list.push(span);
  }
  const resourceSpans = [...byResource.values()].map((list) => {
    const first = list[0] as SimSpan;
    return {
      resource: { attributes: keyValues({ 'service.name': first.service, [SIM_CLUSTER_ATTRIBUTE]: first.cluster, 'cloud.region': first.region }) },
      scopeSpans: [
        {
          scope: { name: 'sim-tracer', version: '1.0.0' },
          spans: list.map((s) => ({
            traceId: Buffer.from(s.traceId, 'hex'),
            spanId: Buffer.from(s.spanId, 'hex'),
            ...(s.parentSpanId === '' ? {} : { parentSpanId: Buffer.from(s.parentSpanId, 'hex') }),
            name: s.name,
            kind: OTLP_KIND[s.kind],
            startTimeUnixNano: `${s.startUs}000`,
            endTimeUnixNano: `${s.startUs + s.durationUs}000`,
            attributes: keyValues(s.attributes),
            status: { code: s.error ? 2 : 0 },
          })),
        },
      ],
    };
  });
  return ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject({ resourceSpans })).finish();
}

const ZIPKIN_KIND: Readonly<Record<SpanKindName, string | undefined>> = { internal: undefined, server: 'SERVER', client: 'CLIENT', producer: 'PRODUCER', consumer: 'CONSUMER' };

/** The same spans as Zipkin v2 JSON (what a Zipkin-instrumented service would POST); the cluster is not carried. */
export function zipkinSpansJson(spans: readonly SimSpan[]): string {
  return JSON.stringify(
    spans.map((s) => ({
      traceId: s.traceId,
      id: s.spanId,
      ...(s.parentSpanId === '' ? {} : { parentId: s.parentSpanId }),
      ...(ZIPKIN_KIND[s.kind] === undefined ? {} : { kind: ZIPKIN_KIND[s.kind] }),
      name: s.name,
      timestamp: s.startUs,
      duration: s.durationUs,
      localEndpoint: { serviceName: s.service },
      ...(s.kind === 'client' && s.attributes['service.peer.name'] !== undefined ? { remoteEndpoint: { serviceName: s.attributes['service.peer.name'] } } : {}),
      tags: { ...s.attributes, ...(s.error ? { error: 'true' } : {}) },
    })),
  );
}
