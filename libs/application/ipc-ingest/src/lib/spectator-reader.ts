import type { CounterSet } from '@topology/model';
import { parseClusterName } from '@topology/model';
import { spectatorOutcome } from './call-outcome';
import { newCallSample, type CallSample, type CallSink, RejectionTally } from './call-sample';
import type { IpcIngestorCounter } from './ipc-ingestor-counters';

/**
 * Upper bounds, in nanoseconds, of Spectator's percentile buckets (`PercentileBuckets`): 1, 2, 3,
 * then from each power of 4 up to the next in steps of a third of it. A `PercentileTimer` publishes
 * one counter per bucket, tagged `percentile=T<index as 4 hex digits>`.
 */
export const SPECTATOR_PERCENTILE_BOUNDS_NS: readonly number[] = (() => {
  const bounds: number[] = [1, 2, 3];
  for (let exp = 2; exp < 64; exp += 2) {
    const base = 2n ** BigInt(exp);
    const delta = base / 3n;
    const next = base * 4n - delta;
    for (let current = base; current < next; current += delta) bounds.push(Number(current));
  }
  bounds.push(Number(2n ** 63n - 1n));
  return bounds;
})();

const PERCENTILE_BOUNDS_MS = SPECTATOR_PERCENTILE_BOUNDS_NS.map((ns) => ns / 1e6);

/** Index of a `T00A3` percentile tag, or -1. */
export function spectatorPercentileIndex(tag: string): number {
  if (tag.length !== 5 || tag.charCodeAt(0) !== 84 /* T */) return -1;
  const n = parseInt(tag.slice(1), 16);
  return Number.isInteger(n) && n >= 0 && n < SPECTATOR_PERCENTILE_BOUNDS_NS.length ? n : -1;
}

const CLIENT_CALL = 'ipc.client.call';
const SERVER_CALL = 'ipc.server.call';

const PROTOCOLS: Readonly<Record<string, string>> = { http_1: 'http', http_2: 'http', http_3: 'http', https: 'http', http: 'http', grpc: 'grpc' };

interface Measurement {
  name?: unknown;
  tags?: unknown;
  timestamp?: unknown;
  value?: unknown;
  step?: unknown;
}

function tag(tags: Record<string, unknown>, key: string): string | undefined {
  const v = tags[key];
  return typeof v === 'string' && v.length > 0 && v !== 'unknown' ? v : undefined;
}

/**
 * Reads Spectator IPC measurements, one JSON object per line:
 * `{"name":"ipc.client.call","tags":{...},"timestamp":<ms, end of the step>,"value":<n>,"step":<ms>}`
 * (`name` may also be a tag). `statistic=count` lines carry calls, `statistic=percentile` lines the
 * calls of one latency bucket; other statistics (totalTime, max) and other metrics are ignored. With
 * `step`, values are rates per second as a registry measures them and are scaled to counts; without
 * it they are counts per step.
 *
 * Client metrics name the server by `ipc.server.app` (else the host in `ipc.vip`); server metrics
 * name the caller by `ipc.client.app`. The reporter is `nf.app`, else the app of `nf.cluster`.
 */
export class SpectatorReader {
  private readonly sample: CallSample = newCallSample('spectator');

  constructor(
    private readonly sink: CallSink,
    private readonly counters: CounterSet<IpcIngestorCounter>,
  ) {}

  read(text: string, tally: RejectionTally): void {
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      const line = text.slice(start, end).trim();
      start = end + 1;
      if (line.length === 0) continue;
      let m: Measurement;
      try {
        m = JSON.parse(line) as Measurement;
      } catch {
        this.reject(tally, 'malformed', 'line is not JSON');
        continue;
      }
      this.readMeasurement(m, tally);
    }
  }

  private readMeasurement(m: Measurement, tally: RejectionTally): void {
    if (m === null || typeof m !== 'object' || m.tags === null || typeof m.tags !== 'object') {
      this.reject(tally, 'malformed', 'measurement has no tags object');
      return;
    }
    const tags = m.tags as Record<string, unknown>;
    const name = typeof m.name === 'string' ? m.name : tags['name'];
    if (name !== CLIENT_CALL && name !== SERVER_CALL) {
      this.counters.inc('data_points_ignored', 1, 'spectator');
      return;
    }
    const statistic = tags['statistic'];
    let bucket = -1;
    if (statistic === 'percentile') {
      bucket = spectatorPercentileIndex(String(tags['percentile'] ?? ''));
      if (bucket < 0) {
        this.reject(tally, 'invalid-value', `percentile tag ${JSON.stringify(tags['percentile'])} is not a percentile bucket index`);
        return;
      }
    } else if (statistic !== 'count') {
      this.counters.inc('data_points_ignored', 1, 'spectator');
      return;
    }
    if (typeof m.value !== 'number' || !(m.value >= 0) || m.value === Infinity) {
      this.reject(tally, 'invalid-value', 'value is not a non-negative number');
      return;
    }
    if (typeof m.timestamp !== 'number' || !Number.isFinite(m.timestamp) || m.timestamp <= 0) {
      this.reject(tally, 'invalid-time', 'timestamp is not epoch milliseconds');
      return;
    }
    const stepMs = typeof m.step === 'number' && m.step > 0 ? m.step : undefined;
    const count = stepMs === undefined ? m.value : (m.value * stepMs) / 1000;
    const cluster = tag(tags, 'nf.cluster');
    const reporter = tag(tags, 'nf.app') ?? (cluster === undefined ? undefined : parseClusterName(cluster).app);
    if (reporter === undefined) {
      this.reject(tally, 'missing-field', 'measurement has no nf.app or nf.cluster');
      return;
    }
    const s = this.sample;
    const client = name === CLIENT_CALL;
    s.side = client ? 'client' : 'server';
    s.reporter = reporter;
    const serverApp = client ? tag(tags, 'ipc.server.app') : undefined;
    const vip = client ? tag(tags, 'ipc.vip') : undefined;
    const callerApp = client ? undefined : tag(tags, 'ipc.client.app');
    if (serverApp !== undefined || callerApp !== undefined) {
      s.peerNaming = 'service';
      s.peer = serverApp ?? callerApp;
    } else if (vip !== undefined) {
      s.peerNaming = 'host';
      s.peer = vip;
    } else {
      s.peerNaming = undefined;
      s.peer = undefined;
    }
    const protocol = tag(tags, 'ipc.protocol');
    s.protocol = protocol === undefined ? 'ipc' : (PROTOCOLS[protocol] ?? protocol);
    s.endpoint = tag(tags, 'ipc.endpoint') ?? '*';
    s.outcome = spectatorOutcome(tag(tags, 'ipc.result'), tag(tags, 'ipc.status'));
    s.timeMs = m.timestamp;
    s.startMs = stepMs === undefined ? m.timestamp : m.timestamp - stepMs;
    s.latencyBoundsMs = undefined;
    s.latencyCounts = undefined;
    if (bucket >= 0) {
      s.calls = 0;
      s.latencyBucketMs = PERCENTILE_BOUNDS_MS[bucket];
      s.latencyBucketLowerMs = bucket > 0 ? PERCENTILE_BOUNDS_MS[bucket - 1] : undefined;
      s.latencyBucketCount = count;
    } else {
      s.calls = count;
      s.latencyBucketMs = undefined;
      s.latencyBucketCount = 0;
    }
    const refused = this.sink.accept(s);
    if (refused !== undefined) this.reject(tally, refused, `${name} measurement at ${m.timestamp} refused`);
  }

  private reject(tally: RejectionTally, reason: Parameters<RejectionTally['add']>[0], message: string): void {
    tally.add(reason, message);
    this.counters.inc('data_points_rejected', 1, reason);
  }
}
