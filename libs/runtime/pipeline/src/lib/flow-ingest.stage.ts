import type { BusMessage, Subscription } from '@topology/bus';
import { ContentTypes, FlowPartialSnapshotCodec, Headers, IpOwnershipCodec, type Rejection } from '@topology/contracts';
import { FlowIngestor, newFlowParserCounters, parserFor, type FlowIngestorConfig, type FlowParser, type ObservedFlow } from '@topology/flow-ingest';
import { Gauge } from 'prom-client';
import { exportCounterSet } from './metrics';
import { decodeMetadataMessage } from './metadata-feed';
import { ReplayLedger } from './replay-ledger';
import type { PartitionCheckpoint, PartitionResume, StageInput } from './stage-input';
import { StageRunner, partitionId, type BroadcastSource, type InputSource, type StageRunnerOptions } from './stage-runner';

/** One Kafka cluster the stage reads flow records from, and the region it stands for. */
export interface FlowRegion {
  region: string;
  input: StageInput;
}

export interface FlowIngestStageOptions extends StageRunnerOptions {
  /** Region of the records read from the default input (the bus); names their scopes. */
  region: string;
  ingestor: FlowIngestorConfig;
  /**
   * Regional clusters, one input each; records are tagged with the region of the cluster they came
   * from. By default the stage reads the default input as region `region`.
   */
  regions?: FlowRegion[];
}

/** First message of an open window in one source partition, and the event time reached before it. */
interface OpenWindow {
  windowStartMs: number;
  newestBeforeMs: number;
}

/** A point of a source partition: the offset of a message and the scope's newest event time before it. */
interface Position {
  position: number;
  newestMs: number;
}

interface HandledPosition extends Position {
  /** Processing time the position was reached. */
  atMs: number;
}

/** What a checkpoint of a flow partition carries besides its offset (JSON in the commit's metadata). */
interface FlowCheckpointState {
  /** The scope's newest flow start before the checkpoint's offset, event time. */
  newestEventMs?: number;
  /** Start of the oldest window open at the checkpoint; re-read records of older windows were already published. */
  openFromWindowStartMs?: number;
}

/**
 * Stage 1 on the bus: raw flow topics in (from one or several regional clusters), partial
 * aggregates and learned IP ownership out.
 *
 * With an input that commits checkpoints, each source partition's checkpoint is the first message
 * of its oldest open window: a restart reads every open window whole again and, told the event time
 * and oldest open window of the checkpoint, neither re-opens a window it had closed nor adds a
 * re-read record to a closed one. Its snapshots replace the ones published before it stopped.
 * A window closes only as its own partition's event time moves, so a checkpoint passes a closed
 * window only once a flush begun after the closing batch has completed, and a flush sends what an
 * earlier one left in the outbox before anything else: no checkpoint passes a window whose snapshot
 * is still unpublished.
 */
export class FlowIngestStage extends StageRunner {
  readonly ingestor: FlowIngestor;
  /** Parsers keep per-partition state (Hubble de-duplication), so there is one per source and format. */
  private readonly parsers = new Map<string, FlowParser>();
  private readonly parserCounters = newFlowParserCounters();
  private readonly regions: FlowRegion[];
  private readonly ledger: ReplayLedger<OpenWindow> | undefined;
  private readonly windowMs: number;
  private readonly nextSweepMs = new Map<string, number>();
  /** Per partition, positions handled and when, back to the newest one whose learned ownership is surely published. */
  private readonly handled = new Map<string, HandledPosition[]>();
  private readonly ownershipLagMs: number;
  /** Per partition, the first offset this process read and the event time it had then. */
  private readonly firstOffsets = new Map<string, Position>();

  constructor(private readonly o: FlowIngestStageOptions) {
    super('flow-ingestor', o);
    // Held flows wait in processing time for evidence only a running input can bring.
    this.ingestor = new FlowIngestor(o.ingestor, this.progressClock);
    this.windowMs = o.ingestor.windowMs;
    this.regions = o.regions ?? [{ region: o.region, input: this.defaultInput() }];
    if (this.regions.length === 0) throw new Error('flow-ingestor: no region to read');
    this.ledger = this.regions.some((r) => r.input.checkpoints) ? new ReplayLedger<OpenWindow>() : undefined;
    // An extended ownership range is published at most every ownershipPublishIntervalMs, on a flush.
    this.ownershipLagMs = o.ingestor.ownershipPublishIntervalMs + 2 * o.flushIntervalMs + 1_000;
    exportCounterSet(o.registry, 'topology_flow_ingestor', this.ingestor.counters);
    exportCounterSet(o.registry, 'topology_flow_parser', this.parserCounters);
    const ingestor = this.ingestor;
    new Gauge({
      name: 'topology_flow_ingestor_held_flows',
      help: 'Flows held back until the owner of an address is known.',
      registers: [o.registry],
      collect() {
        this.set(ingestor.heldCount());
      },
    });
  }

  protected subscribe(): Promise<Subscription[]> {
    return this.subscribeSources();
  }

  protected override broadcasts(): BroadcastSource[] {
    return [
      { name: 'metadata', topics: [this.topics.metadata], handle: (m) => this.onMetadata(m) },
      { name: 'ownership', topics: [this.topics.ownership], handle: (m) => this.onOwnership(m) },
    ];
  }

  protected override inputs(): InputSource[] {
    return this.regions.map(({ region, input }) => ({
      name: region,
      input,
      topics: [this.topics.flowsCanonical, this.topics.flowsVpc, this.topics.flowsHubble],
      handle: (m: BusMessage) => this.onFlows(region, m),
    }));
  }

  protected override checkpointOf(source: InputSource, topic: string, partition: number, nextOffset: string): PartitionCheckpoint {
    const scope = scopeOf(source.name, topic, partition);
    const next = Number(nextOffset);
    let resume: Position = { position: next, newestMs: this.ingestor.newestEventMs(scope) };
    if (this.ledger !== undefined) {
      const id = partitionId(source.name, topic, partition);
      const open = (w: OpenWindow) => this.ingestor.acceptsWindow(scope, w.windowStartMs);
      this.sweepNow(id, open);
      const published = this.ownershipPublishedThrough(id, resume);
      if (published.position < resume.position) resume = published;
      const oldest = this.ledger.oldest(id, open);
      if (oldest !== undefined && oldest.offset < resume.position) resume = { position: oldest.offset, newestMs: oldest.context.newestBeforeMs };
    }
    // Re-read records of windows older than the oldest still accepted were published complete; with
    // nothing to re-read, the event time still keeps a restart from taking a record of a closed window for new.
    const state: FlowCheckpointState = { newestEventMs: resume.newestMs, openFromWindowStartMs: this.acceptFloor(scope) };
    return { offset: String(resume.position), metadata: encodeCheckpointState(state) };
  }

  protected override resumePartition(source: InputSource, topic: string, partition: number, { checkpoint }: PartitionResume): void {
    if (checkpoint === undefined || checkpoint.metadata === '') return;
    const state = decodeCheckpointState(checkpoint.metadata);
    if (state === undefined) {
      this.log(`checkpoint of ${topic}/${partition} carries unreadable state ${JSON.stringify(checkpoint.metadata)}; resuming without it`);
      return;
    }
    this.ingestor.resumeScope(scopeOf(source.name, topic, partition), {
      newestEventMs: state.newestEventMs ?? Number.NEGATIVE_INFINITY,
      openFromWindowStartMs: state.openFromWindowStartMs ?? Number.NEGATIVE_INFINITY,
    });
  }

  protected override forgetPartition(source: InputSource, topic: string, partition: number): void {
    this.ingestor.forgetScope(scopeOf(source.name, topic, partition));
    const id = partitionId(source.name, topic, partition);
    this.ledger?.forget(id);
    this.nextSweepMs.delete(id);
    this.handled.delete(id);
    this.firstOffsets.delete(id);
    const prefix = `${source.name}/${topic}/${partition}/`;
    for (const key of this.parsers.keys()) if (key.startsWith(prefix)) this.parsers.delete(key);
  }

  private onMetadata(message: BusMessage): Rejection[] {
    const { events, rejections } = decodeMetadataMessage(message);
    for (const e of events) this.ingestor.applyMetadata(e);
    return rejections;
  }

  private onOwnership(message: BusMessage): Rejection[] {
    try {
      this.ingestor.applyOwnership(IpOwnershipCodec.decode(message.value));
      return [];
    } catch (e) {
      return [{ reason: 'malformed', message: `ownership range: ${e instanceof Error ? e.message : String(e)}`, raw: message.value }];
    }
  }

  private onFlows(region: string, message: BusMessage): Rejection[] {
    const parser = this.parserFor(region, message);
    if ('reason' in parser) return [{ ...parser, raw: message.value }];
    const { flows, rejections } = parser.parse(message.value);
    const scope = scopeOf(region, message.topic, message.partition);
    if (this.ledger !== undefined) {
      const id = partitionId(region, message.topic, message.partition);
      const offset = Number(message.offset);
      if (!this.firstOffsets.has(id)) this.firstOffsets.set(id, { position: offset, newestMs: this.ingestor.newestEventMs(scope) });
      this.noteWindows(id, scope, offset, flows);
    }
    const late = this.ingestor.ingest(flows, scope, arrivalOf(message, this.o.clock.now()));
    return late.length === 0 ? rejections : [...rejections, ...late];
  }

  /** Registers the message as the first of each window it opens in its partition. */
  private noteWindows(id: string, scope: string, offset: number, flows: readonly ObservedFlow[]): void {
    const ledger = this.ledger;
    if (ledger === undefined) return;
    const newestBeforeMs = this.ingestor.newestEventMs(scope);
    const windowMs = this.windowMs;
    let previous = Number.NaN;
    for (let i = 0; i < flows.length; i++) {
      const startMs = (flows[i] as ObservedFlow).startMs;
      if (!Number.isFinite(startMs)) continue;
      const windowStartMs = Math.floor(startMs / windowMs) * windowMs;
      if (windowStartMs === previous) continue;
      previous = windowStartMs;
      ledger.keepFirst(id, windowStartMs, offset, { windowStartMs, newestBeforeMs });
    }
  }

  /**
   * The offset before which every record's learned ownership is on the ownership topic. Ownership
   * learned from a record is what lets other records be attributed; a restart that skipped the
   * record would not know it unless it was published, and extensions of a range are published only
   * every ownershipPublishIntervalMs.
   */
  private ownershipPublishedThrough(id: string, now: Position): Position {
    // The ingestor's clock: ownership is published on its time, which stands still while input stalls.
    const atMs = this.progressClock.now();
    let history = this.handled.get(id);
    if (history === undefined) {
      history = [];
      this.handled.set(id, history);
    }
    history.push({ atMs, ...now });
    const ripe = atMs - this.ownershipLagMs;
    while (history.length > 1 && (history[1] as HandledPosition).atMs <= ripe) history.shift();
    const first = history[0] as HandledPosition;
    if (first.atMs <= ripe) return first;
    // Nothing handled long enough ago: stay where this process started reading the partition.
    return this.firstOffsets.get(id) ?? { position: 0, newestMs: Number.NEGATIVE_INFINITY };
  }

  /** Start of the oldest window a record of the scope would still be taken into. */
  private acceptFloor(scope: string): number {
    const newest = this.ingestor.newestEventMs(scope);
    if (!Number.isFinite(newest)) return Number.NEGATIVE_INFINITY;
    let floor = Math.floor(newest / this.windowMs) * this.windowMs;
    while (this.ingestor.acceptsWindow(scope, floor - this.windowMs)) floor -= this.windowMs;
    return floor;
  }

  /** Drops closed windows of a partition from the ledger now and then, so they do not pile up. */
  private sweepNow(id: string, open: (w: OpenWindow) => boolean): void {
    const now = this.o.clock.now();
    if (now < (this.nextSweepMs.get(id) ?? 0) || this.ledger === undefined) return;
    this.nextSweepMs.set(id, now + this.windowMs);
    this.ledger.sweep(id, open);
  }

  private parserFor(region: string, message: BusMessage): FlowParser | Rejection {
    const contentType = message.headers[Headers.contentType] ?? this.defaultContentType(message.topic) ?? '';
    const format = message.headers[Headers.vpcFormat] ?? '';
    const key = `${region}/${message.topic}/${message.partition}/${contentType}/${format}`;
    const cached = this.parsers.get(key);
    if (cached) return cached;
    const created = parserFor(contentType, message.headers, { region, clock: this.o.clock, counters: this.parserCounters });
    if (!('reason' in created)) this.parsers.set(key, created);
    return created;
  }

  private defaultContentType(topic: string): string | undefined {
    if (topic === this.topics.flowsCanonical) return ContentTypes.flowJsonLines;
    if (topic === this.topics.flowsVpc) return ContentTypes.vpcText;
    if (topic === this.topics.flowsHubble) return ContentTypes.hubbleJsonLines;
    return undefined;
  }

  protected async flush(): Promise<void> {
    const { snapshots, ownership, rejections } = this.ingestor.flush();
    const now = this.o.clock.now();
    for (const s of snapshots) this.observeFreshness(s.ingestedAtMs, now);
    await Promise.all([
      this.publish(this.topics.flowsPartial, snapshots.map((s) => ({ key: s.key, value: FlowPartialSnapshotCodec.encode(s) }))),
      this.publish(this.topics.ownership, ownership.map((o) => ({ key: o.ip, value: IpOwnershipCodec.encode(o) }))),
      this.deadLetters.publish({ topic: this.topics.flowsCanonical, partition: -1, offset: '' }, rejections),
    ]);
  }
}

/** The scope of a source partition: `<region>/<topic>/<partition>`. */
export function scopeOf(region: string, topic: string, partition: number): string {
  return `${region}/${topic}/${partition}`;
}

/**
 * When a record entered the pipeline: its publish time on the input topic, unless that lies ahead
 * of this process's clock (skew) or is missing. Freshness is measured from here.
 */
function arrivalOf(message: BusMessage, nowMs: number): number {
  const at = message.timestampMs;
  return Number.isFinite(at) && at > 0 && at <= nowMs ? at : nowMs;
}

function encodeCheckpointState(state: FlowCheckpointState): string {
  const out: Record<string, number> = {};
  if (state.newestEventMs !== undefined && Number.isFinite(state.newestEventMs)) out['newestEventMs'] = state.newestEventMs;
  if (state.openFromWindowStartMs !== undefined && Number.isFinite(state.openFromWindowStartMs)) out['openFromWindowStartMs'] = state.openFromWindowStartMs;
  return Object.keys(out).length === 0 ? '' : JSON.stringify(out);
}

function decodeCheckpointState(metadata: string): FlowCheckpointState | undefined {
  try {
    const parsed: unknown = JSON.parse(metadata);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { newestEventMs, openFromWindowStartMs } = parsed as Record<string, unknown>;
    const state: FlowCheckpointState = {};
    if (typeof newestEventMs === 'number' && Number.isFinite(newestEventMs)) state.newestEventMs = newestEventMs;
    if (typeof openFromWindowStartMs === 'number' && Number.isFinite(openFromWindowStartMs)) state.openFromWindowStartMs = openFromWindowStartMs;
    return state;
  } catch {
    return undefined;
  }
}
