import { ConfigError } from '@topology/runtime-pipeline';
import { loadFlowIngestorConfig } from './flow-ingestor.config';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadFlowIngestorConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('flow-ingestor configuration from the environment', () => {
  it('reads one region on the pipeline cluster by default', () => {
    const config = loadFlowIngestorConfig({});
    expect(config.regions).toEqual([{ region: 'local', brokers: ['127.0.0.1:19092'] }]);
    expect(config.groupId).toBe('flow-ingestor');
    expect(config.topics.flowsPartial).toBe('flows.partial.v1');
    expect(config.kafka.partitionsConsumedConcurrently).toBeGreaterThanOrEqual(config.partitions);
  });

  it('reads one cluster per region, named in lower or upper case', () => {
    const config = loadFlowIngestorConfig({
      TOPOLOGY_KAFKA_BROKERS: 'kafka-home:9092',
      TOPOLOGY_REGIONS: 'us-east-1, eu-west-1',
      TOPOLOGY_KAFKA_BROKERS_us_east_1: 'kafka-use1-a:9092,kafka-use1-b:9092',
      TOPOLOGY_KAFKA_BROKERS_EU_WEST_1: 'kafka-euw1:9092',
      TOPOLOGY_TOPIC_PREFIX: 'prod.',
    });
    expect(config.regions).toEqual([
      { region: 'us-east-1', brokers: ['kafka-use1-a:9092', 'kafka-use1-b:9092'] },
      { region: 'eu-west-1', brokers: ['kafka-euw1:9092'] },
    ]);
    expect(config.topics.flowsCanonical).toBe('prod.flows.canonical.v1');
    expect(config.groupId).toBe('prod.flow-ingestor');
  });

  it('reports every wrong value at once, one line each', () => {
    const problems = problemsOf({
      TOPOLOGY_KAFKA_BROKERS: 'kafka:nine',
      TOPOLOGY_TOPIC_PARTITIONS: '0',
      TOPOLOGY_REGIONS: 'us-east-1,eu/west',
      TOPOLOGY_FLUSH_INTERVAL_MS: 'soon',
      TOPOLOGY_TRACING: 'maybe',
      TOPOLOGY_KAFKA_LOG_LEVEL: 'loud',
    });
    expect(problems).toEqual([
      'TOPOLOGY_KAFKA_BROKERS="kafka:nine": "kafka:nine" is not host:port',
      'TOPOLOGY_TOPIC_PARTITIONS="0": expected an integer in [1, 10000]',
      'TOPOLOGY_KAFKA_LOG_LEVEL="loud": expected one of error, warn, info, debug',
      'TOPOLOGY_FLUSH_INTERVAL_MS="soon": expected an integer in [10, 60000]',
      'TOPOLOGY_TRACING="maybe": expected true or false',
      'TOPOLOGY_KAFKA_BROKERS_us_east_1 is not set: every region of TOPOLOGY_REGIONS needs the brokers of its cluster',
      `TOPOLOGY_REGIONS: region "eu/west" may hold only letters, digits, '.', '_' and '-'`,
    ]);
  });

  it('rejects two regions on one cluster, which would split each other’s partitions', () => {
    expect(problemsOf({ TOPOLOGY_REGIONS: 'a,b', TOPOLOGY_KAFKA_BROKERS_a: 'k:1,k:2', TOPOLOGY_KAFKA_BROKERS_b: 'k:2,k:1' })).toEqual([
      'regions a and b name the same brokers (k:1,k:2); each region needs its own cluster',
    ]);
  });

  it('rejects settings that cannot work together', () => {
    expect(problemsOf({ TOPOLOGY_KAFKA_SESSION_TIMEOUT_MS: '6000', TOPOLOGY_KAFKA_HEARTBEAT_INTERVAL_MS: '3000', TOPOLOGY_BUCKET_MS: '45000' })).toEqual([
      'TOPOLOGY_KAFKA_HEARTBEAT_INTERVAL_MS (3000) must be at most a third of TOPOLOGY_KAFKA_SESSION_TIMEOUT_MS (6000)',
      'TOPOLOGY_BUCKET_MS (45000) must be a multiple of TOPOLOGY_WINDOW_MS (10000)',
    ]);
    expect(problemsOf({ TOPOLOGY_HOLD_BACK_MS: '60000' })[0]).toMatch(/^flow-ingestor: holdBackMs \(60000\) exceeds maxOutOfOrderMs \+ allowedLatenessMs/);
  });
});
