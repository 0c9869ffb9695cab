import type { TopicSpec } from '@topology/bus';
import { Topics, deadLetterTopic } from '@topology/contracts';

/** The topic names a deployment uses: the contract's names, behind an optional common prefix. */
export type PipelineTopics = { readonly [K in keyof typeof Topics]: string };

/**
 * The pipeline's topic names with `prefix` in front of each, so that several pipelines (or test
 * runs) can share one Kafka cluster. An empty prefix gives the contract's names unchanged.
 */
export function pipelineTopics(prefix = ''): PipelineTopics {
  const named = {} as Record<keyof typeof Topics, string>;
  for (const key of Object.keys(Topics) as (keyof typeof Topics)[]) named[key] = `${prefix}${Topics[key]}`;
  return named;
}

export const DEFAULT_TOPICS: PipelineTopics = pipelineTopics();

/**
 * The topics of the network pipeline with their partition counts. Metadata has one partition:
 * its events are JSON-lines chunks without a key, and one partition keeps them in publishing order.
 * Dead-letter topics are small and need no spreading.
 */
export function networkTopicSpecs(topics: PipelineTopics, partitions: number): TopicSpec[] {
  const specs: TopicSpec[] = [
    { topic: topics.metadata, partitions: 1 },
    { topic: topics.ownership, partitions },
    { topic: topics.flowsPartial, partitions },
    { topic: topics.edgesResolved, partitions },
    ...flowInputTopicSpecs(topics, partitions),
  ];
  for (const topic of [topics.metadata, topics.ownership, topics.flowsPartial, topics.edgesResolved, topics.flowsCanonical, topics.flowsVpc, topics.flowsHubble]) {
    specs.push({ topic: deadLetterTopic(topic), partitions: 1 });
  }
  return specs;
}

/**
 * The input topics of the application and request layers, with their dead-letter topics. The
 * Collector's Kafka exporter writes `otlp_metrics` and `otlp_spans` without a key (partitioned
 * round-robin), so an ingestor sees both views of an edge only when one instance reads all
 * partitions; `ipc.metrics.v1` and `spans.zipkin.v1` are keyed by reporting service.
 */
export function signalTopicSpecs(topics: PipelineTopics, partitions: number): TopicSpec[] {
  const inputs = [topics.otlpMetrics, topics.ipcMetrics, topics.otlpSpans, topics.spansZipkin];
  return [...inputs.map((topic) => ({ topic, partitions })), ...inputs.map((topic) => ({ topic: deadLetterTopic(topic), partitions: 1 }))];
}

/** Every topic of the pipeline: the network stages' and the application and request layers' inputs. */
export function pipelineTopicSpecs(topics: PipelineTopics, partitions: number): TopicSpec[] {
  return [...networkTopicSpecs(topics, partitions), ...signalTopicSpecs(topics, partitions)];
}

/** The raw flow topics exporters write to, on every regional cluster. */
export function flowInputTopicSpecs(topics: PipelineTopics, partitions: number): TopicSpec[] {
  return [
    { topic: topics.flowsCanonical, partitions },
    { topic: topics.flowsVpc, partitions },
    { topic: topics.flowsHubble, partitions },
  ];
}
