import type { CounterSet } from '@topology/model';
import { parseClusterName } from '@topology/model';
import { grpcCodeName, grpcOutcome, httpOutcome, rpcOutcome, type Side } from './call-outcome';
import { newCallSample, type CallSample, type CallSink, RejectionTally } from './call-sample';
import type { CumulativeSeries, MessageOrigin } from './cumulative-series';
import type { IpcIngestorCounter } from './ipc-ingestor-counters';
import { countOf, nanosToMs, type ExportMetricsServiceRequest, type OtlpAnyValue, type OtlpKeyValue, type OtlpMetric } from './otlp-codec';

/** The call-duration histograms of the semantic conventions, current and older names. */
interface CallMetric {
  side: Side;
  family: 'rpc' | 'http';
  /** Unit when the metric does not state one: the current names are in seconds, the older in milliseconds. */
  defaultUnit: string;
}

export const CALL_METRICS: Readonly<Record<string, CallMetric>> = {
  'rpc.client.call.duration': { side: 'client', family: 'rpc', defaultUnit: 's' },
  'rpc.server.call.duration': { side: 'server', family: 'rpc', defaultUnit: 's' },
  'http.client.request.duration': { side: 'client', family: 'http', defaultUnit: 's' },
  'http.server.request.duration': { side: 'server', family: 'http', defaultUnit: 's' },
  'rpc.client.duration': { side: 'client', family: 'rpc', defaultUnit: 'ms' },
  'rpc.server.duration': { side: 'server', family: 'rpc', defaultUnit: 'ms' },
  'http.client.duration': { side: 'client', family: 'http', defaultUnit: 'ms' },
  'http.server.duration': { side: 'server', family: 'http', defaultUnit: 'ms' },
};

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, ms: 1, us: 0.001, ns: 0.000001 };

/** Old `rpc.system` values the current conventions renamed. */
const RPC_SYSTEM_NAMES: Readonly<Record<string, string>> = { apache_dubbo: 'dubbo', connect_rpc: 'connectrpc' };

const TEMPORALITY_DELTA = 1;
const TEMPORALITY_CUMULATIVE = 2;

/** Resource attributes naming the reporter's cluster, in order of preference. */
export const CLUSTER_RESOURCE_ATTRIBUTES = ['nf.cluster', 'k8s.deployment.name'] as const;

function stringOf(v: OtlpAnyValue | null | undefined): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v.stringValue === 'string') return v.stringValue.length > 0 ? v.stringValue : undefined;
  if (v.intValue !== null && v.intValue !== undefined) return String(countOf(v.intValue));
  if (typeof v.doubleValue === 'number') return String(v.doubleValue);
  if (typeof v.boolValue === 'boolean') return String(v.boolValue);
  return undefined;
}

function intOf(v: OtlpAnyValue | null | undefined): number | undefined {
  if (v === null || v === undefined) return undefined;
  if (v.intValue !== null && v.intValue !== undefined) return countOf(v.intValue);
  if (typeof v.stringValue === 'string' && v.stringValue.length > 0) {
    const n = Number(v.stringValue);
    return Number.isInteger(n) ? n : undefined;
  }
  if (typeof v.doubleValue === 'number' && Number.isInteger(v.doubleValue)) return v.doubleValue;
  return undefined;
}

interface Reporter {
  app: string;
  /** Every resource attribute: with the point's attributes it identifies a cumulative series. */
  seriesPrefix: string;
}

/**
 * The reporting service of a resource: `service.name` (the SDK's `unknown_service` placeholder does
 * not count), else Spectator's `nf.app`, else the app of its cluster (`nf.cluster`, then
 * `k8s.deployment.name`, read as `app-stack-detail-vNNN`).
 */
export function reporterOf(attributes: readonly OtlpKeyValue[]): Reporter | undefined {
  let service: string | undefined;
  let nfApp: string | undefined;
  const clusters: (string | undefined)[] = [undefined, undefined];
  let prefix = '';
  for (const kv of attributes) {
    const value = stringOf(kv.value);
    prefix += `${kv.key}=${value ?? ''}\u0001`;
    switch (kv.key) {
      case 'service.name':
        if (value !== undefined && !value.startsWith('unknown_service')) service = value;
        break;
      case 'nf.app':
        nfApp = value;
        break;
      case 'nf.cluster':
        clusters[0] = value;
        break;
      case 'k8s.deployment.name':
        clusters[1] = value;
        break;
    }
  }
  const cluster = clusters[0] ?? clusters[1];
  const app = service ?? nfApp ?? (cluster !== undefined ? parseClusterName(cluster).app : undefined);
  return app === undefined ? undefined : { app, seriesPrefix: prefix };
}

/**
 * Reads the call-duration histograms of an ExportMetricsServiceRequest into call samples. One pass
 * over each point's attributes picks what the current and the older conventions name:
 *
 * | meaning | current | older |
 * |---|---|---|
 * | RPC system | `rpc.system.name` | `rpc.system` |
 * | method | `rpc.method` (fully qualified) | `rpc.service` + `/` + `rpc.method` |
 * | status | `rpc.status_code` (name) | `rpc.grpc.status_code` (number) |
 * | peer service | `service.peer.name` | `peer.service` |
 * | peer host | `server.address` | `net.peer.name` |
 * | HTTP method | `http.request.method` | `http.method` |
 * | HTTP status | `http.response.status_code` | `http.status_code` |
 *
 * On a client metric the peer is the server; on a server metric a peer attribute names the caller,
 * and without one the calls still count towards the server's health.
 */
export class OtlpMetricsReader {
  private readonly sample: CallSample = newCallSample('otlp');
  private counts: number[] = [];
  private rawBounds: number[] = [];
  private boundsMs: number[] = [];
  private boundsFactor = 0;
  private origin: MessageOrigin | undefined;

  constructor(
    private readonly sink: CallSink,
    private readonly series: CumulativeSeries,
    private readonly counters: CounterSet<IpcIngestorCounter>,
  ) {}

  read(request: ExportMetricsServiceRequest, tally: RejectionTally, origin?: MessageOrigin): void {
    this.origin = origin;
    for (const rm of request.resourceMetrics) {
      let reporter: Reporter | undefined;
      let reporterKnown = false;
      for (const sm of rm.scopeMetrics) {
        for (const metric of sm.metrics) {
          const kind = CALL_METRICS[metric.name];
          if (kind === undefined) {
            this.counters.inc('data_points_ignored', pointsOf(metric), 'otlp');
            continue;
          }
          if (!reporterKnown) {
            reporter = reporterOf(rm.resource?.attributes ?? []);
            reporterKnown = true;
          }
          if (reporter === undefined) {
            const n = pointsOf(metric);
            for (let i = 0; i < n; i++) tally.add('missing-field', 'resource names no service (service.name, nf.app or a cluster)');
            this.counters.inc('data_points_rejected', n, 'missing-field');
            continue;
          }
          this.readMetric(metric, kind, reporter, tally);
        }
      }
    }
  }

  private readMetric(metric: OtlpMetric, kind: CallMetric, reporter: Reporter, tally: RejectionTally): void {
    const unit = metric.unit.length > 0 ? metric.unit : kind.defaultUnit;
    const factor = UNIT_MS[unit];
    if (factor === undefined) {
      this.rejectAll(metric, tally, 'invalid-value', `${metric.name} has unit ${JSON.stringify(metric.unit)}, not a duration unit`);
      return;
    }
    if (metric.histogram) {
      const temporality = metric.histogram.aggregationTemporality ?? 0;
      if (temporality !== TEMPORALITY_DELTA && temporality !== TEMPORALITY_CUMULATIVE) {
        this.rejectAll(metric, tally, 'invalid-value', `${metric.name} has no aggregation temporality`);
        return;
      }
      for (const point of metric.histogram.dataPoints) {
        const bounds = this.convertBounds(point.explicitBounds, factor);
        const n = point.bucketCounts.length;
        if (n !== 0 && n !== bounds.length + 1) {
          this.reject(tally, 'invalid-value', `${metric.name} point has ${n} bucket counts for ${bounds.length} bounds`);
          continue;
        }
        const counts = this.counts;
        counts.length = n;
        for (let i = 0; i < n; i++) counts[i] = countOf(point.bucketCounts[i]);
        this.readPoint(metric.name, kind, reporter, point.attributes, temporality, nanosToMs(point.startTimeUnixNano), nanosToMs(point.timeUnixNano), countOf(point.count), n > 0 ? bounds : undefined, n > 0 ? counts : undefined, tally);
      }
      return;
    }
    if (metric.exponentialHistogram) {
      const temporality = metric.exponentialHistogram.aggregationTemporality ?? 0;
      for (const point of metric.exponentialHistogram.dataPoints) {
        this.counters.inc('exponential_histograms_without_latency');
        this.readPoint(metric.name, kind, reporter, point.attributes, temporality, nanosToMs(point.startTimeUnixNano), nanosToMs(point.timeUnixNano), countOf(point.count), undefined, undefined, tally);
      }
      return;
    }
    this.rejectAll(metric, tally, 'invalid-value', `${metric.name} is not a histogram`);
  }

  private readPoint(
    name: string,
    kind: CallMetric,
    reporter: Reporter,
    attributes: readonly OtlpKeyValue[],
    temporality: number,
    startMs: number,
    timeMs: number,
    count: number,
    bounds: readonly number[] | undefined,
    counts: number[] | undefined,
    tally: RejectionTally,
  ): void {
    const cumulative = temporality === TEMPORALITY_CUMULATIVE;
    let seriesKey = cumulative ? `${reporter.seriesPrefix}\u0002${name}\u0002` : '';
    let system: string | undefined;
    let method: string | undefined;
    let service: string | undefined;
    let status: string | undefined;
    let grpcNumber: number | undefined;
    let errorType: string | undefined;
    let serverAddress: string | undefined;
    let netPeerName: string | undefined;
    let peerName: string | undefined;
    let peerService: string | undefined;
    let httpMethod: string | undefined;
    let httpStatus: number | undefined;
    let route: string | undefined;
    let template: string | undefined;
    for (const kv of attributes) {
      const v = kv.value;
      if (cumulative) seriesKey += `${kv.key}=${stringOf(v) ?? ''}\u0001`;
      switch (kv.key) {
        case 'rpc.system.name':
          system = stringOf(v);
          break;
        case 'rpc.system':
          system ??= stringOf(v);
          break;
        case 'rpc.method':
          method = stringOf(v);
          break;
        case 'rpc.service':
          service = stringOf(v);
          break;
        case 'rpc.status_code':
          status = stringOf(v);
          break;
        case 'rpc.grpc.status_code':
          grpcNumber = intOf(v);
          break;
        case 'error.type':
          errorType = stringOf(v);
          break;
        case 'server.address':
          serverAddress = stringOf(v);
          break;
        case 'net.peer.name':
          netPeerName = stringOf(v);
          break;
        case 'service.peer.name':
          peerName = stringOf(v);
          break;
        case 'peer.service':
          peerService = stringOf(v);
          break;
        case 'http.request.method':
        case 'http.method':
          httpMethod = stringOf(v);
          break;
        case 'http.response.status_code':
        case 'http.status_code':
          httpStatus = intOf(v);
          break;
        case 'http.route':
          route = stringOf(v);
          break;
        case 'url.template':
          template = stringOf(v);
          break;
      }
    }

    let calls = count;
    let latency = counts;
    let fromMs = startMs > 0 ? startMs : timeMs;
    const s = this.sample;
    s.baselineSource = undefined;
    if (cumulative) {
      const delta = this.series.delta(seriesKey, startMs, timeMs, count, counts, this.origin);
      if (delta === undefined) return;
      calls = delta.count;
      latency = delta.buckets;
      fromMs = delta.fromMs;
      s.baselineSource = delta.baselineSource;
      s.baselineOffset = delta.baselineOffset;
    }

    s.side = kind.side;
    s.reporter = reporter.app;
    s.calls = calls;
    s.startMs = fromMs;
    s.timeMs = timeMs;
    s.latencyBoundsMs = latency === undefined ? undefined : bounds;
    s.latencyCounts = latency;
    const serviceName = peerName ?? peerService;
    if (serviceName !== undefined) {
      s.peerNaming = 'service';
      s.peer = serviceName;
    } else if (kind.side === 'client' && (serverAddress ?? netPeerName) !== undefined) {
      s.peerNaming = 'host';
      s.peer = serverAddress ?? netPeerName;
    } else {
      s.peerNaming = undefined;
      s.peer = undefined;
    }
    if (kind.family === 'rpc') {
      const protocol = system === undefined ? 'rpc' : (RPC_SYSTEM_NAMES[system] ?? system);
      s.protocol = protocol;
      s.endpoint = method === undefined ? (service ?? '*') : method.includes('/') || service === undefined ? method : `${service}/${method}`;
      if (protocol === 'grpc') s.outcome = grpcOutcome(kind.side, grpcCodeName(status ?? grpcNumber), errorType);
      else s.outcome = rpcOutcome(status ?? (grpcNumber === undefined ? undefined : String(grpcNumber)), errorType);
    } else {
      s.protocol = 'http';
      const path = route ?? template;
      s.endpoint = httpMethod === undefined ? (path ?? '*') : path === undefined ? httpMethod : `${httpMethod} ${path}`;
      s.outcome = httpOutcome(kind.side, httpStatus, errorType);
    }
    const refused = this.sink.accept(s);
    if (refused !== undefined) this.reject(tally, refused, `${name} point at ${timeMs} refused`);
  }

  /** Bounds in milliseconds; consecutive points of one metric usually share them, so the last conversion is reused. */
  private convertBounds(raw: readonly number[], factor: number): number[] {
    const last = this.rawBounds;
    let same = factor === this.boundsFactor && raw.length === last.length;
    for (let i = 0; same && i < raw.length; i++) same = raw[i] === last[i];
    if (same) return this.boundsMs;
    this.rawBounds = Array.from(raw);
    this.boundsFactor = factor;
    this.boundsMs = this.rawBounds.map((b) => b * factor);
    return this.boundsMs;
  }

  private reject(tally: RejectionTally, reason: Parameters<RejectionTally['add']>[0], message: string): void {
    tally.add(reason, message);
    this.counters.inc('data_points_rejected', 1, reason);
  }

  private rejectAll(metric: OtlpMetric, tally: RejectionTally, reason: Parameters<RejectionTally['add']>[0], message: string): void {
    const n = Math.max(1, pointsOf(metric));
    for (let i = 0; i < n; i++) this.reject(tally, reason, message);
  }
}

function pointsOf(metric: OtlpMetric): number {
  const data = metric.histogram ?? metric.exponentialHistogram ?? metric.sum ?? metric.gauge ?? metric.summary;
  const points = data === null || data === undefined ? undefined : (data as { dataPoints?: unknown[] }).dataPoints;
  return Array.isArray(points) ? points.length : 0;
}
