import type { BusMessage, Subscription } from '@topology/bus';
import { ContentTypes, Headers, type Rejection } from '@topology/contracts';
import { SpanDecoder, TraceAggregator, type RequestLayerWriter, type TraceAggregatorConfig, type TraceAggregatorOutput } from '@topology/trace-aggregate';
import { Gauge } from 'prom-client';
import { exportCounterSet } from './metrics';
import type { PartitionCheckpoint, PartitionResume, StageInput } from './stage-input';
import { StageRunner, type InputSource, type StageRunnerOptions } from './stage-runner';

export interface TraceAggregateStageOptions extends StageRunnerOptions {
  aggregator: TraceAggregatorConfig;
  store: RequestLayerWriter;
  /**
   * Names this writer in the scopes of its edge totals (`<writerId>/<topic>/<partition>`). Totals of
   * one scope replace each other. On an input that commits checkpoints (Kafka) it must be the same
   * for every instance and start of one consumer group (the group id): whoever reads a partition
   * next, after a crash or a rebalance, rewrites that partition's totals whole. On the in-process
   * bus, which starts empty and cannot re-read, each start takes a new one, or its first totals
   * would replace what the previous start wrote.
   */
  writerId: string;
  /** Spans per span-index insert. */
  maxSpansPerInsert?: number;
}

const INPUT = 'main';

/**
 * The trace-aggregator on the bus: OTLP traces (`otlp_spans`, the Collector Kafka exporter's
 * default topic, protobuf ExportTraceServiceRequest) and Zipkin v2 JSON (`spans.zipkin.v1`) in;
 * request-layer edge totals, nodes and the span index written to the store on every flush.
 *
 * With an input that commits checkpoints, each partition's checkpoint is the oldest span whose
 * effect memory alone holds (a waiting trace, or a trace counted in a bucket still in memory, whose
 * total is rewritten whole at every change), and its metadata names the partition's buckets already
 * written whole and forgotten. A restart, or the member a partition moves to, reads from there and
 * rewrites every bucket it rebuilds with the totals an uninterrupted run would have written.
 */
export class TraceAggregateStage extends StageRunner {
  readonly aggregator: TraceAggregator;
  readonly decoder = new SpanDecoder();
  private readonly input: StageInput;
  /** Whether the input is read again from checkpoints: spans then carry their offsets into the aggregator. */
  private readonly positioned: boolean;
  /** Scope names by topic and partition, built once. */
  private readonly scopes = new Map<string, string[]>();
  private settleOnNextFlush = false;
  /** Outputs not yet written whole: a failed write is retried first on the next flush. */
  private readonly unwritten: TraceAggregatorOutput[] = [];

  constructor(private readonly o: TraceAggregateStageOptions) {
    super('trace-aggregator', o);
    // Waits run on the clock that stands still while the input is stalled: a broker outage must not cut traces in parts.
    this.aggregator = new TraceAggregator(o.aggregator, this.progressClock);
    this.input = this.defaultInput();
    this.positioned = this.input.checkpoints;
    exportCounterSet(o.registry, 'topology_trace_aggregator', this.aggregator.counters);
    exportCounterSet(o.registry, 'topology_span_decoder', this.decoder.counters);
    const aggregator = this.aggregator;
    new Gauge({
      name: 'topology_trace_aggregator_waiting_spans',
      help: 'Spans waiting in memory for the rest of their trace.',
      registers: [o.registry],
      collect() {
        this.set(aggregator.waitingSpans);
      },
    });
  }

  /**
   * Pairs every waiting trace now, whatever its wait, and writes the result (the all-in-one's drain,
   * tests). A stage on Kafka does not settle when it stops: its checkpoints keep the waiting spans
   * for whoever reads the partitions next, who pairs them whole.
   */
  async settle(): Promise<void> {
    this.settleOnNextFlush = true;
    await this.flushNow();
  }

  protected subscribe(): Promise<Subscription[]> {
    return this.subscribeSources();
  }

  protected override inputs(): InputSource[] {
    return [{ name: INPUT, input: this.input, topics: [this.topics.otlpSpans, this.topics.spansZipkin], handle: (m) => this.onSpans(m) }];
  }

  protected override checkpointOf(_source: InputSource, topic: string, partition: number, nextOffset: string): PartitionCheckpoint {
    const scope = this.scopeOf(topic, partition);
    const oldest = this.aggregator.oldestHeldPosition(scope);
    return { offset: oldest === undefined ? nextOffset : String(oldest), metadata: this.aggregator.resumeState(scope) };
  }

  protected override resumePartition(_source: InputSource, topic: string, partition: number, resume: PartitionResume): void {
    const state = resume.checkpoint?.metadata ?? '';
    if (!this.aggregator.resumeScope(this.scopeOf(topic, partition), state)) {
      this.log(`${topic}/${partition}: checkpoint metadata ${JSON.stringify(state.slice(0, 80))} is not a resume state; buckets written before may be rewritten from what is read again`);
    }
  }

  protected override forgetPartition(_source: InputSource, topic: string, partition: number): void {
    const scope = this.scopeOf(topic, partition);
    this.aggregator.forgetScope(scope);
    // The partition's next reader rewrites its totals; an older view written from here would replace them.
    for (const output of this.unwritten) output.buckets = output.buckets.filter((b) => b.scope !== scope);
  }

  private onSpans(message: BusMessage): Rejection[] {
    const { spans, rejections } = this.decode(message);
    if (spans.length > 0) this.aggregator.accept(spans, this.scopeOf(message.topic, message.partition), this.positioned ? Number(message.offset) : -1);
    return rejections;
  }

  private scopeOf(topic: string, partition: number): string {
    let byPartition = this.scopes.get(topic);
    if (byPartition === undefined) {
      byPartition = [];
      this.scopes.set(topic, byPartition);
    }
    return (byPartition[partition] ??= `${this.o.writerId}/${topic}/${partition}`);
  }

  private decode(message: BusMessage): ReturnType<SpanDecoder['otlpProtobuf']> {
    if (message.topic === this.topics.spansZipkin) return this.decoder.zipkinJson(message.value);
    const contentType = (message.headers[Headers.contentType] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    // The Collector's Kafka exporter writes protobuf without a content type; OTLP/JSON says so.
    if (contentType === ContentTypes.otlpJson) return this.decoder.otlpJson(message.value);
    return this.decoder.otlpProtobuf(message.value);
  }

  protected async flush(): Promise<void> {
    const settle = this.settleOnNextFlush;
    this.settleOnNextFlush = false;
    this.unwritten.push(settle ? this.aggregator.settle() : this.aggregator.flush());
    // Every write is idempotent, so a part written before a failure is harmlessly written again.
    while (this.unwritten.length > 0) {
      await this.write(this.unwritten[0] as TraceAggregatorOutput);
      this.unwritten.shift();
    }
  }

  private async write({ spans, nodes, buckets }: TraceAggregatorOutput): Promise<void> {
    const chunk = this.o.maxSpansPerInsert ?? 50_000;
    // Spans first: an overlay may be asked for as soon as the trace's edges show.
    for (let i = 0; i < spans.length; i += chunk) await this.o.store.indexSpans(spans.slice(i, i + chunk));
    if (nodes.length > 0) await this.writeOrDeadLetter(this.topics.otlpSpans, () => this.o.store.writeNodes(nodes));
    if (buckets.length > 0) await this.writeOrDeadLetter(this.topics.otlpSpans, () => this.o.store.writeEdgeBuckets(buckets));
  }
}
