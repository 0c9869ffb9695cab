import { encodeMetricsRequestObject } from '../lib/otlp-codec';
import { SPECTATOR_PERCENTILE_BOUNDS_NS } from '../lib/spectator-reader';

/**
 * A description of calls between services, rendered in each input format the way real reporters
 * write it, so tests can check that every format tells the ingestor the same story.
 */
export interface CallGroup {
  client: string;
  server: string;
  protocol: 'grpc' | 'http';
  /** gRPC: `package.Service/Method`; HTTP: `GET /orders/{id}` (method, space, route). */
  endpoint: string;
  /** Durations of the successful calls, milliseconds. */
  okMs: number[];
  /** Durations of the failed calls, milliseconds. */
  failedMs: number[];
  /** gRPC code name or HTTP status of the failed calls. */
  failure: string;
}

/** The semantic conventions' advised bounds (seconds), and the JS SDK's default ones (milliseconds). */
export const CURRENT_BOUNDS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
export const LEGACY_BOUNDS_MS = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];
export const ISTIO_BOUNDS_MS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

export function bucketCounts(durations: number[], bounds: number[]): number[] {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  for (const d of durations) {
    let i = bounds.findIndex((b) => d <= b);
    if (i < 0) i = bounds.length;
    counts[i] = (counts[i] as number) + 1;
  }
  return counts;
}

const GRPC_CODES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];

type Attr = { key: string; value: { stringValue: string } | { intValue: number } };
const str = (key: string, value: string): Attr => ({ key, value: { stringValue: value } });
const int = (key: string, value: number): Attr => ({ key, value: { intValue: value } });

function splitHttp(endpoint: string): [string, string] {
  const space = endpoint.indexOf(' ');
  return [endpoint.slice(0, space), endpoint.slice(space + 1)];
}

function splitRpc(endpoint: string): [string, string] {
  const slash = endpoint.lastIndexOf('/');
  return [endpoint.slice(0, slash), endpoint.slice(slash + 1)];
}

export interface OtlpOptions {
  names: 'current' | 'legacy';
  /** Interval of the delta points, epoch milliseconds. */
  startMs: number;
  endMs: number;
  /** How clients name servers: by service name, or by host (`<server>.<suffix>`). */
  peer?: 'service' | 'host';
  /** Whether servers report, and whether they name their callers. */
  servers?: 'named-callers' | 'anonymous-callers' | 'none';
  /** Clients that do not report at all. */
  uninstrumented?: string[];
}

function attributes(g: CallGroup, side: 'client' | 'server', failed: boolean, o: OtlpOptions): Attr[] {
  const current = o.names === 'current';
  const out: Attr[] = [];
  if (g.protocol === 'grpc') {
    out.push(str(current ? 'rpc.system.name' : 'rpc.system', 'grpc'));
    if (current) {
      out.push(str('rpc.method', g.endpoint), str('rpc.status_code', failed ? g.failure : 'OK'));
      if (failed) out.push(str('error.type', g.failure));
    } else {
      const [service, method] = splitRpc(g.endpoint);
      out.push(str('rpc.service', service), str('rpc.method', method), int('rpc.grpc.status_code', GRPC_CODES.indexOf(failed ? g.failure : 'OK')));
    }
  } else {
    const [method, route] = splitHttp(g.endpoint);
    out.push(str(current ? 'http.request.method' : 'http.method', method), int(current ? 'http.response.status_code' : 'http.status_code', failed ? Number(g.failure) : 200));
    out.push(str(side === 'server' ? 'http.route' : 'url.template', route));
    if (failed && current) out.push(str('error.type', g.failure));
  }
  if (side === 'client') {
    if ((o.peer ?? 'service') === 'service') out.push(str(current ? 'service.peer.name' : 'peer.service', g.server));
    else out.push(str(current ? 'server.address' : 'net.peer.name', `${g.server}.svc.cluster.local`), int(current ? 'server.port' : 'net.peer.port', 8080));
  } else if ((o.servers ?? 'named-callers') === 'named-callers') {
    out.push(str(current ? 'service.peer.name' : 'peer.service', g.client));
  }
  return out;
}

function metricName(g: CallGroup, side: 'client' | 'server', names: OtlpOptions['names']): string {
  if (g.protocol === 'grpc') return names === 'current' ? `rpc.${side}.call.duration` : `rpc.${side}.duration`;
  return names === 'current' ? `http.${side}.request.duration` : `http.${side}.duration`;
}

/** One ExportMetricsServiceRequest per reporting service, delta temporality, as protobuf bytes. */
export function otlpRequests(groups: CallGroup[], o: OtlpOptions): Uint8Array[] {
  const byService = new Map<string, { name: string; unit: string; side: 'client' | 'server'; points: Record<string, unknown>[] }[]>();
  const add = (service: string, side: 'client' | 'server', g: CallGroup) => {
    if (side === 'client' && o.uninstrumented?.includes(g.client)) return;
    if (side === 'server' && (o.servers === 'none' || o.uninstrumented?.includes(g.server))) return;
    const name = metricName(g, side, o.names);
    const unit = o.names === 'current' ? 's' : 'ms';
    const bounds = o.names === 'current' ? CURRENT_BOUNDS_S : LEGACY_BOUNDS_MS;
    const scale = o.names === 'current' ? 1000 : 1;
    const metrics = byService.get(service) ?? [];
    byService.set(service, metrics);
    let metric = metrics.find((m) => m.name === name);
    if (!metric) {
      metric = { name, unit, side, points: [] };
      metrics.push(metric);
    }
    for (const [failed, durations] of [
      [false, g.okMs],
      [true, g.failedMs],
    ] as const) {
      if (durations.length === 0) continue;
      metric.points.push({
        attributes: attributes(g, side, failed, o),
        startTimeUnixNano: o.startMs * 1e6,
        timeUnixNano: o.endMs * 1e6,
        count: durations.length,
        sum: durations.reduce((a, b) => a + b, 0) / scale,
        bucketCounts: bucketCounts(durations, bounds.map((b) => b * scale)),
        explicitBounds: bounds,
      });
    }
  };
  for (const g of groups) {
    add(g.client, 'client', g);
    add(g.server, 'server', g);
  }
  return [...byService].map(([service, metrics]) =>
    encodeMetricsRequestObject({
      resourceMetrics: [
        {
          resource: { attributes: [str('service.name', service), str('service.instance.id', `${service}-1`)] },
          scopeMetrics: [
            {
              scope: { name: 'test-instrumentation' },
              metrics: metrics.map((m) => ({ name: m.name, unit: m.unit, histogram: { aggregationTemporality: 1, dataPoints: m.points } })),
            },
          ],
        },
      ],
    }),
  );
}

const SPECTATOR_STATUS: Readonly<Record<string, string>> = { UNAVAILABLE: 'unavailable', DEADLINE_EXCEEDED: 'timeout', '503': 'unavailable', '500': 'unexpected_error', '404': 'bad_request' };

/** Spectator measurements (counts per step, no `step` field) of every reporter, as JSON lines. */
export function spectatorLines(groups: CallGroup[], timestampMs: number): string {
  const lines: string[] = [];
  const bounds = SPECTATOR_PERCENTILE_BOUNDS_NS.map((ns) => ns / 1e6);
  for (const g of groups) {
    for (const side of ['client', 'server'] as const) {
      for (const [failed, durations] of [
        [false, g.okMs],
        [true, g.failedMs],
      ] as const) {
        if (durations.length === 0) continue;
        const tags: Record<string, string> = {
          'nf.app': side === 'client' ? g.client : g.server,
          'ipc.protocol': g.protocol === 'grpc' ? 'grpc' : 'http_1',
          'ipc.endpoint': g.endpoint,
          'ipc.result': failed ? 'failure' : 'success',
          'ipc.status': failed ? (SPECTATOR_STATUS[g.failure] ?? 'unexpected_error') : 'success',
          ...(side === 'client' ? { 'ipc.server.app': g.server } : { 'ipc.client.app': g.client }),
        };
        const name = `ipc.${side}.call`;
        lines.push(JSON.stringify({ name, tags: { ...tags, statistic: 'count' }, timestamp: timestampMs, value: durations.length }));
        const counts = bucketCounts(durations, bounds);
        counts.forEach((c, i) => {
          if (c > 0) lines.push(JSON.stringify({ name, tags: { ...tags, statistic: 'percentile', percentile: `T${i.toString(16).toUpperCase().padStart(4, '0')}` }, timestamp: timestampMs, value: c }));
        });
      }
    }
  }
  return lines.join('\n') + '\n';
}

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
    .join(',');
}

/**
 * One Prometheus scrape of the mesh's Istio metrics: each request reported by the source and the
 * destination proxy. `scale` 0 gives the baseline scrape (all series at zero).
 */
export function istioScrape(groups: CallGroup[], timestampMs: number, scale = 1, options: { sidecarless?: string[] } = {}): string {
  const lines = ['# TYPE istio_requests_total counter', '# TYPE istio_request_duration_milliseconds histogram'];
  for (const g of groups) {
    for (const reporter of ['source', 'destination'] as const) {
      if (options.sidecarless?.includes(reporter === 'source' ? g.client : g.server)) continue;
      for (const [failed, durations] of [
        [false, g.okMs],
        [true, g.failedMs],
      ] as const) {
        if (durations.length === 0) continue;
        const sourceKnown = !options.sidecarless?.includes(g.client);
        const labels: Record<string, string> = {
          reporter,
          source_workload: sourceKnown ? `${g.client}-v1` : 'unknown',
          source_canonical_service: sourceKnown ? g.client : 'unknown',
          source_app: sourceKnown ? g.client : 'unknown',
          destination_workload: `${g.server}-v1`,
          destination_canonical_service: g.server,
          destination_app: g.server,
          destination_service: `${g.server}.default.svc.cluster.local`,
          destination_service_name: g.server,
          request_protocol: g.protocol,
          response_code: g.protocol === 'grpc' ? '200' : failed ? g.failure : '200',
          grpc_response_status: g.protocol === 'grpc' ? String(GRPC_CODES.indexOf(failed ? g.failure : 'OK')) : '',
          response_flags: '-',
          connection_security_policy: 'mutual_tls',
        };
        const text = labelText(labels);
        lines.push(`istio_requests_total{${text}} ${durations.length * scale} ${timestampMs}`);
        const counts = bucketCounts(durations, ISTIO_BOUNDS_MS);
        let cumulative = 0;
        ISTIO_BOUNDS_MS.forEach((b, i) => {
          cumulative += counts[i] as number;
          lines.push(`istio_request_duration_milliseconds_bucket{${text},le="${b}"} ${cumulative * scale} ${timestampMs}`);
        });
        lines.push(`istio_request_duration_milliseconds_bucket{${text},le="+Inf"} ${durations.length * scale} ${timestampMs}`);
        lines.push(`istio_request_duration_milliseconds_sum{${text}} ${durations.reduce((a, b) => a + b, 0) * scale} ${timestampMs}`);
        lines.push(`istio_request_duration_milliseconds_count{${text}} ${durations.length * scale} ${timestampMs}`);
      }
    }
  }
  return lines.join('\n') + '\n';
}

/** A small mesh: a frontend calling two backends, one of which calls the other. */
export function threeServices(): CallGroup[] {
  const durations = (n: number, base: number) => Array.from({ length: n }, (_, i) => base + (i % 10) * base * 0.3);
  return [
    { client: 'frontend', server: 'checkout', protocol: 'http', endpoint: 'POST /checkout/{cart}', okMs: durations(40, 30), failedMs: durations(4, 200), failure: '503' },
    { client: 'frontend', server: 'catalog', protocol: 'grpc', endpoint: 'shop.catalog.v1.CatalogService/GetProduct', okMs: durations(120, 4), failedMs: [], failure: 'UNAVAILABLE' },
    { client: 'checkout', server: 'catalog', protocol: 'grpc', endpoint: 'shop.catalog.v1.CatalogService/Reserve', okMs: durations(30, 8), failedMs: durations(3, 900), failure: 'DEADLINE_EXCEEDED' },
  ];
}
