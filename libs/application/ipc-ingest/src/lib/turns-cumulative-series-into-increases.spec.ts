import { ManualClock } from '@topology/model';
import { encodeMetricsRequestObject } from './otlp-codec';
import { DEFAULT_IPC_INGESTOR_CONFIG } from './ipc-ingestor-config';
import { IpcIngestor } from './ipc-ingestor';

const T0 = Date.UTC(2025, 2, 3, 9, 0, 0);

/** A cumulative client histogram point of `svc` calling `peer`, started at `startMs`. */
function cumulative(startMs: number, timeMs: number, count: number, buckets: number[]): Uint8Array {
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
                      startTimeUnixNano: String(BigInt(startMs) * 1_000_000n),
                      timeUnixNano: String(BigInt(timeMs) * 1_000_000n),
                      count,
                      bucketCounts: buckets,
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

function calls(ipc: IpcIngestor): number[] {
  return ipc
    .flush()
    .buckets.sort((a, b) => a.bucketStartMs - b.bucketStartMs)
    .map((b) => b.props.calls);
}

describe('cumulative series', () => {
  it('counts each point by its increase over the previous one, in the bucket it ends in', () => {
    const ipc = new IpcIngestor(DEFAULT_IPC_INGESTOR_CONFIG, new ManualClock(T0 - 1_000));
    ipc.ingest(cumulative(T0, T0 + 30_000, 10, [5, 5, 0]), 'otlp-protobuf');
    ipc.ingest(cumulative(T0, T0 + 60_000, 25, [10, 10, 5]), 'otlp-protobuf');
    ipc.ingest(cumulative(T0, T0 + 90_000, 26, [10, 11, 5]), 'otlp-protobuf');
    // The point at T0 + 60 s ends the first minute: 10 + 15 calls there, 1 in the second.
    expect(calls(ipc)).toEqual([25, 1]);
  });

  it('ignores a redelivered point and counts a restarted series from zero', () => {
    const ipc = new IpcIngestor(DEFAULT_IPC_INGESTOR_CONFIG, new ManualClock(T0 - 1_000));
    const second = cumulative(T0, T0 + 20_000, 12, [6, 6, 0]);
    ipc.ingest(cumulative(T0, T0 + 10_000, 10, [5, 5, 0]), 'otlp-protobuf');
    ipc.ingest(second, 'otlp-protobuf');
    ipc.ingest(second, 'otlp-protobuf');
    ipc.ingest(cumulative(T0 + 25_000, T0 + 30_000, 3, [3, 0, 0]), 'otlp-protobuf');
    expect(calls(ipc)).toEqual([15]);
    expect(ipc.counters.get('points_replayed')).toBe(1);
    expect(ipc.counters.get('series_resets')).toBe(1);
  });

  it('by default only primes a series that started before the ingestor did: its total is history', () => {
    const ipc = new IpcIngestor(DEFAULT_IPC_INGESTOR_CONFIG, new ManualClock(T0 + 3_600_000));
    ipc.ingest(cumulative(T0, T0 + 3_600_000, 5000, [2000, 3000, 0]), 'otlp-protobuf');
    ipc.ingest(cumulative(T0, T0 + 3_630_000, 5007, [2001, 3006, 0]), 'otlp-protobuf');
    expect(calls(ipc)).toEqual([7]);
    expect(ipc.counters.get('series_primed')).toBe(1);
  });

  it('counts the first point when configured to', () => {
    const ipc = new IpcIngestor({ ...DEFAULT_IPC_INGESTOR_CONFIG, initialCumulative: 'count' }, new ManualClock(T0 + 3_600_000));
    ipc.ingest(cumulative(T0, T0 + 3_600_000, 5000, [2000, 3000, 0]), 'otlp-protobuf');
    expect(calls(ipc)).toEqual([5000]);
  });
});
