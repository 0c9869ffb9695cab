import { readFileSync } from 'fs';
import * as path from 'path';
import { status } from '@grpc/grpc-js';
import { ContentTypes, Headers, Topics } from '@topology/contracts';
import { createTopologyClient, type EdgeMessage, type GranularityName, type TraceOverlayResponseMessage } from '@topology/runtime-gateway';
import { generateTraces, otlpTraceRequest, planFleet, traceTruth, type SimSpan, type SimTrace } from '@topology/sim';
import { testConfig } from '../testing/run-all-in-one';
import { AllInOne } from './all-in-one';

jest.setTimeout(300_000);

const REALDATA = path.resolve(__dirname, '../../../../../shared/realdata');

/** Request-layer edges leaving the given roots, one hop, read over gRPC page by page. */
async function requestEdges(address: string, roots: string[], granularity: GranularityName, range: { fromMs: number; toMs: number }): Promise<EdgeMessage[]> {
  const client = createTopologyClient(address);
  const edges = new Map<string, EdgeMessage>();
  try {
    for (let i = 0; i < roots.length; i += 100) {
      let pageToken = '';
      do {
        const page = await client
          .traverse({ roots: roots.slice(i, i + 100), direction: 'DIRECTION_DOWN', depth: 1, granularity, layers: ['LAYER_REQUEST'], range, pageSize: 1000, pageToken })
          // Roots the request layer does not know at all (untraced apps, unsampled clusters) are NOT_FOUND.
          .catch((e: { code?: number }) => (e.code === status.NOT_FOUND ? undefined : Promise.reject(e)));
        if (page === undefined) break;
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

/**
 * The hops a trace's own spans show, derived here from parent links (the simulated SDKs give the
 * two halves of a call their own span ids): a span whose parent runs elsewhere is called by it; a
 * client span nobody answered calls the peer its attributes name.
 */
function hopsOf(trace: SimTrace, granularity: 'app' | 'cluster'): string[] {
  const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
  const node = (s: SimSpan) => (granularity === 'app' ? `app:${s.service}` : `cluster:${s.cluster}`);
  const answered = new Set<string>();
  const hops: { at: number; id: string; text: string }[] = [];
  for (const s of trace.spans) {
    const parent = byId.get(s.parentSpanId);
    if (parent === undefined || parent.cluster === s.cluster) continue;
    answered.add(parent.spanId);
    hops.push({ at: parent.startUs, id: s.spanId, text: `${node(parent)} -> ${node(s)} ${s.name} ${parent.startUs * 1000} ${parent.durationUs / 1000} ${s.error || parent.error} ${s.spanId}<${parent.spanId}` });
  }
  for (const s of trace.spans) {
    if (s.kind !== 'client' || answered.has(s.spanId)) continue;
    const service = s.attributes['service.peer.name'] ?? s.attributes['peer.service'];
    const peer = service !== undefined ? `app:${service}` : `external:${s.attributes['server.address'] ?? s.attributes['net.peer.name']}`;
    hops.push({ at: s.startUs, id: s.spanId, text: `${node(s)} -> ${peer} ${s.name} ${s.startUs * 1000} ${s.durationUs / 1000} ${s.error} ${s.spanId}<${s.parentSpanId}` });
  }
  return hops.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1)).map((h) => h.text);
}

function overlayHops(overlay: TraceOverlayResponseMessage): string[] {
  return overlay.hops.map((h) => `${h.src} -> ${h.dst} ${h.operation} ${h.startUnixNano} ${h.durationMs} ${h.error} ${h.spanId}<${h.parentSpanId}`);
}

describe('the all-in-one maps the request layer of a simulated fleet from its traces', () => {
  const fleet = planFleet({ seed: 42 });
  const truth = traceTruth(fleet);
  const range = { fromMs: fleet.startMs, toMs: fleet.endMs + 60_000 };
  const config = testConfig();
  const traces: SimTrace[] = [];
  let app: AllInOne;
  let appEdges: EdgeMessage[];
  let clusterEdges: EdgeMessage[];

  beforeAll(async () => {
    app = await AllInOne.start(config, { log: () => undefined });
    // As the OpenTelemetry Collector's Kafka exporter writes them: one ExportTraceServiceRequest per trace, keyed by trace id.
    for (const batch of generateTraces(fleet)) {
      await app.bus.publish(
        Topics.otlpSpans,
        batch.traces.map((t) => ({ key: t.traceId, value: otlpTraceRequest(t.spans), headers: { [Headers.contentType]: ContentTypes.otlpProtobuf } })),
      );
      traces.push(...batch.traces);
    }
    await app.drain();
    appEdges = await requestEdges(app.grpcAddress, fleet.apps.map((a) => `app:${a.name}`), 'GRANULARITY_APP', range);
    clusterEdges = await requestEdges(app.grpcAddress, fleet.clusters.map((c) => `cluster:${c.name}`), 'GRANULARITY_CLUSTER', range);
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('shows only true edges at app level, with the calls, latency and operations traces gave them', () => {
    const want = new Set(truth.appEdges.map((e) => `${e.src} -> ${e.dst}`));
    const got = appEdges.map((e) => `${e.src} -> ${e.dst}`);
    expect(got.filter((e) => !want.has(e))).toEqual([]);
    // Sampling misses rare paths; most are there after ten minutes at 1%.
    expect(got.length / want.size).toBeGreaterThan(0.6);
    expect(appEdges.every((e) => e.layers.includes('LAYER_REQUEST') && (e.request?.calls ?? 0) > 0 && (e.request?.operations.length ?? 0) > 0)).toBe(true);
    expect(appEdges.some((e) => e.dst === 'app:apigateway') && appEdges.some((e) => e.src === 'app:apigateway')).toBe(true);
  });

  it('shows only true edges at cluster level, uninstrumented peers as their app and externals by name', () => {
    const want = new Set(truth.clusterEdges.map((e) => `${e.src} -> ${e.dst}`));
    const got = clusterEdges.map((e) => `${e.src} -> ${e.dst}`);
    expect(got.filter((e) => !want.has(e))).toEqual([]);
    expect(got.length / want.size).toBeGreaterThan(0.4);
    expect(clusterEdges.some((e) => e.dst.startsWith('external:'))).toBe(true);
    expect(clusterEdges.some((e) => e.src.startsWith('cluster:') && e.dst.startsWith('app:'))).toBe(true);
  });

  it('counts every sampled call once', () => {
    const calls = appEdges.reduce((n, e) => n + (e.request?.calls ?? 0), 0);
    const expected = traces.reduce((n, t) => n + hopsOf(t, 'app').length, 0);
    expect(calls).toBe(expected);
  });

  it('lays a simulated trace over the topology exactly as its spans show it, at both granularities', async () => {
    const client = createTopologyClient(app.grpcAddress);
    try {
      const picked = traces.filter((t) => t.spans.length >= 8).slice(0, 5);
      expect(picked.length).toBe(5);
      for (const trace of picked) {
        for (const [granularity, name] of [
          ['app', 'GRANULARITY_APP'],
          ['cluster', 'GRANULARITY_CLUSTER'],
        ] as const) {
          const overlay = await client.traceOverlay({ traceId: trace.traceId, granularity: name });
          expect(overlay.found).toBe(true);
          expect(overlayHops(overlay)).toEqual(hopsOf(trace, granularity));
          const services = new Set(trace.spans.map((s) => (granularity === 'app' ? `app:${s.service}` : `cluster:${s.cluster}`)));
          expect([...services].filter((id) => !overlay.nodes.some((n) => n.id === id))).toEqual([]);
          expect(overlay.edges.every((e) => e.layers.includes('LAYER_REQUEST'))).toBe(true);
        }
      }
      expect((await client.traceOverlay({ traceId: 'f'.repeat(32) })).found).toBe(false);
    } finally {
      client.close();
    }
  });

  it('takes Zipkin v2 spans on its Zipkin endpoint', async () => {
    const body = readFileSync(path.join(REALDATA, 'zipkin/smartthings-mobile-web-install.json'));
    const response = await fetch(`http://${app.request.zipkin.address}/api/v2/spans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(response.status).toBe(202);
    await app.drain();
    const edges = await requestEdges(app.grpcAddress, ['app:stLogin'], 'GRANULARITY_APP', { fromMs: Date.UTC(2018, 10, 30), toMs: Date.UTC(2018, 11, 1) });
    expect(edges.map((e) => e.dst).sort()).toEqual(['app:auth', 'app:platformapi', 'app:strongman']);
  });

  it('keeps the request layer across a stop and start', async () => {
    await app.stop();
    app = await AllInOne.start(config, { log: () => undefined });
    const again = await requestEdges(app.grpcAddress, fleet.apps.map((a) => `app:${a.name}`), 'GRANULARITY_APP', range);
    expect(again.map((e) => `${e.src} -> ${e.dst} ${e.request?.calls}`).sort()).toEqual(appEdges.map((e) => `${e.src} -> ${e.dst} ${e.request?.calls}`).sort());
  });
});
