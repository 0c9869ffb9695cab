/**
 * Every topic of the pipeline, named `<domain>.<record>.v<N>`; dead letters add `.dlq`.
 * The value says what is on the topic and how it is keyed.
 */
export const Topics = {
  /** Canonical flow records from host exporters: JSON lines or a protobuf FlowRecordBatch (header content-type). Keyed by exporting host. */
  flowsCanonical: 'flows.canonical.v1',
  /** AWS VPC flow log lines; header `vpc-format` carries a custom format string (default: v2). Keyed by interface or log stream. */
  flowsVpc: 'flows.vpc.v1',
  /** Cilium Hubble flows, `hubble observe -o json` lines. Keyed by node. */
  flowsHubble: 'flows.hubble.v1',
  /** Metadata events (IP assignments, listeners, app metadata, health, external ranges). Keyed by subject. */
  metadata: 'metadata.events.v1',
  /** Learned IP ownership ranges, read whole by every flow-ingestor instance. Keyed by IP. */
  ownership: 'ownership.ip.v1',
  /** Stage 1 → 2: FlowPartialSnapshot, keyed by intermediary id, or by edge key for direct traffic. */
  flowsPartial: 'flows.partial.v1',
  /** Stage 2 → 3: EdgeContribution, keyed by the app-level edge key, so one enricher instance folds every cluster edge of an app edge. */
  edgesResolved: 'edges.resolved.v1',
  /**
   * OTLP metrics (ExportMetricsServiceRequest, protobuf): the OpenTelemetry Collector Kafka
   * exporter's default topic and encoding, accepted as is; the all-in-one's OTLP receivers publish here.
   */
  otlpMetrics: 'otlp_metrics',
  /** OTLP traces (ExportTraceServiceRequest, protobuf): the Collector Kafka exporter's default, as is. */
  otlpSpans: 'otlp_spans',
  /** Other IPC metric formats: Spectator JSON lines, Istio Prometheus text (header content-type). */
  ipcMetrics: 'ipc.metrics.v1',
  /** Zipkin v2 JSON span lists, as received on /api/v2/spans. */
  spansZipkin: 'spans.zipkin.v1',
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];

export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

/** Values of the `content-type` header on input topics. */
export const ContentTypes = {
  flowJsonLines: 'application/x-flow+jsonl',
  flowProtobuf: 'application/x-flow+protobuf',
  vpcText: 'text/x-vpc-flow-log',
  hubbleJsonLines: 'application/x-hubble+jsonl',
  metadataJsonLines: 'application/x-metadata+jsonl',
  metadataProtobuf: 'application/x-metadata+protobuf',
  otlpProtobuf: 'application/x-protobuf',
  otlpJson: 'application/json',
  spectatorJsonLines: 'application/x-spectator+jsonl',
  prometheusText: 'text/plain; version=0.0.4',
  zipkinJson: 'application/json',
} as const;

export const Headers = {
  contentType: 'content-type',
  vpcFormat: 'vpc-format',
  /** Region of the Kafka cluster a record came from, set by the flow-ingestor. */
  region: 'region',
} as const;
