import { ManualClock } from '@topology/model';
import { otlpRequests, threeServices } from '../testing/traffic';
import { DEFAULT_IPC_INGESTOR_CONFIG } from './ipc-ingestor-config';
import { IpcIngestor } from './ipc-ingestor';

const T0 = Date.UTC(2025, 2, 3, 9, 0, 0);
const window = { startMs: T0, endMs: T0 + 30_000 };

function run(options: Parameters<typeof otlpRequests>[1]) {
  const ipc = new IpcIngestor(DEFAULT_IPC_INGESTOR_CONFIG, new ManualClock(T0));
  for (const r of otlpRequests(threeServices(), options)) expect(ipc.ingest(r, 'otlp-protobuf')).toEqual([]);
  return { ipc, out: ipc.flush() };
}

describe('client and server views of one edge', () => {
  it('counts the client view when both sides report, and sets the server view aside', () => {
    const { ipc, out } = run({ names: 'current', ...window });
    expect(out.buckets.map((b) => b.props.calls).sort((a, b) => a - b)).toEqual([33, 44, 120]);
    expect(out.buckets.every((b) => b.props.endpoints.every((e) => e.serverReportedOnly === undefined))).toBe(true);
    expect(ipc.counters.get('server_views_set_aside')).toBe(3);
  });

  it('takes the server view for calls from an uninstrumented client, and marks them server reported only', () => {
    const { out } = run({ names: 'current', ...window, uninstrumented: ['frontend'] });
    const fromFrontend = out.buckets.filter((b) => b.src === 'app:frontend');
    expect(fromFrontend.map((b) => [b.dst, b.props.calls])).toEqual(
      expect.arrayContaining([
        ['app:checkout', 44],
        ['app:catalog', 120],
      ]),
    );
    for (const b of fromFrontend) expect(b.props.endpoints.every((e) => e.serverReportedOnly === true)).toBe(true);
    // A server counts its own 5xx only: the 503s are errors on both sides.
    expect(fromFrontend.find((b) => b.dst === 'app:checkout')?.props.errors).toBe(4);
    const instrumented = out.buckets.find((b) => b.src === 'app:checkout');
    expect(instrumented?.props.endpoints[0]?.serverReportedOnly).toBeUndefined();
  });

  it('makes no edge of server metrics that do not name the caller, but judges the server on them', () => {
    const { ipc, out } = run({ names: 'current', ...window, uninstrumented: ['frontend'], servers: 'anonymous-callers' });
    expect(out.buckets.map((b) => `${b.src} -> ${b.dst}`)).toEqual(['app:checkout -> app:catalog']);
    expect(ipc.counters.get('calls_without_named_peer')).toBeGreaterThan(0);
    // checkout served 44 calls, 4 of them 503s (9 %): degraded by the default 5 % threshold.
    expect(out.nodes.find((n) => n.id === 'app:checkout')?.health).toBe('degraded');
    expect(out.nodes.find((n) => n.id === 'app:catalog')?.health).toBe('healthy');
  });

  it('emits only changed buckets, each with its whole content (replace, never add)', () => {
    const ipc = new IpcIngestor(DEFAULT_IPC_INGESTOR_CONFIG, new ManualClock(T0));
    const [frontend, ...rest] = otlpRequests(threeServices(), { names: 'current', ...window });
    ipc.ingest(frontend as Uint8Array, 'otlp-protobuf');
    expect(ipc.flush().buckets.map((b) => b.props.calls).sort((a, b) => a - b)).toEqual([44, 120]);
    for (const r of rest) ipc.ingest(r, 'otlp-protobuf');
    // The servers' reports add checkout's calls, and say of the frontend's edges that their servers reported them too.
    const second = ipc.flush().buckets;
    expect(second.map((b) => [b.props.calls, b.props.serverReported === true]).sort((x, y) => Number(x[0]) - Number(y[0]))).toEqual([
      [33, true],
      [44, true],
      [120, true],
    ]);
    expect(ipc.flush().buckets).toEqual([]);
    // The frontend's next report falls in the same minute: the bucket is re-emitted with both reports.
    const [later] = otlpRequests(threeServices(), { names: 'current', startMs: window.endMs, endMs: window.endMs + 20_000 });
    ipc.ingest(later as Uint8Array, 'otlp-protobuf');
    expect(ipc.flush().buckets.map((b) => b.props.calls).sort((a, b) => a - b)).toEqual([88, 240]);
  });
});
