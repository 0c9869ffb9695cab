import type { BusLogger, BusLogLevel } from './bus-logger';

/** Settings of topics that ensureTopics creates; partitions and compaction come from each TopicSpec. */
export interface TopicDefaults {
  /** Copies of each partition; 1 for a single-broker development cluster. */
  replicationFactor?: number;
  /** Extra topic configs passed as they are, e.g. `{ 'retention.ms': '86400000' }`. */
  configEntries?: Record<string, string>;
}

export interface KafkaBusConfig {
  /** Bootstrap brokers, `host:port`. */
  brokers: string[];
  /** Names this process to the brokers (logs, quotas). */
  clientId: string;
  /** Defaults of every created topic. */
  topicDefaults: TopicDefaults;
  /** Overrides per topic name, merged over `topicDefaults`. */
  topics: Record<string, TopicDefaults>;
  /** Producer batch compression; gzip is the only codec kafkajs ships. */
  compression: 'none' | 'gzip';
  /** Acknowledgement a publish waits for: -1 every in-sync replica, 1 the leader only. */
  acks: -1 | 1;
  /** Broker-side deduplication of producer retries; needs acks -1 and one request in flight. */
  idempotent: boolean;
  /** Produce requests in flight per broker connection. kafkajs's idempotent producer needs 1. */
  maxInFlightRequests: number;
  /** Bytes of message payload sent in one produce request; larger publishes are split. Below the broker's message.max.bytes. */
  maxRequestBytes: number;
  /** Milliseconds to open a broker connection. */
  connectionTimeoutMs: number;
  /** Milliseconds a broker has to answer a request. */
  requestTimeoutMs: number;
  /** Client-level retries of failed requests (connect, metadata, admin, produce when not idempotent). */
  retries: number;
  /** Milliseconds before the first client-level retry; later ones back off up to 30 s. */
  initialRetryTimeMs: number;
  /**
   * Retries of a failed produce request before publish rejects. The default never gives up, so a
   * handler that publishes waits out a broker outage instead of failing (kafkajs's idempotent
   * producer assumes this and warns when it is limited).
   */
  publishRetries: number;
  consumer: {
    /** Milliseconds without a heartbeat after which the broker drops a member and rebalances. */
    sessionTimeoutMs: number;
    /** Milliseconds members have to rejoin during a rebalance. */
    rebalanceTimeoutMs: number;
    /** Milliseconds between heartbeats; also how soon a member notices a rebalance. */
    heartbeatIntervalMs: number;
    /** Milliseconds a fetch waits for data before returning empty. */
    maxWaitTimeMs: number;
    /** Bytes fetched per partition per request; bounds the batch a handler receives. */
    maxBytesPerPartition: number;
    /** Partitions whose batches are handled at the same time (order holds within each partition). */
    partitionsConsumedConcurrently: number;
  };
  /** Milliseconds to wait before retrying a failed handler for the nth time in a row (n ≥ 1). */
  handlerRetryBackoffMs: (attempt: number) => number;
  /** Least severe level logged, by the adapter and by kafkajs. */
  logLevel: BusLogLevel;
  /** Receives every log entry at or above `logLevel`. */
  logger?: BusLogger;
}

export const defaultKafkaBusConfig: KafkaBusConfig = {
  brokers: ['127.0.0.1:19092'],
  clientId: 'topology',
  topicDefaults: { replicationFactor: 1 },
  topics: {},
  compression: 'none',
  acks: -1,
  idempotent: true,
  maxInFlightRequests: 1,
  maxRequestBytes: 900_000,
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 30_000,
  retries: 5,
  initialRetryTimeMs: 300,
  publishRetries: Number.MAX_SAFE_INTEGER,
  consumer: {
    sessionTimeoutMs: 30_000,
    rebalanceTimeoutMs: 60_000,
    heartbeatIntervalMs: 3_000,
    maxWaitTimeMs: 500,
    maxBytesPerPartition: 1_048_576,
    partitionsConsumedConcurrently: 1,
  },
  handlerRetryBackoffMs: (attempt) => Math.min(200 * 2 ** (attempt - 1), 10_000),
  logLevel: 'warn',
};

export type KafkaBusConfigInput = Partial<Omit<KafkaBusConfig, 'consumer'>> & {
  brokers: string[];
  consumer?: Partial<KafkaBusConfig['consumer']>;
};

/** Fills defaults and rejects settings that cannot work together. */
export function resolveKafkaBusConfig(input: KafkaBusConfigInput): KafkaBusConfig {
  const config: KafkaBusConfig = {
    ...defaultKafkaBusConfig,
    ...input,
    consumer: { ...defaultKafkaBusConfig.consumer, ...input.consumer },
  };
  const problems: string[] = [];
  if (config.brokers.length === 0) problems.push('brokers must name at least one host:port');
  for (const broker of config.brokers) if (!/^[^:\s]+:\d+$/.test(broker)) problems.push(`broker "${broker}" is not host:port`);
  if (config.clientId.trim() === '') problems.push('clientId must not be empty');
  if (config.idempotent && config.acks !== -1) problems.push('an idempotent producer needs acks -1');
  if (config.idempotent && config.maxInFlightRequests !== 1) {
    problems.push('an idempotent kafkajs producer needs maxInFlightRequests 1 (more reorders sequence numbers)');
  }
  if (!(config.maxInFlightRequests >= 1)) problems.push('maxInFlightRequests must be at least 1');
  if (!(config.publishRetries >= 0)) problems.push('publishRetries must be 0 or more');
  if (config.idempotent && config.publishRetries < 1) problems.push('an idempotent producer needs publishRetries of at least 1');
  if (!(config.maxRequestBytes >= 1024)) problems.push('maxRequestBytes must be at least 1024');
  const consumer = config.consumer;
  if (!(consumer.heartbeatIntervalMs > 0 && consumer.heartbeatIntervalMs * 3 <= consumer.sessionTimeoutMs)) {
    problems.push('consumer.heartbeatIntervalMs must be positive and at most a third of sessionTimeoutMs');
  }
  if (consumer.rebalanceTimeoutMs < consumer.sessionTimeoutMs) problems.push('consumer.rebalanceTimeoutMs must be at least sessionTimeoutMs');
  if (!(consumer.partitionsConsumedConcurrently >= 1)) problems.push('consumer.partitionsConsumedConcurrently must be at least 1');
  const factors = [config.topicDefaults.replicationFactor, ...Object.values(config.topics).map((t) => t.replicationFactor)];
  for (const factor of factors) if (factor !== undefined && !(Number.isInteger(factor) && factor >= 1)) problems.push('replicationFactor must be a positive integer');
  if (problems.length > 0) throw new Error(`Invalid Kafka bus config: ${problems.join('; ')}`);
  return config;
}
