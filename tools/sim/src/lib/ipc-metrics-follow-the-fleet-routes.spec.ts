import { DEFAULT_IPC_INGESTOR_CONFIG, IpcIngestor, decodeMetricsRequest } from '@topology/ipc-ingest';
import { ManualClock, type ApplicationEdgeProps, type EdgeBucket } from '@topology/model';
import { fleetMetadata } from './metadata';
import { planFleet } from './fleet';
import { IpcMetricsGenerator, generateIpcMetrics } from './ipc-metrics';

const fleet = planFleet({ seed: 7, apps: 60, minutes: 2 });
const windows = Array.from({ length: fleet.intervals }, (_, index) => ({ index, window: { startMs: fleet.startMs + index * fleet.config.intervalMs, endMs: fleet.startMs + (index + 1) * fleet.config.intervalMs } }));

/** Everything the application layer holds after ingesting the run, folded over the whole run per edge. */
function ingested(options: ConstructorParameters<typeof IpcMetricsGenerator>[1] = {}): Map<string, EdgeBucket<ApplicationEdgeProps>[]> {
  const ipc = new IpcIngestor(DEFAULT_IPC_INGESTOR_CONFIG, new ManualClock(fleet.endMs));
  // External service names come from the metadata, as in the pipeline.
  for (const e of fleetMetadata(fleet)) ipc.applyMetadata(e);
  const edges = new Map<string, EdgeBucket<ApplicationEdgeProps>[]>();
  for (const batch of generateIpcMetrics(fleet, windows, options)) {
    for (const r of batch.requests) expect(ipc.ingest(r.request, 'otlp-protobuf')).toEqual([]);
    for (const b of ipc.flush().buckets) edges.set(`${b.src} -> ${b.dst}`, [...(edges.get(`${b.src} -> ${b.dst}`) ?? []).filter((x) => x.bucketStartMs !== b.bucketStartMs), b]);
  }
  return edges;
}

describe('the simulated fleet\'s IPC metrics', () => {
  const generator = new IpcMetricsGenerator(fleet);
  const truth = generator.truth();

  it('come from most, not all, apps: the uninstrumented set is fixed by the seed', () => {
    expect(truth.uninstrumentedApps.length).toBeGreaterThan(0);
    expect(truth.instrumentedApps.length).toBeGreaterThan(truth.uninstrumentedApps.length * 3);
    expect(new IpcMetricsGenerator(planFleet({ seed: 7, apps: 60, minutes: 2 })).truth()).toEqual(truth);
    expect(new IpcMetricsGenerator(planFleet({ seed: 8, apps: 60, minutes: 2 })).truth().uninstrumentedApps).not.toEqual(truth.uninstrumentedApps);
  });

  it('are reported only by instrumented apps, in both conventions', () => {
    const batch = generator.interval(0, windows[0]?.window ?? { startMs: 0, endMs: 0 });
    const reporters = new Set(batch.requests.map((r) => r.app));
    for (const app of truth.uninstrumentedApps) expect(reporters.has(app)).toBe(false);
    const names = new Set(batch.requests.flatMap((r) => decodeMetricsRequest(r.request).resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics.map((m) => m.name)))));
    expect([...names].some((n) => n.endsWith('.call.duration') || n.endsWith('.request.duration'))).toBe(true);
    expect([...names].some((n) => n === 'rpc.client.duration' || n === 'http.client.duration')).toBe(true);
  });

  it('follow the routes: the edges a correct ingestor derives are exactly the truth, with their endpoints', () => {
    const edges = ingested();
    expect([...edges.keys()].sort()).toEqual(truth.appEdges.map((e) => `${e.src} -> ${e.dst}`).sort());
    for (const t of truth.appEdges) {
      const buckets = edges.get(`${t.src} -> ${t.dst}`) ?? [];
      const endpoints = new Set(buckets.flatMap((b) => b.props.endpoints.map((e) => e.endpoint)));
      expect({ edge: `${t.src} -> ${t.dst}`, endpoints: [...endpoints].sort() }).toEqual({ edge: `${t.src} -> ${t.dst}`, endpoints: t.endpoints });
      const marked = buckets.every((b) => b.props.endpoints.every((e) => e.serverReportedOnly === true));
      expect({ edge: `${t.src} -> ${t.dst}`, serverReportedOnly: marked }).toEqual({ edge: `${t.src} -> ${t.dst}`, serverReportedOnly: t.serverReportedOnly });
    }
    expect(truth.appEdges.some((e) => e.serverReportedOnly)).toBe(true);
    expect(truth.appEdges.some((e) => e.dst.startsWith('external:'))).toBe(true);
  });

  it('can fail one app on purpose: its callers see the injected error rate', () => {
    const target = truth.appEdges.find((e) => !e.serverReportedOnly && e.dst.startsWith('app:'))?.dst.slice(4) ?? '';
    const edges = ingested({ failures: [{ app: target, errorRate: 0.5 }] });
    let calls = 0;
    let errors = 0;
    for (const [key, buckets] of edges) {
      if (!key.endsWith(`-> app:${target}`)) continue;
      for (const b of buckets) {
        calls += b.props.calls;
        errors += b.props.errors;
      }
    }
    expect(calls).toBeGreaterThan(0);
    expect(errors / calls).toBeGreaterThan(0.4);
    expect(errors / calls).toBeLessThan(0.6);
  });
});
