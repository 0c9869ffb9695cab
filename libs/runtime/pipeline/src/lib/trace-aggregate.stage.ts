import type { BusMessage, Subscription } from '@topology/bus';
import { ContentTypes, Headers, Topics, type Rejection } from '@topology/contracts';
import { StoreError } from '@topology/model';
import { SpanDecoder, TraceAggregator, type RequestLayerWriter, type TraceAggregatorConfig, type TraceAggregatorOutput } from '@topology/trace-aggregate';
import { exportCounterSet } from './metrics';
import { StageRunner, type StageRunnerOptions } from './stage-runner';

export interface TraceAggregateStageOptions extends StageRunnerOptions {
  aggregator: TraceAggregatorConfig;
  store: RequestLayerWriter;
  /**
   * Names this writer in the scopes of its edge totals (`<writerId>/<topic>/<partition>`). Totals of
   * one scope replace each other, so a writer that re-reads its input after a crash must keep its
   * id; one that starts empty and cannot re-read (the in-process bus) must take a new one, or its
   * first totals would replace what it wrote before.
   */
  writerId: string;
  groupId?: string;
  /** Spans per span-index insert. */
  maxSpansPerInsert?: number;
}

/**
 * The trace-aggregator on the bus: OTLP traces (`otlp_spans`, the Collector Kafka exporter's
 * default topic, protobuf ExportTraceServiceRequest) and Zipkin v2 JSON (`spans.zipkin.v1`) in;
 * request-layer edge totals, nodes and the span index written to the store on every flush.
 */
export class TraceAggregateStage extends StageRunner {
  readonly aggregator: TraceAggregator;
  readonly decoder = new SpanDecoder();
  private settleOnNextFlush = false;
  /** Outputs not yet written whole: a failed write is retried first on the next flush. */
  private readonly unwritten: TraceAggregatorOutput[] = [];

  constructor(private readonly o: TraceAggregateStageOptions) {
    super('trace-aggregator', o);
    this.aggregator = new TraceAggregator(o.aggregator, o.clock);
    exportCounterSet(o.registry, 'topology_trace_aggregator', this.aggregator.counters);
    exportCounterSet(o.registry, 'topology_span_decoder', this.decoder.counters);
  }

  /** Pairs every waiting trace now, whatever its wait, and writes the result (drain, shutdown, tests). */
  async settle(): Promise<void> {
    this.settleOnNextFlush = true;
    await this.flushNow();
  }

  protected async subscribe(): Promise<Subscription[]> {
    return [
      await this.o.bus.subscribe({
        topics: [Topics.otlpSpans, Topics.spansZipkin],
        groupId: this.o.groupId ?? 'trace-aggregator',
        fromBeginning: true,
        handler: this.batchHandler((m) => this.onSpans(m)),
      }),
    ];
  }

  private onSpans(message: BusMessage): Rejection[] {
    const { spans, rejections } = this.decode(message);
    if (spans.length > 0) this.aggregator.accept(spans, `${this.o.writerId}/${message.topic}/${message.partition}`);
    return rejections;
  }

  private decode(message: BusMessage): ReturnType<SpanDecoder['otlpProtobuf']> {
    const contentType = (message.headers[Headers.contentType] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (message.topic === Topics.spansZipkin) return this.decoder.zipkinJson(message.value);
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
    if (nodes.length > 0) await this.storeWrite(() => this.o.store.writeNodes(nodes));
    if (buckets.length > 0) await this.storeWrite(() => this.o.store.writeEdgeBuckets(buckets));
  }

  private async storeWrite(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (e) {
      if (!(e instanceof StoreError) || e.code !== 'invalid-record') throw e;
      // The store wrote the valid rest; the refused rows are dead letters, not a reason to retry.
      await this.deadLetters.publish(
        { topic: Topics.otlpSpans, partition: -1, offset: '' },
        e.rejected.map((r) => ({ reason: 'rejected' as const, message: e.message, raw: JSON.stringify(r) })),
      );
    }
  }
}
