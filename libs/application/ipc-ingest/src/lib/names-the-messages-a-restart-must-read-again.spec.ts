import { ManualClock } from '@topology/model';
import { otlpRequests, threeServices } from '../testing/traffic';
import { DEFAULT_IPC_INGESTOR_CONFIG, type IpcIngestorConfig } from './ipc-ingestor-config';
import { IpcIngestor } from './ipc-ingestor';
import { encodeMetricsRequestObject } from './otlp-codec';

const T0 = Date.UTC(2025, 2, 3, 9, 0, 0);
const MINUTE = 60_000;
/** Buckets of a minute that close once calls a minute past their end are seen. */
const config: IpcIngestorConfig = { ...DEFAULT_IPC_INGESTOR_CONFIG, allowedLatenessMs: MINUTE };

/** Delta exports of the three services for [startMs, startMs + 30 s). */
function deltas(startMs: number): Uint8Array[] {
  return otlpRequests(threeServices(), { names: 'current', startMs, endMs: startMs + 30_000 });
}

/** A cumulative client histogram point of `svc` calling `peer`: `count` calls since the series started an hour before T0. */
function cumulative(timeMs: number, count: number): Uint8Array {
  return encodeMetricsRequestObject({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'rpc.client.call.duration',
                unit: 's',
                histogram: {
                  aggregationTemporality: 2,
                  dataPoints: [
                    {
                      attributes: [
                        { key: 'rpc.system.name', value: { stringValue: 'grpc' } },
                        { key: 'rpc.method', value: { stringValue: 'a.B/C' } },
                        { key: 'service.peer.name', value: { stringValue: 'peer' } },
                      ],
                      startTimeUnixNano: String(BigInt(T0 - 3_600_000) * 1_000_000n),
                      timeUnixNano: String(BigInt(timeMs) * 1_000_000n),
                      count,
                      bucketCounts: [count, 0, 0],
                      explicitBounds: [0.01, 0.1],
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  });
}

const at = (source: string, offset: number, replayed = false) => ({ source, offset, replayed });

describe('the messages a restart must read again', () => {
  it('are those of the buckets still open: none of a bucket once it is closed and written', () => {
    const ipc = new IpcIngestor(config, new ManualClock(T0));
    const [a, b] = deltas(T0);
    ipc.ingest(a as Uint8Array, 'otlp-protobuf', T0, at('p0', 7));
    ipc.ingest(b as Uint8Array, 'otlp-protobuf', T0, at('p0', 8));
    ipc.flush();
    expect([ipc.replayFrom('p0'), ipc.replayFrom('p1')]).toEqual([7, undefined]);

    // Calls two minutes later close the first bucket (its end plus a minute of lateness has passed).
    const [later] = deltas(T0 + 2 * MINUTE);
    ipc.ingest(later as Uint8Array, 'otlp-protobuf', T0, at('p1', 3));
    ipc.flush();
    expect(ipc.flush().buckets).toEqual([]);
    expect([ipc.replayFrom('p0'), ipc.replayFrom('p1')]).toEqual([undefined, 3]);
  });

  it('include the latest point of every cumulative series, and the baseline of each open increase, wherever it was read', () => {
    const ipc = new IpcIngestor(config, new ManualClock(T0));
    // The first point only sets the baseline (the series started before the ingestor).
    ipc.ingest(cumulative(T0 + 10_000, 100), 'otlp-protobuf', T0, at('p0', 4));
    ipc.flush();
    expect(ipc.replayFrom('p0')).toBe(4);
    // The next point arrives through another partition: its increase is taken from the point in p0.
    ipc.ingest(cumulative(T0 + 20_000, 130), 'otlp-protobuf', T0, at('p1', 9));
    expect(ipc.flush().buckets.map((b) => b.props.calls)).toEqual([30]);
    expect([ipc.replayFrom('p0'), ipc.replayFrom('p1')]).toEqual([4, 9]);

    // Once the increase's bucket is closed, only the series' latest point is needed.
    ipc.ingest(cumulative(T0 + 3 * MINUTE, 131), 'otlp-protobuf', T0, at('p1', 10));
    ipc.flush();
    expect([ipc.replayFrom('p0'), ipc.replayFrom('p1')]).toEqual([undefined, 9]);
  });

  it('stop including a series forgotten after seriesTtlMs of event time without points', () => {
    const clock = new ManualClock(T0);
    const ipc = new IpcIngestor({ ...config, seriesTtlMs: 10 * MINUTE }, clock);
    ipc.ingest(cumulative(T0 + 10_000, 100), 'otlp-protobuf', T0, at('p0', 4));
    // Series are swept once a minute of processing time.
    clock.advance(11 * MINUTE);
    const [a] = deltas(T0 + 11 * MINUTE);
    expect(ipc.ingest(a as Uint8Array, 'otlp-protobuf', T0, at('p1', 0))).toEqual([]);
    ipc.flush();
    expect([ipc.replayFrom('p0'), ipc.counters.get('series_expired')]).toEqual([undefined, 1]);
  });

  it('are read again by an ingestor that resumes the checkpoint: what the lost one closed stays closed, re-read points of it skipped, new ones rejected', () => {
    const first = new IpcIngestor(config, new ManualClock(T0));
    const [old] = deltas(T0);
    const [recent] = deltas(T0 + 3 * MINUTE);
    first.ingest(old as Uint8Array, 'otlp-protobuf', T0, at('p0', 0));
    first.ingest(recent as Uint8Array, 'otlp-protobuf', T0, at('p0', 1));
    first.flush();
    const state = first.checkpointState();
    expect(state).toEqual({ latestCallMs: T0 + 3 * MINUTE + 30_000, observingSinceMs: T0 });

    const second = new IpcIngestor(config, new ManualClock(T0 + 10 * MINUTE));
    second.resume(state);
    expect(second.ingest(old as Uint8Array, 'otlp-protobuf', T0, at('p0', 0, true))).toEqual([]);
    expect(second.counters.get('replayed_points_of_closed_buckets')).toBeGreaterThan(0);
    const rejected = second.ingest(old as Uint8Array, 'otlp-protobuf', T0, at('p0', 2, false)).map((r) => r.reason);
    expect([rejected.length > 0, new Set(rejected)]).toEqual([true, new Set(['too-late'])]);
    expect(second.ingest(recent as Uint8Array, 'otlp-protobuf', T0, at('p0', 1, true))).toEqual([]);
    expect(second.flush().buckets.map((b) => b.bucketStartMs)).toEqual([T0 + 3 * MINUTE, T0 + 3 * MINUTE]);
  });

  it('keep a bucket open while its source is behind: buckets close only up to the limit the caller sets, never below what the checkpoint closed', () => {
    const first = new IpcIngestor(config, new ManualClock(T0));
    const [old] = deltas(T0);
    first.ingest(old as Uint8Array, 'otlp-protobuf', T0, at('p0', 0));
    first.flush();
    const resumed = new IpcIngestor(config, new ManualClock(T0));
    resumed.resume(first.checkpointState());
    // p1 has read nothing again yet; p0 reads calls three minutes later, which would close the first bucket.
    resumed.limitClosing(resumed.latestCallOf('p1') ?? Number.NEGATIVE_INFINITY);
    const [later] = deltas(T0 + 3 * MINUTE);
    resumed.ingest(later as Uint8Array, 'otlp-protobuf', T0, at('p0', 5));
    resumed.flush();
    expect(resumed.ingest(old as Uint8Array, 'otlp-protobuf', T0, at('p1', 0, true))).toEqual([]);
    expect(resumed.counters.get('replayed_points_of_closed_buckets')).toBe(0);
    expect(resumed.replayFrom('p1')).toBe(0);

    // Once p1 has caught up, buckets close by the latest call time again.
    resumed.limitClosing(undefined);
    resumed.flush();
    expect([resumed.replayFrom('p1'), resumed.checkpointState().latestCallMs]).toEqual([undefined, T0 + 3 * MINUTE + 30_000]);
  });

  it('count the first point of a series again as the lost ingestor did: against its start of observation, not the restart', () => {
    const early = { ...config, initialCumulative: 'auto' as const, maxFutureMs: 2 * 3_600_000 };
    const observed = new IpcIngestor(early, new ManualClock(T0 - 3_700_000));
    observed.ingest(cumulative(T0 + 10_000, 100), 'otlp-protobuf', T0, at('p0', 0));
    expect(observed.flush().buckets.map((b) => b.props.calls)).toEqual([100]);

    const restarted = new IpcIngestor(early, new ManualClock(T0 + MINUTE));
    restarted.resume(observed.checkpointState());
    restarted.ingest(cumulative(T0 + 10_000, 100), 'otlp-protobuf', T0, at('p0', 0, true));
    expect(restarted.flush().buckets.map((b) => b.props.calls)).toEqual([100]);
  });
});

describe('a server whose metrics name no caller', () => {
  it('is said to report the calls its instrumented callers describe, so it counts as instrumented', () => {
    const ipc = new IpcIngestor(config, new ManualClock(T0));
    for (const r of otlpRequests(threeServices(), { names: 'current', startMs: T0, endMs: T0 + 30_000, servers: 'anonymous-callers' })) ipc.ingest(r, 'otlp-protobuf');
    const edges = ipc.flush().buckets.map((b) => [`${b.src} -> ${b.dst}`, b.props.serverReported === true]);
    expect(edges.sort()).toEqual([
      ['app:checkout -> app:catalog', true],
      ['app:frontend -> app:catalog', true],
      ['app:frontend -> app:checkout', true],
    ]);
  });

  it('is not when it reports nothing at all', () => {
    const ipc = new IpcIngestor(config, new ManualClock(T0));
    for (const r of otlpRequests(threeServices(), { names: 'current', startMs: T0, endMs: T0 + 30_000, servers: 'none' })) ipc.ingest(r, 'otlp-protobuf');
    expect(ipc.flush().buckets.filter((b) => b.props.serverReported === true)).toEqual([]);
  });
});
