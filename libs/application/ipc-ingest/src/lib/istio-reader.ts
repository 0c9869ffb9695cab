import type { CounterSet } from '@topology/model';
import { parseClusterName } from '@topology/model';
import { grpcCodeName, grpcOutcome, httpOutcome } from './call-outcome';
import { newCallSample, type CallSample, type CallSink, RejectionTally } from './call-sample';
import type { CumulativeSeries, MessageOrigin } from './cumulative-series';
import type { IpcIngestorCounter } from './ipc-ingestor-counters';

const REQUESTS = 'istio_requests_total';
const DURATION_BUCKET = 'istio_request_duration_milliseconds_bucket';

type Labels = Map<string, string>;

/** One exposition line, parsed. */
interface Sample {
  name: string;
  labels: Labels;
  /** The labels without `le`, as text: identifies a series (a histogram's, for bucket lines). */
  seriesKey: string;
  le: number | undefined;
  value: number;
  timestampMs: number | undefined;
}

interface DurationGroup {
  labels: Labels;
  timestampMs: number | undefined;
  buckets: [le: number, cumulative: number][];
}

function known(v: string | undefined): string | undefined {
  return v === undefined || v.length === 0 || v === 'unknown' ? undefined : v;
}

/** The app of one side: canonical service, else `app` label, else the workload read as a cluster name. */
function appOf(labels: Labels, side: 'source' | 'destination'): string | undefined {
  const canonical = known(labels.get(`${side}_canonical_service`));
  if (canonical !== undefined) return canonical;
  const app = known(labels.get(`${side}_app`));
  if (app !== undefined) return app;
  const workload = known(labels.get(`${side}_workload`));
  return workload === undefined ? undefined : parseClusterName(workload).app;
}

/** Parses `name{labels} value [timestamp]`; undefined for a line that is not a sample. */
export function parsePrometheusLine(line: string): Sample | undefined | 'malformed' {
  let i = 0;
  const n = line.length;
  while (i < n && line.charCodeAt(i) !== 123 /* { */ && line.charCodeAt(i) !== 32 && line.charCodeAt(i) !== 9) i++;
  const name = line.slice(0, i);
  if (name.length === 0) return 'malformed';
  const labels: Labels = new Map();
  let seriesKey = '';
  let le: number | undefined;
  if (line.charCodeAt(i) === 123) {
    i++;
    for (;;) {
      while (i < n && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 44)) i++;
      if (i >= n) return 'malformed';
      if (line.charCodeAt(i) === 125 /* } */) {
        i++;
        break;
      }
      const eq = line.indexOf('=', i);
      if (eq < 0 || line.charCodeAt(eq + 1) !== 34 /* " */) return 'malformed';
      const key = line.slice(i, eq).trim();
      let j = eq + 2;
      let value = '';
      let chunk = j;
      for (;;) {
        if (j >= n) return 'malformed';
        const c = line.charCodeAt(j);
        if (c === 34) break;
        if (c === 92 /* \ */) {
          value += line.slice(chunk, j);
          const e = line.charAt(j + 1);
          value += e === 'n' ? '\n' : e;
          j += 2;
          chunk = j;
          continue;
        }
        j++;
      }
      value += line.slice(chunk, j);
      i = j + 1;
      if (key === 'le') {
        le = value === '+Inf' ? Infinity : Number(value);
        if (Number.isNaN(le)) return 'malformed';
      } else {
        labels.set(key, value);
        seriesKey += `${key}=${value}\u0001`;
      }
    }
  }
  const rest = line.slice(i).trim().split(/\s+/);
  const value = Number(rest[0]);
  if (rest[0] === undefined || rest[0] === '' || Number.isNaN(value)) return 'malformed';
  const timestampMs = rest[1] === undefined ? undefined : Number(rest[1]);
  if (timestampMs !== undefined && !Number.isFinite(timestampMs)) return 'malformed';
  return { name, labels, seriesKey, le, value, timestampMs };
}

/**
 * Reads Istio's standard metrics in the Prometheus text format: `istio_requests_total` gives the
 * calls by response code, the `istio_request_duration_milliseconds` buckets their latencies. Both
 * are cumulative: each series' increase since its previous scrape is what counts (the first scrape
 * of a series only sets its baseline). A `reporter="source"` series is the client's view, a
 * `reporter="destination"` one the server's: the aggregator counts each request once from them.
 * Istio names no endpoint, so all of an edge's calls are on endpoint `*`.
 *
 * Series are identified by their labels: a message should hold one scrape, of one proxy or with
 * the scrape target's labels (`pod`, `instance`) kept.
 */
export class IstioReader {
  private readonly sample: CallSample = newCallSample('istio');
  private counts: number[] = [];
  private origin: MessageOrigin | undefined;

  constructor(
    private readonly sink: CallSink,
    private readonly series: CumulativeSeries,
    private readonly counters: CounterSet<IpcIngestorCounter>,
  ) {}

  read(text: string, receivedAtMs: number, tally: RejectionTally, origin?: MessageOrigin): void {
    this.origin = origin;
    const durations = new Map<string, DurationGroup>();
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      const line = text.slice(start, end).trim();
      start = end + 1;
      if (line.length === 0 || line.charCodeAt(0) === 35 /* # */) continue;
      if (!line.startsWith(REQUESTS) && !line.startsWith(DURATION_BUCKET)) {
        this.counters.inc('data_points_ignored', 1, 'istio');
        continue;
      }
      const s = parsePrometheusLine(line);
      if (s === undefined) continue;
      if (s === 'malformed') {
        this.reject(tally, 'malformed', 'line is not in the Prometheus text format');
        continue;
      }
      if (s.name === REQUESTS) {
        this.readRequests(s, receivedAtMs, tally);
      } else if (s.name === DURATION_BUCKET) {
        if (s.le === undefined) {
          this.reject(tally, 'missing-field', `${DURATION_BUCKET} line without le`);
          continue;
        }
        let group = durations.get(s.seriesKey);
        if (!group) {
          group = { labels: s.labels, timestampMs: s.timestampMs, buckets: [] };
          durations.set(s.seriesKey, group);
        }
        group.buckets.push([s.le, s.value]);
      } else {
        this.counters.inc('data_points_ignored', 1, 'istio');
      }
    }
    for (const [key, group] of durations) this.readDurations(key, group, receivedAtMs, tally);
  }

  private readRequests(s: Sample, receivedAtMs: number, tally: RejectionTally): void {
    if (!(s.value >= 0)) {
      this.reject(tally, 'invalid-value', `${REQUESTS} is negative`);
      return;
    }
    const timeMs = s.timestampMs ?? receivedAtMs;
    const delta = this.series.delta(`r\u0002${s.seriesKey}`, 0, timeMs, s.value, undefined, this.origin);
    if (delta === undefined) return;
    if (!this.describe(s.labels, tally)) return;
    const sample = this.sample;
    sample.baselineSource = delta.baselineSource;
    sample.baselineOffset = delta.baselineOffset;
    sample.calls = delta.count;
    sample.startMs = delta.fromMs;
    sample.timeMs = timeMs;
    sample.latencyBoundsMs = undefined;
    sample.latencyCounts = undefined;
    this.submit(tally);
  }

  private readDurations(key: string, group: DurationGroup, receivedAtMs: number, tally: RejectionTally): void {
    group.buckets.sort((a, b) => a[0] - b[0]);
    const bounds: number[] = [];
    const counts = this.counts;
    counts.length = 0;
    let previous = 0;
    for (const [le, cumulative] of group.buckets) {
      if (le !== Infinity) bounds.push(le);
      counts.push(Math.max(0, cumulative - previous));
      previous = cumulative;
    }
    if (group.buckets[group.buckets.length - 1]?.[0] !== Infinity) counts.push(0);
    const timeMs = group.timestampMs ?? receivedAtMs;
    const delta = this.series.delta(`d\u0002${key}`, 0, timeMs, previous, counts, this.origin);
    if (delta === undefined) return;
    if (!this.describe(group.labels, tally)) return;
    const sample = this.sample;
    sample.baselineSource = delta.baselineSource;
    sample.baselineOffset = delta.baselineOffset;
    sample.calls = 0;
    sample.startMs = delta.fromMs;
    sample.timeMs = timeMs;
    sample.latencyBoundsMs = bounds;
    sample.latencyCounts = delta.buckets;
    this.submit(tally);
  }

  /** Fills the sample's reporter, peer, protocol and outcome from a series' labels; false if it cannot be read. */
  private describe(labels: Labels, tally: RejectionTally): boolean {
    const reporter = labels.get('reporter');
    const protocol = labels.get('request_protocol');
    if ((reporter !== 'source' && reporter !== 'destination') || (protocol !== 'http' && protocol !== 'grpc')) {
      // Waypoint reports and TCP-only series describe no calls this layer reads.
      this.counters.inc('data_points_ignored', 1, 'istio');
      return false;
    }
    const s = this.sample;
    const client = reporter === 'source';
    const self = appOf(labels, client ? 'source' : 'destination');
    if (self === undefined) {
      this.reject(tally, 'missing-field', `reporter=${reporter} series names no ${client ? 'source' : 'destination'} workload`);
      return false;
    }
    s.side = client ? 'client' : 'server';
    s.reporter = self;
    const other = client ? appOf(labels, 'destination') ?? known(labels.get('destination_service_name')) : appOf(labels, 'source');
    const host = client ? known(labels.get('destination_service')) : undefined;
    if (other !== undefined) {
      s.peerNaming = 'service';
      s.peer = other;
    } else if (host !== undefined) {
      s.peerNaming = 'host';
      s.peer = host;
    } else {
      s.peerNaming = undefined;
      s.peer = undefined;
    }
    s.protocol = protocol;
    s.endpoint = '*';
    const code = Number(labels.get('response_code'));
    const errorFlags = known(labels.get('response_flags'));
    const errorType = errorFlags !== undefined && errorFlags !== '-' ? errorFlags : undefined;
    if (protocol === 'grpc') {
      s.outcome = grpcOutcome(s.side, grpcCodeName(known(labels.get('grpc_response_status'))), undefined);
    } else {
      s.outcome = httpOutcome(s.side, Number.isInteger(code) && code > 0 ? code : undefined, errorType);
    }
    return true;
  }

  private submit(tally: RejectionTally): void {
    const refused = this.sink.accept(this.sample);
    if (refused !== undefined) this.reject(tally, refused, `Istio sample at ${this.sample.timeMs} refused`);
  }

  private reject(tally: RejectionTally, reason: Parameters<RejectionTally['add']>[0], message: string): void {
    tally.add(reason, message);
    this.counters.inc('data_points_rejected', 1, reason);
  }
}
