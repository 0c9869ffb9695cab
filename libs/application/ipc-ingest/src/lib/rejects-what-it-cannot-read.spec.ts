import { ManualClock } from '@topology/model';
import { otlpRequests, spectatorLines, threeServices } from '../testing/traffic';
import { DEFAULT_IPC_INGESTOR_CONFIG, validateIpcIngestorConfig } from './ipc-ingestor-config';
import { IpcIngestor } from './ipc-ingestor';
import { encodeMetricsRequestObject } from './otlp-codec';

const T0 = Date.UTC(2025, 2, 3, 9, 0, 0);

function ingestor(now = T0): IpcIngestor {
  return new IpcIngestor(DEFAULT_IPC_INGESTOR_CONFIG, new ManualClock(now));
}

describe('input the ingestor cannot read', () => {
  it('rejects bytes that are not an OTLP request, and JSON that is not OTLP/JSON', () => {
    const ipc = ingestor();
    expect(ipc.ingest(Buffer.from([0x0a, 0xff, 0xff, 0xff]), 'otlp-protobuf')).toEqual([expect.objectContaining({ reason: 'malformed' })]);
    expect(ipc.ingest(Buffer.from('{"resourceMetrics": '), 'otlp-json')).toEqual([expect.objectContaining({ reason: 'malformed' })]);
    expect(ipc.ingest(Buffer.from('{"resourceMetrics": 7}'), 'otlp-json')).toEqual([expect.objectContaining({ reason: 'malformed' })]);
  });

  it('rejects points of a resource that names no service, once per message', () => {
    const ipc = ingestor();
    const bytes = encodeMetricsRequestObject({
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'unknown_service:node' } }] },
          scopeMetrics: [{ metrics: [{ name: 'rpc.client.call.duration', unit: 's', histogram: { aggregationTemporality: 1, dataPoints: [{ count: 1 }, { count: 2 }] } }] }],
        },
      ],
    });
    const rejections = ipc.ingest(bytes, 'otlp-protobuf');
    expect(rejections).toHaveLength(1);
    expect(rejections[0]).toEqual(expect.objectContaining({ reason: 'missing-field', raw: bytes }));
    expect(rejections[0]?.message).toContain('2 data points');
    expect(ipc.counters.get('data_points_rejected', 'missing-field')).toBe(2);
  });

  it('rejects calls from the far future and calls for buckets closed long ago', () => {
    const future = ingestor(T0 - 3_600_000);
    const [first] = otlpRequests(threeServices(), { names: 'current', startMs: T0, endMs: T0 + 10_000 });
    const refused = future.ingest(first as Uint8Array, 'otlp-protobuf');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((r) => r.reason === 'invalid-time')).toBe(true);

    const ipc = ingestor(T0 + 3_600_000);
    ipc.ingest(Buffer.from(spectatorLines(threeServices(), T0 + 3_600_000)), 'spectator');
    const late = ipc.ingest(Buffer.from(spectatorLines(threeServices(), T0)), 'spectator');
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((r) => r.reason === 'too-late')).toBe(true);
  });

  it('rejects Spectator lines that are not measurements, and ignores other metrics', () => {
    const ipc = ingestor();
    const lines = ['not json', '{"name":"ipc.client.call","tags":{"statistic":"count"},"timestamp":1741000000000,"value":1}', '{"name":"jvm.gc.pause","tags":{"nf.app":"a"},"timestamp":1,"value":1}'];
    const rejections = ipc.ingest(Buffer.from(lines.join('\n')), 'spectator');
    expect(rejections.map((r) => r.reason).sort()).toEqual(['malformed', 'missing-field']);
    expect(ipc.counters.get('data_points_ignored', 'spectator')).toBe(1);
  });

  it('refuses a configuration that cannot work', () => {
    expect(validateIpcIngestorConfig({ ...DEFAULT_IPC_INGESTOR_CONFIG, bucketMs: 0 })).not.toEqual([]);
    expect(validateIpcIngestorConfig({ ...DEFAULT_IPC_INGESTOR_CONFIG, health: { ...DEFAULT_IPC_INGESTOR_CONFIG.health, degradedErrorRate: 0.5, unhealthyErrorRate: 0.1 } })).toHaveLength(1);
    expect(validateIpcIngestorConfig(DEFAULT_IPC_INGESTOR_CONFIG)).toEqual([]);
  });
});
