import { defaultKafkaBusConfig, resolveKafkaBusConfig } from './kafka-bus-config';

describe('resolveKafkaBusConfig', () => {
  it('fills every default: replication 1, no compression, acks -1, idempotent with one request in flight', () => {
    const config = resolveKafkaBusConfig({ brokers: ['127.0.0.1:19092'], consumer: { maxWaitTimeMs: 100 } });

    expect(config).toMatchObject({
      brokers: ['127.0.0.1:19092'],
      topicDefaults: { replicationFactor: 1 },
      compression: 'none',
      acks: -1,
      idempotent: true,
      maxInFlightRequests: 1,
      logLevel: 'warn',
    });
    expect(config.consumer).toEqual({ ...defaultKafkaBusConfig.consumer, maxWaitTimeMs: 100 });
  });

  it.each([
    [{ brokers: [] }, 'brokers must name at least one host:port'],
    [{ brokers: ['kafka'] }, 'broker "kafka" is not host:port'],
    [{ brokers: ['k:9092'], acks: 1 as const }, 'an idempotent producer needs acks -1'],
    [{ brokers: ['k:9092'], maxInFlightRequests: 5 }, 'needs maxInFlightRequests 1'],
    [{ brokers: ['k:9092'], publishRetries: 0 }, 'needs publishRetries of at least 1'],
    [{ brokers: ['k:9092'], consumer: { heartbeatIntervalMs: 20_000 } }, 'at most a third of sessionTimeoutMs'],
    [{ brokers: ['k:9092'], topics: { t: { replicationFactor: 0 } } }, 'replicationFactor must be a positive integer'],
  ])('rejects %j', (input, problem) => {
    expect(() => resolveKafkaBusConfig(input)).toThrow(problem);
  });

  it('accepts more requests in flight once the producer is not idempotent', () => {
    expect(resolveKafkaBusConfig({ brokers: ['k:9092'], idempotent: false, acks: 1, maxInFlightRequests: 5 }).maxInFlightRequests).toBe(5);
  });
});
