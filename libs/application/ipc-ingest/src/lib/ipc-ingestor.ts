import type { AppMetadata, DeadLetterReason, MetadataEvent, Rejection } from '@topology/contracts';
import { ContentTypes } from '@topology/contracts';
import type { ApplicationEdgeProps, Clock, EdgeBucket, EdgeBucketRef, EndpointStats, Health, LatencyHistogram, NodeId, NodeUpsert } from '@topology/model';
import { HEALTH_STATES, isNodeId, nodeId, parseNodeId } from '@topology/model';
import { compareEndpoints, withPercentiles } from './application-props';
import type { Side } from './call-outcome';
import { RejectionTally, type CallSample, type CallSink, type IpcFormat } from './call-sample';
import { CumulativeSeries, type MessageOrigin } from './cumulative-series';
import { IstioReader } from './istio-reader';
import { validateIpcIngestorConfig, type IpcIngestorConfig } from './ipc-ingestor-config';
import { newIpcIngestorCounters } from './ipc-ingestor-counters';
import { LatencyAccumulator, mergeHistograms } from './latency-histogram';
import { healthFromCalls, type CallSignal } from './node-health';
import { decodeMetricsRequest, decodeMetricsRequestJson, OtlpFormatError } from './otlp-codec';
import { OtlpMetricsReader } from './otlp-metrics-reader';
import { isAddressLiteral, normaliseHost, PeerNamer, type PeerNaming } from './peer-naming';
import { SpectatorReader } from './spectator-reader';

export interface IpcIngestorOutput {
  /** App nodes that are new, or whose health or context changed. */
  nodes: NodeUpsert[];
  /** App-level edge buckets whose payload changed since the last flush. */
  buckets: EdgeBucket<ApplicationEdgeProps>[];
  /** Buckets emitted earlier that no longer exist (their calls now belong to another edge). */
  withdrawn: EdgeBucketRef[];
}

/** The input encodings the ingestor reads. */
export type IpcEncoding = 'otlp-protobuf' | 'otlp-json' | 'spectator' | 'prometheus';

/**
 * What a checkpoint carries besides its offsets, so that an ingestor that lost its memory and reads
 * its input again from there decides as the lost one did (see `IpcIngestor.resume`).
 */
export interface IpcResumeState {
  /** The latest call time seen, epoch milliseconds: buckets it had closed (and written whole) stay closed. */
  latestCallMs?: number;
  /** Since when the input is observed, epoch milliseconds: which cumulative series started after that. */
  observingSinceMs?: number;
}

const WHITESPACE = /\s/;

/** Calls, errors and latencies summed over samples. */
class CallTotals {
  calls = 0;
  errors = 0;
  readonly latency = new LatencyAccumulator();

  add(s: CallSample): void {
    this.calls += s.calls;
    if (s.outcome.error) this.errors += s.calls;
    if (s.latencyBoundsMs !== undefined && s.latencyCounts !== undefined) this.latency.addDense(s.latencyBoundsMs, s.latencyCounts);
    else if (s.latencyBucketMs !== undefined) this.latency.addBucket(s.latencyBucketMs, s.latencyBucketCount, s.latencyBucketLowerMs);
  }
}

class EndpointTotals extends CallTotals {
  readonly errorsByStatus = new Map<string, number>();

  constructor(
    readonly protocol: string,
    readonly endpoint: string,
  ) {
    super();
  }

  override add(s: CallSample): void {
    super.add(s);
    const status = s.outcome.statusClass;
    if (s.outcome.error && status !== undefined && s.calls > 0) this.errorsByStatus.set(status, (this.errorsByStatus.get(status) ?? 0) + s.calls);
  }
}

/** What one reporter said, in one format, about its calls with one named peer, in one bucket. */
class CallView {
  readonly endpoints = new Map<string, EndpointTotals>();
  calls = 0;
  firstSeenMs = Infinity;
  lastSeenMs = -Infinity;
  /** Changed since its bucket was last flushed. */
  dirty = true;
  /** Its edge, as named at the last flush (undefined: not yet named, or its peer names nobody). */
  edge: { key: string; src: NodeId; dst: NodeId } | null | undefined;

  constructor(
    readonly format: IpcFormat,
    readonly side: Side,
    readonly reporter: string,
    readonly peerNaming: PeerNaming,
    readonly peer: string,
  ) {}

  add(s: CallSample, firstMs: number, lastMs: number): void {
    const key = `${s.protocol}\u0001${s.endpoint}`;
    let e = this.endpoints.get(key);
    if (e === undefined) {
      e = new EndpointTotals(s.protocol, s.endpoint);
      this.endpoints.set(key, e);
    }
    e.add(s);
    this.dirty = true;
    this.calls += s.calls;
    if (firstMs < this.firstSeenMs) this.firstSeenMs = firstMs;
    if (lastMs > this.lastSeenMs) this.lastSeenMs = lastMs;
  }
}

interface EmittedEdge {
  src: NodeId;
  dst: NodeId;
  props: ApplicationEdgeProps;
  /** The views it was folded from, to tell whether it must be folded again. */
  views: number;
  /** The side and format whose views counted. */
  choice: string;
  /** Whether the target reported calls of its own in the bucket. */
  serverReports: boolean;
}

class BucketState {
  /**
   * Per source, the offset of the oldest message this bucket needs to be built again: those its
   * samples were read from, and those holding the baselines of its cumulative increases.
   */
  readonly needs = new Map<string, number>();
  /** Views with a named peer, by (format, side, reporter, peer). */
  readonly views = new Map<string, CallView>();
  /** Every call a server reported, named caller or not, by (format, reporter): its health signal. */
  readonly served = new Map<string, { format: IpcFormat; reporter: string; totals: CallTotals }>();
  emitted = new Map<string, EmittedEdge>();
  /** Per app, what this bucket says about its health (set at flush). */
  signals = new Map<string, CallSignal>();
  /** Peers may resolve differently (new metadata): every edge is folded again at the next flush. */
  refold = false;

  constructor(readonly startMs: number) {}

  need(source: string, offset: number): void {
    const known = this.needs.get(source);
    if (known === undefined || offset < known) this.needs.set(source, offset);
  }
}

interface AppState {
  firstSeenMs: number;
  lastSeenMs: number;
  /** Data points of its own were accepted (a server or client view, a named peer or not), not only peers naming it. */
  reportsIpcMetrics: boolean;
  /** As last emitted; undefined before the first upsert. */
  emitted: { health: Health; context: string; lastBucketMs: number; reportsIpcMetrics: boolean } | undefined;
}

const FORMAT_RANK: Readonly<Record<IpcFormat, number>> = { otlp: 0, spectator: 1, istio: 2 };
const FORMAT_OF: Readonly<Record<IpcEncoding, IpcFormat>> = { 'otlp-protobuf': 'otlp', 'otlp-json': 'otlp', spectator: 'spectator', prometheus: 'istio' };

/**
 * Stage of the application layer: IPC metrics (OTLP, Spectator, Istio) in, app-level edges with
 * endpoint detail and app health out, as history buckets with replace semantics.
 *
 * Reconciliation of one edge in one bucket: its views are grouped by side and format. The client
 * side counts when there is one (of its formats, the one with the most calls: several formats
 * describing one call would count it twice); the server side counts only for calls no client
 * reported, and its endpoints are marked `serverReportedOnly`. Istio's two reports of a request are
 * the client and the server view of the same edge, so they count once.
 *
 * A node's health: a health event for it, while younger than `health.eventTtlMs`; else derived from
 * the calls it served over `health.windowMs` (the server's own view, all callers), or when it
 * reports none, from the calls its callers made to it.
 */
export class IpcIngestor implements CallSink {
  readonly counters = newIpcIngestorCounters();
  private readonly buckets = new Map<number, BucketState>();
  private readonly dirtyBuckets = new Set<BucketState>();
  private readonly apps = new Map<string, AppState>();
  private readonly dirtyApps = new Set<string>();
  private readonly appMetadata = new Map<string, AppMetadata>();
  private readonly healthEvents = new Map<string, { health: Health; atMs: number }>();
  private readonly peers: PeerNamer;
  private readonly series: CumulativeSeries;
  private readonly otlp: OtlpMetricsReader;
  private readonly spectator: SpectatorReader;
  private readonly istio: IstioReader;
  private maxEventMs = -Infinity;
  /** The closing horizon as of the last flush: every bucket it closes was closed and emitted whole then. */
  private closedThroughMs = -Infinity;
  /** When set, buckets close only up to this call time (see `limitClosing`). */
  private closingLimitMs: number | undefined;
  /** Per source, the latest call time read from it. */
  private readonly latestBySource = new Map<string, number>();
  private latestInMessage = -Infinity;
  /** Counted once per message: a labelled counter per data point would cost a string each. */
  private acceptedInMessage = 0;
  /** Where the message being read came from, when the caller tracks it. */
  private origin: MessageOrigin | undefined;
  private lastSeriesExpiryMs: number;

  constructor(
    readonly config: IpcIngestorConfig,
    private readonly clock: Clock,
  ) {
    const problems = validateIpcIngestorConfig(config);
    if (problems.length > 0) throw new Error(`invalid ipc-ingestor config: ${problems.join('; ')}`);
    this.peers = new PeerNamer(config.peers);
    this.lastSeriesExpiryMs = clock.now();
    this.series = new CumulativeSeries(config.initialCumulative, clock.now(), this.counters);
    this.otlp = new OtlpMetricsReader(this, this.series, this.counters);
    this.spectator = new SpectatorReader(this, this.counters);
    this.istio = new IstioReader(this, this.series, this.counters);
  }

  /** The encoding of a bus message or HTTP body from its content type (parameters ignored). */
  static encodingOf(contentType: string | undefined): IpcEncoding | undefined {
    const ct = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    switch (ct) {
      case ContentTypes.otlpProtobuf:
      case 'application/protobuf':
        return 'otlp-protobuf';
      case ContentTypes.otlpJson:
        return 'otlp-json';
      case ContentTypes.spectatorJsonLines:
      case 'application/x-ndjson':
        return 'spectator';
      case 'text/plain':
      case 'application/openmetrics-text':
        return 'prometheus';
      default:
        return undefined;
    }
  }

  /**
   * Reads one message. `receivedAtMs` dates Prometheus samples without a timestamp. Never throws for
   * bad input: what it cannot read comes back as rejections (one per distinct problem).
   *
   * With an `origin`, the ingestor tracks which messages of each source it would need to read again
   * to rebuild what it holds (`replayFrom`).
   */
  ingest(payload: Uint8Array, encoding: IpcEncoding, receivedAtMs: number = this.clock.now(), origin?: MessageOrigin): Rejection[] {
    const tally = new RejectionTally();
    this.acceptedInMessage = 0;
    this.latestInMessage = -Infinity;
    this.origin = origin;
    try {
      switch (encoding) {
        case 'otlp-protobuf':
          this.otlp.read(decodeMetricsRequest(payload), tally, origin);
          break;
        case 'otlp-json':
          this.otlp.read(decodeMetricsRequestJson(payload), tally, origin);
          break;
        case 'spectator':
          this.spectator.read(text(payload), tally);
          break;
        case 'prometheus':
          this.istio.read(text(payload), receivedAtMs, tally, origin);
          break;
      }
    } catch (e) {
      if (!(e instanceof OtlpFormatError)) throw e;
      this.counters.inc('data_points_rejected', 1, 'malformed');
      return [{ reason: 'malformed', message: e.message, raw: payload }];
    } finally {
      if (origin !== undefined && this.latestInMessage > (this.latestBySource.get(origin.source) ?? -Infinity)) this.latestBySource.set(origin.source, this.latestInMessage);
      this.origin = undefined;
      if (this.acceptedInMessage > 0) this.counters.inc('data_points_accepted', this.acceptedInMessage, FORMAT_OF[encoding]);
    }
    return tally.rejections(payload);
  }

  /**
   * The offset of the oldest message of `source` that a restart would have to read again to
   * rebuild what this ingestor holds in memory, or undefined when it needs none: the messages of
   * every bucket still open (it is rewritten whole, so it must be rebuilt whole), the baselines of
   * their cumulative increases, and the latest point of every cumulative series still known (the
   * next point's increase is taken from it).
   */
  replayFrom(source: string): number | undefined {
    let oldest = this.series.oldestLatest(source);
    for (const bucket of this.buckets.values()) {
      const needed = bucket.needs.get(source);
      if (needed !== undefined && (oldest === undefined || needed < oldest)) oldest = needed;
    }
    return oldest;
  }

  /** `replayFrom` of every source that needs a message read again. */
  replayPoints(): Map<string, number> {
    const points = new Map<string, number>();
    const keep = (source: string, offset: number) => {
      const known = points.get(source);
      if (known === undefined || offset < known) points.set(source, offset);
    };
    for (const bucket of this.buckets.values()) for (const [source, offset] of bucket.needs) keep(source, offset);
    for (const [source, offset] of this.series.oldestLatestBySource()) keep(source, offset);
    return points;
  }

  /**
   * What a checkpoint must carry for `resume`, as of the last flush: the buckets closed then were
   * emitted whole by it (a caller that persists each flush's output before committing may commit it).
   */
  checkpointState(): IpcResumeState {
    const state: IpcResumeState = { observingSinceMs: this.series.observingSince };
    if (Number.isFinite(this.closedThroughMs)) state.latestCallMs = this.closedThroughMs;
    return state;
  }

  /**
   * Takes up the state of a checkpoint before reading again from it: buckets the earlier ingestor
   * had closed are not opened again (re-read samples of theirs are skipped, as they were written
   * whole), and cumulative series are judged against the earlier start of observation.
   */
  resume(state: IpcResumeState): void {
    if (state.latestCallMs !== undefined && state.latestCallMs > this.maxEventMs) {
      this.maxEventMs = state.latestCallMs;
      this.closedThroughMs = state.latestCallMs;
    }
    if (state.observingSinceMs !== undefined) this.series.resumeObservingSince(state.observingSinceMs);
  }

  /**
   * Lets buckets close (and calls be too late) only up to `limitMs` of call time, not up to the
   * latest call time seen, until called again with undefined; never below what the resumed checkpoint
   * had closed. While a restart reads its sources again, one that caught up reads new calls while
   * another still reads old ones: the caller limits closing to the call time the slowest has reached,
   * so new calls do not close a bucket whose old calls are yet to be read again.
   */
  limitClosing(limitMs: number | undefined): void {
    this.closingLimitMs = limitMs;
  }

  /** The latest call time read from a source (tracked with message origins). */
  latestCallOf(source: string): number | undefined {
    return this.latestBySource.get(source);
  }

  /** Call time up to which buckets close: the latest seen, or the limit, never below what is closed. */
  private closingHorizon(): number {
    const limit = this.closingLimitMs;
    if (limit === undefined) return this.maxEventMs;
    return Math.max(this.closedThroughMs, Math.min(this.maxEventMs, limit));
  }

  /** Stops tracking a source that another reader took over. */
  forgetSource(source: string): void {
    this.series.forgetSource(source);
    this.latestBySource.delete(source);
    for (const bucket of this.buckets.values()) bucket.needs.delete(source);
  }

  /** Adds one sample; see `CallSink`. */
  accept(s: CallSample): DeadLetterReason | undefined {
    if (!(s.calls >= 0 && s.calls < Infinity) || !(s.latencyBucketCount >= 0)) return 'invalid-value';
    if (s.reporter.length === 0 || WHITESPACE.test(s.reporter)) return 'invalid-value';
    if (!(s.timeMs > 0 && s.timeMs < Infinity) || s.startMs > s.timeMs) return 'invalid-time';
    if (s.timeMs > this.clock.now() + this.config.maxFutureMs) return 'invalid-time';
    const { bucketMs } = this.config;
    const eventMs = s.timeMs > s.startMs ? s.timeMs - 1 : s.timeMs;
    const bucketStart = Math.floor(eventMs / bucketMs) * bucketMs;
    const origin = this.origin;
    if (bucketStart + bucketMs + this.config.allowedLatenessMs < this.closingHorizon()) {
      if (origin === undefined || !origin.replayed) return 'too-late';
      // Read again after a restart: the bucket was closed, and written whole, before the checkpoint.
      this.counters.inc('replayed_points_of_closed_buckets');
      return undefined;
    }
    if (s.timeMs > this.maxEventMs) this.maxEventMs = s.timeMs;
    if (s.timeMs > this.latestInMessage) this.latestInMessage = s.timeMs;

    let bucket = this.buckets.get(bucketStart);
    if (bucket === undefined) {
      bucket = new BucketState(bucketStart);
      this.buckets.set(bucketStart, bucket);
    }
    if (origin !== undefined) {
      bucket.need(origin.source, origin.offset);
      if (s.baselineSource !== undefined) bucket.need(s.baselineSource, s.baselineOffset);
    }
    const firstMs = Math.max(s.startMs, bucketStart);
    const lastMs = Math.min(s.timeMs, bucketStart + bucketMs - 1);
    if (s.side === 'server') {
      const key = `${s.format}\u0001${s.reporter}`;
      let served = bucket.served.get(key);
      if (served === undefined) {
        served = { format: s.format, reporter: s.reporter, totals: new CallTotals() };
        bucket.served.set(key, served);
      }
      served.totals.add(s);
    }
    const peer = s.peer;
    const naming = s.peerNaming;
    if (peer === undefined || naming === undefined || (naming === 'host' && isAddressLiteral(normaliseHost(peer)))) {
      this.counters.inc('calls_without_named_peer');
    } else {
      const key = `${s.format}\u0001${s.side}\u0001${s.reporter}\u0001${naming}\u0001${peer}`;
      let view = bucket.views.get(key);
      if (view === undefined) {
        view = new CallView(s.format, s.side, s.reporter, naming, peer);
        bucket.views.set(key, view);
      }
      view.add(s, firstMs, lastMs);
    }
    this.dirtyBuckets.add(bucket);
    this.touchReporter(s.reporter, firstMs, lastMs);
    this.acceptedInMessage++;
    return undefined;
  }

  /** Applies a metadata event: app context, health events, names of external services. */
  applyMetadata(event: MetadataEvent): void {
    if ('app' in event) {
      this.appMetadata.set(event.app.app, event.app);
      if (this.apps.has(event.app.app)) this.dirtyApps.add(event.app.app);
      this.counters.inc('metadata_applied', 1, 'app');
    } else if ('health' in event) {
      const h = event.health;
      const known = this.healthEvents.get(h.nodeId);
      if (!(HEALTH_STATES as readonly string[]).includes(h.health) || (known !== undefined && known.atMs > h.atMs)) return;
      this.healthEvents.set(h.nodeId, { health: h.health, atMs: h.atMs });
      if (isNodeId(h.nodeId)) {
        const { kind, name } = parseNodeId(h.nodeId);
        if (kind === 'app' && this.apps.has(name)) this.dirtyApps.add(name);
      }
      this.counters.inc('metadata_applied', 1, 'health');
    } else if ('externalRange' in event) {
      // A name that was an app may now be an external service: every held bucket is recomputed.
      if (this.peers.addExternalName(event.externalRange.name)) {
        for (const b of this.buckets.values()) {
          b.refold = true;
          this.dirtyBuckets.add(b);
        }
      }
      this.counters.inc('metadata_applied', 1, 'external-range');
    }
  }

  /** Edge buckets and nodes changed since the last flush. */
  flush(): IpcIngestorOutput {
    const out: IpcIngestorOutput = { nodes: [], buckets: [], withdrawn: [] };
    const touched = new Set<string>(this.dirtyApps);
    this.dirtyApps.clear();
    for (const bucket of this.dirtyBuckets) this.flushBucket(bucket, out, touched);
    this.dirtyBuckets.clear();
    for (const app of touched) this.flushApp(app, out);
    const horizon = this.closingHorizon();
    this.closeBuckets(horizon);
    if (horizon > this.closedThroughMs) this.closedThroughMs = horizon;
    const now = this.clock.now();
    if (now - this.lastSeriesExpiryMs >= 60_000 && Number.isFinite(this.maxEventMs)) {
      this.lastSeriesExpiryMs = now;
      this.series.expire(this.maxEventMs - this.config.seriesTtlMs);
    }
    return out;
  }

  /** Buckets held in memory (open for late calls). */
  get openBuckets(): number {
    return this.buckets.size;
  }

  /**
   * An app whose own data point was accepted. It is upserted on the next flush even when the point
   * makes no edge (its peer is unnamed or an address): coverage learns from the node that it reports.
   */
  private touchReporter(app: string, firstMs: number, lastMs: number): void {
    const state = this.apps.get(app);
    if (state === undefined) {
      this.apps.set(app, { firstSeenMs: firstMs, lastSeenMs: lastMs, reportsIpcMetrics: true, emitted: undefined });
      this.dirtyApps.add(app);
      return;
    }
    let changed = !state.reportsIpcMetrics;
    state.reportsIpcMetrics = true;
    if (firstMs < state.firstSeenMs) {
      state.firstSeenMs = firstMs;
      changed = true;
    }
    if (lastMs > state.lastSeenMs) {
      state.lastSeenMs = lastMs;
      changed = true;
    }
    if (changed) this.dirtyApps.add(app);
  }

  private endsOf(view: CallView): { src: NodeId; dst: NodeId } | undefined {
    const self = nodeId('app', view.reporter);
    const other = this.peers.resolve(view.peerNaming, view.peer);
    if (other === undefined) return undefined;
    return view.side === 'client' ? { src: self, dst: other } : { src: other, dst: self };
  }

  private flushBucket(bucket: BucketState, out: IpcIngestorOutput, touched: Set<string>): void {
    const groups = new Map<string, { src: NodeId; dst: NodeId; views: CallView[]; dirty: boolean }>();
    for (const view of bucket.views.values()) {
      if (view.edge === undefined || bucket.refold) {
        const ends = this.endsOf(view);
        view.edge = ends === undefined ? null : { key: `${ends.src} ${ends.dst}`, src: ends.src, dst: ends.dst };
      }
      const edge = view.edge;
      if (edge === null) continue;
      const group = groups.get(edge.key);
      if (group) {
        group.views.push(view);
        group.dirty ||= view.dirty;
      } else {
        groups.set(edge.key, { src: edge.src, dst: edge.dst, views: [view], dirty: view.dirty });
      }
    }
    // Servers whose metrics name no caller still report the calls their instrumented callers describe.
    const reporting = new Set<string>();
    for (const s of bucket.served.values()) reporting.add(s.reporter);
    const emitted = new Map<string, EmittedEdge>();
    const inbound = new Map<string, CallSignal>();
    for (const [key, group] of groups) {
      const previous = bucket.emitted.get(key);
      const dst = parseNodeId(group.dst);
      const serverReports = dst.kind === 'app' && reporting.has(dst.name);
      if (previous !== undefined && !group.dirty && !bucket.refold && previous.views === group.views.length && previous.serverReports === serverReports) {
        // Nothing it is folded from changed: its payload, as emitted, still stands.
        emitted.set(key, previous);
        if (dst.kind === 'app') inbound.set(dst.name, addSignal(inbound.get(dst.name), previous.props));
        continue;
      }
      const folded = this.fold(group.views, serverReports);
      emitted.set(key, { src: group.src, dst: group.dst, props: folded.props, views: group.views.length, choice: folded.choice, serverReports });
      // New calls in the counted views change the payload; new calls in views set aside do not.
      const changed =
        previous === undefined ||
        folded.chosenDirty ||
        previous.choice !== folded.choice ||
        previous.serverReports !== serverReports ||
        (bucket.refold && !samePayload(previous.props, folded.props));
      if (changed) {
        out.buckets.push({
          src: group.src,
          dst: group.dst,
          granularity: 'app',
          bucketStartMs: bucket.startMs,
          firstSeenMs: folded.firstSeenMs,
          lastSeenMs: folded.lastSeenMs,
          props: folded.props,
        });
        this.counters.inc('buckets_written');
      }
      for (const end of [group.src, group.dst]) {
        const { kind, name } = parseNodeId(end);
        if (kind !== 'app') continue;
        if (!this.apps.has(name)) this.apps.set(name, { firstSeenMs: folded.firstSeenMs, lastSeenMs: folded.lastSeenMs, reportsIpcMetrics: false, emitted: undefined });
        touched.add(name);
      }
      if (dst.kind === 'app') inbound.set(dst.name, addSignal(inbound.get(dst.name), folded.props));
    }
    for (const [key, edge] of bucket.emitted) {
      if (emitted.has(key)) continue;
      out.withdrawn.push({ src: edge.src, dst: edge.dst, granularity: 'app', bucketStartMs: bucket.startMs });
      this.counters.inc('buckets_withdrawn');
    }
    bucket.emitted = emitted;
    bucket.refold = false;
    for (const view of bucket.views.values()) view.dirty = false;

    // A server's own report covers every caller; callers' reports are the fallback for the rest.
    const served = new Map<string, { rank: number; totals: CallTotals }>();
    for (const s of bucket.served.values()) {
      const best = served.get(s.reporter);
      if (best === undefined || s.totals.calls > best.totals.calls || (s.totals.calls === best.totals.calls && FORMAT_RANK[s.format] < best.rank)) {
        served.set(s.reporter, { rank: FORMAT_RANK[s.format], totals: s.totals });
      }
      touched.add(s.reporter);
    }
    const signals = new Map<string, CallSignal>(inbound);
    for (const [app, s] of served) {
      if (s.totals.calls > 0) signals.set(app, { calls: s.totals.calls, errors: s.totals.errors, latency: s.totals.latency.isEmpty() ? undefined : s.totals.latency.toHistogram() });
    }
    bucket.signals = signals;
  }

  /**
   * The payload of one edge in one bucket from its views: see the class comment. `serverReports`:
   * the target reported calls of its own in the bucket, whether or not its metrics name callers.
   */
  private fold(views: CallView[], serverReports: boolean): { props: ApplicationEdgeProps; firstSeenMs: number; lastSeenMs: number; choice: string; chosenDirty: boolean } {
    const bySideFormat = new Map<string, { side: Side; format: IpcFormat; calls: number; views: CallView[] }>();
    for (const v of views) {
      const key = `${v.side} ${v.format}`;
      const g = bySideFormat.get(key);
      if (g) {
        g.calls += v.calls;
        g.views.push(v);
      } else {
        bySideFormat.set(key, { side: v.side, format: v.format, calls: v.calls, views: [v] });
      }
    }
    let client: { format: IpcFormat; calls: number; views: CallView[] } | undefined;
    let server: { format: IpcFormat; calls: number; views: CallView[] } | undefined;
    for (const g of bySideFormat.values()) {
      const better = (best: { format: IpcFormat; calls: number } | undefined) =>
        best === undefined || g.calls > best.calls || (g.calls === best.calls && FORMAT_RANK[g.format] < FORMAT_RANK[best.format]);
      if (g.side === 'client') {
        if (better(client)) client = g;
      } else if (better(server)) {
        server = g;
      }
    }
    const chosen = client ?? server;
    if (chosen === undefined) throw new Error('an edge group without views');
    if (client !== undefined && server !== undefined) this.counters.inc('server_views_set_aside');
    if (client === undefined) this.counters.inc('server_only_edge_buckets');
    const serverReportedOnly = client === undefined;

    const merged = new Map<string, EndpointTotals[]>();
    let firstSeenMs = Infinity;
    let lastSeenMs = -Infinity;
    for (const v of chosen.views) {
      for (const [key, e] of v.endpoints) {
        const list = merged.get(key);
        if (list) list.push(e);
        else merged.set(key, [e]);
      }
      if (v.firstSeenMs < firstSeenMs) firstSeenMs = v.firstSeenMs;
      if (v.lastSeenMs > lastSeenMs) lastSeenMs = v.lastSeenMs;
    }
    const endpoints: EndpointStats[] = [];
    let calls = 0;
    let errors = 0;
    for (const list of merged.values()) {
      const stats = endpointStats(list, serverReportedOnly);
      calls += stats.calls;
      errors += stats.errors;
      endpoints.push(stats);
    }
    endpoints.sort(compareEndpoints);
    return {
      props: server === undefined && !serverReports ? { calls, errors, endpoints } : { calls, errors, endpoints, serverReported: true },
      firstSeenMs,
      lastSeenMs,
      choice: `${serverReportedOnly ? 'server' : 'client'} ${chosen.format}`,
      chosenDirty: chosen.views.some((v) => v.dirty),
    };
  }

  private flushApp(app: string, out: IpcIngestorOutput): void {
    const state = this.apps.get(app);
    if (state === undefined) return;
    const { bucketMs, health: thresholds } = this.config;
    const lastBucketMs = Math.floor(state.lastSeenMs / bucketMs) * bucketMs;
    let signal: CallSignal = { calls: 0, errors: 0, latency: undefined };
    let held = false;
    for (let b = lastBucketMs - thresholds.windowMs + bucketMs; b <= lastBucketMs; b += bucketMs) {
      const bucket = this.buckets.get(b);
      if (bucket === undefined) continue;
      held = true;
      const s = bucket.signals.get(app);
      if (s !== undefined) signal = addCallSignal(signal, s);
    }
    // Once its buckets are closed, a node keeps the health they gave it.
    let health = held || state.emitted === undefined ? healthFromCalls(signal, thresholds) : state.emitted.health;
    const event = this.healthEvents.get(`app:${app}`);
    if (event !== undefined && event.atMs + thresholds.eventTtlMs >= state.lastSeenMs) health = event.health;
    const meta = this.appMetadata.get(app);
    const context = meta === undefined ? '' : `${meta.tier ?? ''}\u0001${meta.domain ?? ''}\u0001${meta.owner ?? ''}`;
    const previous = state.emitted;
    const { reportsIpcMetrics } = state;
    if (
      previous !== undefined &&
      previous.health === health &&
      previous.context === context &&
      previous.lastBucketMs === lastBucketMs &&
      previous.reportsIpcMetrics === reportsIpcMetrics
    ) {
      return;
    }
    state.emitted = { health, context, lastBucketMs, reportsIpcMetrics };
    const node: NodeUpsert = {
      id: nodeId('app', app),
      kind: 'app',
      granularity: 'app',
      displayName: app,
      app,
      health,
      firstSeenMs: state.firstSeenMs,
      lastSeenMs: state.lastSeenMs,
    };
    if (meta?.tier !== undefined) node.tier = meta.tier;
    if (meta?.domain !== undefined) node.domain = meta.domain;
    if (meta?.owner !== undefined) node.owner = meta.owner;
    if (reportsIpcMetrics) node.reportsIpcMetrics = true;
    out.nodes.push(node);
    this.counters.inc('nodes_written');
  }

  private closeBuckets(horizonMs: number): void {
    const { bucketMs, allowedLatenessMs } = this.config;
    for (const [start, bucket] of this.buckets) {
      if (start + bucketMs + allowedLatenessMs >= horizonMs || this.dirtyBuckets.has(bucket)) continue;
      this.buckets.delete(start);
      this.counters.inc('buckets_closed');
    }
  }
}

function samePayload(a: ApplicationEdgeProps, b: ApplicationEdgeProps): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function text(payload: Uint8Array): string {
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
}

function endpointStats(list: EndpointTotals[], serverReportedOnly: boolean): EndpointStats {
  const first = list[0] as EndpointTotals;
  let calls = 0;
  let errors = 0;
  const byStatus = new Map<string, number>();
  let latency: LatencyAccumulator | undefined;
  for (const e of list) {
    calls += e.calls;
    errors += e.errors;
    for (const [status, n] of e.errorsByStatus) byStatus.set(status, (byStatus.get(status) ?? 0) + n);
    if (!e.latency.isEmpty()) {
      if (list.length === 1) latency = e.latency;
      else (latency ??= new LatencyAccumulator()).addHistogram(e.latency.toHistogram());
    }
  }
  const errorsByStatus: Record<string, number> = {};
  for (const status of [...byStatus.keys()].sort()) errorsByStatus[status] = byStatus.get(status) as number;
  return withPercentiles({
    endpoint: first.endpoint,
    protocol: first.protocol,
    calls,
    errors,
    errorsByStatus,
    serverReportedOnly,
    ...(latency ? { latency: latency.toHistogram() } : {}),
  });
}

function addSignal(signal: CallSignal | undefined, props: ApplicationEdgeProps): CallSignal {
  let latency: LatencyHistogram | undefined = signal?.latency;
  for (const e of props.endpoints) if (e.latency) latency = latency ? mergeHistograms(latency, e.latency) : e.latency;
  return { calls: (signal?.calls ?? 0) + props.calls, errors: (signal?.errors ?? 0) + props.errors, latency };
}

function addCallSignal(a: CallSignal, b: CallSignal): CallSignal {
  const latency = a.latency && b.latency ? mergeHistograms(a.latency, b.latency) : (a.latency ?? b.latency);
  return { calls: a.calls + b.calls, errors: a.errors + b.errors, latency };
}
