import { randomBytes } from 'crypto';
import * as os from 'os';
import type { KafkaBusConfigInput, BusLogLevel } from '@topology/bus-kafka';
import { DEFAULT_FLOW_INGESTOR_CONFIG, validateFlowIngestorConfig } from '@topology/flow-ingest';
import { validateIntermediaryResolverConfig } from '@topology/intermediary';
import { validateNetworkEnricherConfig } from '@topology/enrich';
import { networkStageConfigs } from './all-in-one.config';
import type { EnvReader } from './env';
import { pipelineTopics, type PipelineTopics } from './topic-names';

/** Window settings every network stage must agree on; derive each stage's config with `networkStageConfigs`. */
export interface NetworkWindowSettings {
  /** Event-time window of stages 1 and 2, milliseconds. */
  windowMs: number;
  /** History bucket width of the store, milliseconds; a multiple of windowMs. */
  bucketMs: number;
  /** Out-of-orderness tolerated before the watermark passes, milliseconds. */
  maxOutOfOrderMs: number;
  /** How long after the watermark passes a window still accepts records, milliseconds. */
  allowedLatenessMs: number;
  /** How long a flow waits for its remote address's owner to become known, milliseconds. */
  holdBackMs: number;
}

/** Kafka consumer and producer settings of an app, from the environment. */
export interface KafkaClientSettings {
  /** Milliseconds without a heartbeat after which the broker drops a member (a killed process) and rebalances. */
  sessionTimeoutMs: number;
  /** Milliseconds members have to rejoin during a rebalance. */
  rebalanceTimeoutMs: number;
  /** Milliseconds between heartbeats. */
  heartbeatIntervalMs: number;
  /** Milliseconds a fetch waits for data before returning empty; bounds the latency a quiet topic adds. */
  maxWaitTimeMs: number;
  /**
   * Partitions whose batches are handled at the same time. A handler returns only after the next
   * flush, so every partition in flight waits for the same flush: with at least as many as the
   * member holds, all its partitions advance together, one batch per flush.
   */
  partitionsConsumedConcurrently: number;
  /**
   * Bytes fetched per partition at a time; bounds the batch a handler receives. While a stage
   * catches up a backlog, partitions advance in event time one batch at a time: the event time one
   * batch spans must stay well below the allowed lateness, or flows held back for an owner whose
   * evidence is in another partition find their window closed.
   */
  maxBytesPerPartition: number;
  /** Copies of each topic partition the app creates. */
  replicationFactor: number;
  /** Least severe level of Kafka client logs. */
  logLevel: BusLogLevel;
}

/** What every stage app reads from the environment. */
export interface StageAppConfig {
  /** The stage's name: the default consumer group, metric prefix, service name. */
  stage: string;
  /** Unique per process start; names this instance's broadcast groups and Kafka client. */
  instanceId: string;
  /** Bootstrap brokers of the cluster holding the pipeline topics (`host:port`). */
  brokers: string[];
  /** Put in front of every topic name; '' uses the contract's names. */
  topicPrefix: string;
  /** The topic names, with the prefix. */
  topics: PipelineTopics;
  /** Partitions of the pipeline topics the app creates when missing. */
  partitions: number;
  /** Consumer group of the stage's main input, shared by all its instances. */
  groupId: string;
  kafka: KafkaClientSettings;
  /** Listen address of probes and metrics, `host:port`. */
  httpAddress: string;
  /** Milliseconds between stage flushes; bounds freshness. */
  flushIntervalMs: number;
  /** Records waiting for a flush that trigger one early. */
  maxPendingRecords: number;
  network: NetworkWindowSettings;
  /** Export the app's own traces over OTLP (`OTEL_EXPORTER_OTLP_ENDPOINT`). */
  tracing: boolean;
  /** `/healthz` fails when no flush completed for this long, milliseconds. */
  flushStallMs: number;
}

const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;

/**
 * Reads the settings common to the stage apps. Problems go to the reader, so an app reports every
 * wrong value at once. Variables: TOPOLOGY_KAFKA_BROKERS, TOPOLOGY_TOPIC_PREFIX,
 * TOPOLOGY_TOPIC_PARTITIONS, TOPOLOGY_GROUP_ID, TOPOLOGY_INSTANCE_ID, TOPOLOGY_HTTP_ADDRESS,
 * TOPOLOGY_FLUSH_INTERVAL_MS, the window settings of the all-in-one, TOPOLOGY_KAFKA_* client
 * settings, TOPOLOGY_TRACING.
 */
export function readStageAppConfig(r: EnvReader, stage: string, defaultHttpAddress: string): StageAppConfig {
  const topicPrefix = r.name('TOPOLOGY_TOPIC_PREFIX', '', { allowEmpty: true });
  const config: StageAppConfig = {
    stage,
    instanceId: r.name('TOPOLOGY_INSTANCE_ID', `${os.hostname().replace(/[^A-Za-z0-9._-]/g, '-')}-${process.pid}-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`),
    brokers: r.brokers('TOPOLOGY_KAFKA_BROKERS', ['127.0.0.1:19092']),
    topicPrefix,
    topics: pipelineTopics(topicPrefix),
    partitions: r.int('TOPOLOGY_TOPIC_PARTITIONS', 8, { min: 1, max: 10_000 }),
    groupId: r.name('TOPOLOGY_GROUP_ID', `${topicPrefix}${stage}`),
    kafka: {
      sessionTimeoutMs: r.int('TOPOLOGY_KAFKA_SESSION_TIMEOUT_MS', 30_000, { min: 1_000 }),
      rebalanceTimeoutMs: r.int('TOPOLOGY_KAFKA_REBALANCE_TIMEOUT_MS', 60_000, { min: 1_000 }),
      heartbeatIntervalMs: r.int('TOPOLOGY_KAFKA_HEARTBEAT_INTERVAL_MS', 3_000, { min: 100 }),
      maxWaitTimeMs: r.int('TOPOLOGY_KAFKA_MAX_WAIT_MS', 100, { min: 0, max: 60_000 }),
      partitionsConsumedConcurrently: r.int('TOPOLOGY_KAFKA_PARTITIONS_CONCURRENTLY', 64, { min: 1, max: 1_000 }),
      maxBytesPerPartition: r.int('TOPOLOGY_KAFKA_MAX_BYTES_PER_PARTITION', 1_048_576, { min: 1_024 }),
      replicationFactor: r.int('TOPOLOGY_TOPIC_REPLICATION', 1, { min: 1, max: 100 }),
      logLevel: r.oneOf('TOPOLOGY_KAFKA_LOG_LEVEL', LOG_LEVELS, 'warn'),
    },
    httpAddress: r.address('TOPOLOGY_HTTP_ADDRESS', defaultHttpAddress),
    flushIntervalMs: r.int('TOPOLOGY_FLUSH_INTERVAL_MS', 250, { min: 10, max: 60_000 }),
    maxPendingRecords: r.int('TOPOLOGY_MAX_PENDING_RECORDS', 20_000, { min: 1 }),
    network: {
      windowMs: r.int('TOPOLOGY_WINDOW_MS', 10_000, { min: 1_000 }),
      bucketMs: r.int('TOPOLOGY_BUCKET_MS', 60_000, { min: 1_000 }),
      maxOutOfOrderMs: r.int('TOPOLOGY_MAX_OUT_OF_ORDER_MS', DEFAULT_FLOW_INGESTOR_CONFIG.maxOutOfOrderMs),
      allowedLatenessMs: r.int('TOPOLOGY_ALLOWED_LATENESS_MS', DEFAULT_FLOW_INGESTOR_CONFIG.allowedLatenessMs),
      holdBackMs: r.int('TOPOLOGY_HOLD_BACK_MS', DEFAULT_FLOW_INGESTOR_CONFIG.holdBackMs),
    },
    tracing: r.bool('TOPOLOGY_TRACING', false),
    flushStallMs: r.int('TOPOLOGY_FLUSH_STALL_MS', 300_000, { min: 1_000 }),
  };
  return config;
}

/** Combinations of the common settings that cannot work; empty when they can. */
export function stageAppConfigProblems(c: StageAppConfig): string[] {
  const problems: string[] = [];
  const k = c.kafka;
  if (k.heartbeatIntervalMs * 3 > k.sessionTimeoutMs) {
    problems.push(`TOPOLOGY_KAFKA_HEARTBEAT_INTERVAL_MS (${k.heartbeatIntervalMs}) must be at most a third of TOPOLOGY_KAFKA_SESSION_TIMEOUT_MS (${k.sessionTimeoutMs})`);
  }
  if (k.rebalanceTimeoutMs < k.sessionTimeoutMs) {
    problems.push(`TOPOLOGY_KAFKA_REBALANCE_TIMEOUT_MS (${k.rebalanceTimeoutMs}) must be at least TOPOLOGY_KAFKA_SESSION_TIMEOUT_MS (${k.sessionTimeoutMs})`);
  }
  if (c.flushStallMs <= c.flushIntervalMs) problems.push(`TOPOLOGY_FLUSH_STALL_MS (${c.flushStallMs}) must exceed TOPOLOGY_FLUSH_INTERVAL_MS (${c.flushIntervalMs})`);
  const n = c.network;
  if (n.bucketMs % n.windowMs !== 0) problems.push(`TOPOLOGY_BUCKET_MS (${n.bucketMs}) must be a multiple of TOPOLOGY_WINDOW_MS (${n.windowMs})`);
  if (problems.length === 0) {
    const stages = networkStageConfigs(n);
    problems.push(
      ...validateFlowIngestorConfig(stages.ingestor).map((p) => `flow-ingestor: ${p}`),
      ...validateIntermediaryResolverConfig(stages.resolver).map((p) => `intermediary-resolver: ${p}`),
      ...validateNetworkEnricherConfig(stages.enricher).map((p) => `enricher: ${p}`),
    );
  }
  return problems;
}

/** Kafka client settings for one cluster of the app. */
export function kafkaClientConfig(c: StageAppConfig, brokers: string[], clientSuffix = ''): KafkaBusConfigInput {
  return {
    brokers,
    clientId: `${c.stage}-${c.instanceId}${clientSuffix}`,
    topicDefaults: { replicationFactor: c.kafka.replicationFactor },
    logLevel: c.kafka.logLevel,
    consumer: {
      sessionTimeoutMs: c.kafka.sessionTimeoutMs,
      rebalanceTimeoutMs: c.kafka.rebalanceTimeoutMs,
      heartbeatIntervalMs: c.kafka.heartbeatIntervalMs,
      maxWaitTimeMs: c.kafka.maxWaitTimeMs,
      partitionsConsumedConcurrently: c.kafka.partitionsConsumedConcurrently,
      maxBytesPerPartition: c.kafka.maxBytesPerPartition,
    },
  };
}

/**
 * The environment variable naming a region's brokers: `TOPOLOGY_KAFKA_BROKERS_<region>` with every
 * character other than a letter or digit written `_` (`us-east-1` → `TOPOLOGY_KAFKA_BROKERS_us_east_1`).
 * The upper-case form (`TOPOLOGY_KAFKA_BROKERS_US_EAST_1`) is read too.
 */
export function regionBrokersVariable(region: string): string {
  return `TOPOLOGY_KAFKA_BROKERS_${region.replace(/[^A-Za-z0-9]/g, '_')}`;
}
