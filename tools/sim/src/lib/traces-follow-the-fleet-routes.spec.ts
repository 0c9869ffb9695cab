import { ProcessDirectory, SpanDecoder } from '@topology/trace-aggregate';
import { planFleet } from './fleet';
import { generateTraces, otlpTraceRequest, SimSpan, SimTrace, traceTruth, DEFAULT_TRACE_SIMULATION } from './traces';
import { fleetTruth } from './truth';

const fleet = planFleet({ seed: 42 });
const batches = [...generateTraces(fleet)];
const traces = batches.flatMap((b) => b.traces);
const truth = traceTruth(fleet);

/** The edges spans show, read straight from parent links and client span attributes. */
function edgesOf(trace: SimTrace, granularity: 'app' | 'cluster'): string[] {
  const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
  const node = (s: SimSpan) => (granularity === 'app' ? `app:${s.service}` : `cluster:${s.cluster}`);
  const calledOut = new Set<string>();
  const edges: string[] = [];
  for (const s of trace.spans) {
    const parent = byId.get(s.parentSpanId);
    if (parent === undefined || (parent.service === s.service && parent.cluster === s.cluster)) continue;
    calledOut.add(parent.spanId);
    edges.push(`${node(parent)} -> ${node(s)}`);
  }
  for (const s of trace.spans) {
    if (s.kind !== 'client' || calledOut.has(s.spanId)) continue;
    const service = s.attributes['service.peer.name'] ?? s.attributes['peer.service'];
    const address = s.attributes['server.address'] ?? s.attributes['net.peer.name'];
    edges.push(`${node(s)} -> ${service !== undefined ? `app:${service}` : `external:${address}`}`);
  }
  return edges;
}

describe('simulated traces', () => {
  it('sample about 1% of the requests entering the fleet, spread over every interval', () => {
    expect(batches).toHaveLength(fleet.intervals);
    expect(batches.every((b) => b.traces.length > 0)).toBe(true);
    const entries = new Set(traces.map((t) => t.spans[0]?.cluster));
    expect(entries.size).toBeGreaterThan(20);
    const spans = traces.reduce((n, t) => n + t.spans.length, 0);
    expect(traces.length).toBeGreaterThan(2_000);
    expect(spans / traces.length).toBeGreaterThan(3);
    // Each entry sees requestsPerInterval × its stage weight per interval; 1% of it is kept.
    const prodEntries = fleet.clusters.filter((c) => entries.has(c.name) && c.stack === 'prod' && !c.canary).length;
    const upper = entries.size * fleet.intervals * DEFAULT_TRACE_SIMULATION.requestsPerInterval * DEFAULT_TRACE_SIMULATION.sampleRate;
    const lower = prodEntries * fleet.intervals * DEFAULT_TRACE_SIMULATION.requestsPerInterval * DEFAULT_TRACE_SIMULATION.sampleRate * 0.8;
    expect(traces.length).toBeGreaterThan(lower);
    expect(traces.length).toBeLessThan(upper * 1.2);
  });

  it('show only edges of the trace truth, at app and cluster granularity', () => {
    const appTruth = new Set(truth.appEdges.map((e) => `${e.src} -> ${e.dst}`));
    const clusterTruth = new Set(truth.clusterEdges.map((e) => `${e.src} -> ${e.dst}`));
    const shownApp = new Set(traces.flatMap((t) => edgesOf(t, 'app')));
    const shownCluster = new Set(traces.flatMap((t) => edgesOf(t, 'cluster')));
    expect([...shownApp].filter((e) => !appTruth.has(e))).toEqual([]);
    expect([...shownCluster].filter((e) => !clusterTruth.has(e))).toEqual([]);
    // Sampling misses rare paths, but most of what traces can show is shown in ten minutes.
    expect(shownApp.size / appTruth.size).toBeGreaterThan(0.6);
  });

  it('agree with the network truth: a call between two traced clusters that bypasses the gateway is a network dependency too', () => {
    const network = new Set(fleetTruth(fleet).clusterEdges.map((e) => `${e.src} -> ${e.dst}`));
    const gateway = new Set(fleet.gateway.clusters.map((c) => `cluster:${c.name}`));
    const comparable = truth.clusterEdges.filter((e) => (e.dst.startsWith('cluster:') || e.dst.startsWith('external:')) && !gateway.has(e.src) && !gateway.has(e.dst));
    expect(comparable.length).toBeGreaterThan(500);
    expect(comparable.filter((e) => !network.has(`${e.src} -> ${e.dst}`))).toEqual([]);
    // Through the gateway the network layer resolves client → backend; traces show both calls.
    expect(truth.appEdges.some((e) => e.dst === `app:${fleet.gateway.name}`)).toBe(true);
    expect(truth.appEdges.some((e) => e.src === `app:${fleet.gateway.name}`)).toBe(true);
  });

  it('are well formed: ids, parents inside the trace, children inside their parents, starts inside their interval', () => {
    for (const batch of batches.slice(0, 3)) {
      for (const trace of batch.traces) {
        const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
        expect(trace.traceId).toMatch(/^[0-9a-f]{32}$/);
        const [root, ...rest] = trace.spans;
        expect(root?.parentSpanId).toBe('');
        expect((root?.startUs ?? 0) / 1000).toBeGreaterThanOrEqual(batch.window.startMs);
        expect((root?.startUs ?? 0) / 1000).toBeLessThan(batch.window.endMs);
        const misplaced = rest.filter((s) => {
          const parent = byId.get(s.parentSpanId);
          return parent === undefined || s.startUs < parent.startUs || s.startUs + s.durationUs > parent.startUs + parent.durationUs;
        });
        expect(misplaced).toEqual([]);
      }
    }
  });

  it('are the same for the same seed, and encode as OTLP protobuf that decodes to the same spans', () => {
    const again = generateTraces(planFleet({ seed: 42 }));
    for (const batch of batches.slice(0, 3)) expect(again.next().value).toEqual(batch);
    const trace = traces.find((t) => t.spans.length > 10) as SimTrace;
    const { spans, rejections } = new SpanDecoder(new ProcessDirectory()).otlpProtobuf(otlpTraceRequest(trace.spans));
    expect(rejections).toEqual([]);
    const key = (s: { spanId: string; parentSpanId: string; startUs: number; durationUs: number; error: boolean }) => `${s.spanId}/${s.parentSpanId}/${s.startUs}/${s.durationUs}/${s.error}`;
    expect(spans.map(key).sort()).toEqual(trace.spans.map(key).sort());
    expect(new Set(spans.map((s) => s.process.cluster))).toEqual(new Set(trace.spans.map((s) => s.cluster)));
  });
});
