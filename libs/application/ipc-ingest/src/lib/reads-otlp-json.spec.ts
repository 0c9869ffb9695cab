import * as fs from 'fs';
import * as path from 'path';
import { ManualClock } from '@topology/model';
import { DEFAULT_IPC_INGESTOR_CONFIG } from './ipc-ingestor-config';
import { IpcIngestor } from './ipc-ingestor';
import { decodeMetricsRequest, otlpJsonToProtobuf } from './otlp-codec';

/** The OpenTelemetry project's own OTLP/JSON metrics example (opentelemetry-proto examples/metrics.json). */
const EXAMPLE = path.resolve(__dirname, '../../../../../../shared/realdata/otlp/metrics.json');
const T = 1544712660300;

interface Json {
  resourceMetrics: { scopeMetrics: { metrics: { name: string; unit: string; histogram?: { dataPoints: { attributes: unknown[] }[] } }[] }[] }[];
}

/** The example's histogram, renamed into an HTTP server duration with a route and a named caller. */
function asServerDurations(): string {
  const json = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8')) as Json;
  const metrics = json.resourceMetrics[0]?.scopeMetrics[0]?.metrics ?? [];
  const histogram = metrics.find((m) => m.name === 'my.histogram');
  if (!histogram?.histogram) throw new Error('the example has no histogram');
  histogram.name = 'http.server.request.duration';
  histogram.unit = 's';
  for (const p of histogram.histogram.dataPoints) {
    p.attributes.push(
      { key: 'http.request.method', value: { stringValue: 'GET' } },
      { key: 'http.route', value: { stringValue: '/items/{id}' } },
      { key: 'http.response.status_code', value: { intValue: '200' } },
      { key: 'service.peer.name', value: { stringValue: 'web' } },
    );
  }
  return JSON.stringify(json);
}

describe('OTLP/JSON', () => {
  it('reads the specification example: no call durations in it, nothing rejected', () => {
    const ipc = new IpcIngestor(DEFAULT_IPC_INGESTOR_CONFIG, new ManualClock(T));
    expect(ipc.ingest(fs.readFileSync(EXAMPLE), 'otlp-json')).toEqual([]);
    expect(ipc.counters.get('data_points_ignored', 'otlp')).toBe(4);
    expect(ipc.flush().buckets).toEqual([]);
  });

  it('reads call durations from JSON exactly as from the same request in protobuf', () => {
    const json = asServerDurations();
    const fromJson = new IpcIngestor(DEFAULT_IPC_INGESTOR_CONFIG, new ManualClock(T));
    expect(fromJson.ingest(Buffer.from(json), 'otlp-json')).toEqual([]);
    const fromProtobuf = new IpcIngestor(DEFAULT_IPC_INGESTOR_CONFIG, new ManualClock(T));
    const bytes = otlpJsonToProtobuf('metrics', json);
    expect(decodeMetricsRequest(bytes).resourceMetrics).toHaveLength(1);
    expect(fromProtobuf.ingest(bytes, 'otlp-protobuf')).toEqual([]);
    const a = fromJson.flush().buckets;
    expect(a).toEqual(fromProtobuf.flush().buckets);
    expect(a.map((b) => [b.src, b.dst, b.props.calls, b.props.endpoints[0]?.endpoint])).toEqual([['app:web', 'app:my.service', 2, 'GET /items/{id}']]);
  });
});
