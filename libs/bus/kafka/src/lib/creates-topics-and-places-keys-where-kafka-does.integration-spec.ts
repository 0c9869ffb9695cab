import { ConfigResourceTypes, Kafka, logLevel, type Admin } from 'kafkajs';
import { partitionForKey } from '@topology/bus';
import { bytes, ReceivedMessages, text } from '@topology/bus-in-process';
import { KafkaBus } from './kafka-bus';
import { deleteTopicsStartingWith, describeWithKafka, fastTestConfig, testBrokers, uniqueRunPrefix } from './kafka-test-support';

describeWithKafka('KafkaBus creates topics and places keys where Kafka does', () => {
  const brokers = testBrokers ?? [];
  const prefix = uniqueRunPrefix('topics');
  let admin: Admin;
  let bus: KafkaBus;

  beforeAll(async () => {
    admin = new Kafka({ brokers, clientId: 'bus-integration-inspect', logLevel: logLevel.ERROR }).admin();
    await admin.connect();
  });
  beforeEach(() => {
    bus = new KafkaBus(fastTestConfig(brokers));
  });
  afterEach(() => bus.close());
  afterAll(async () => {
    await admin.disconnect();
    await deleteTopicsStartingWith(brokers, prefix);
  });

  async function cleanupPolicy(topic: string): Promise<string | undefined> {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
    });
    return described.resources[0].configEntries.find((entry) => entry.configName === 'cleanup.policy')?.configValue;
  }

  it('creates the missing topics with their partitions and compaction, and leaves existing ones as they are', async () => {
    const events = `${prefix}.metadata-events`;
    const partials = `${prefix}.flow-partials`;
    await bus.ensureTopics([
      { topic: events, partitions: 3, compacted: true },
      { topic: partials, partitions: 5 },
    ]);
    await bus.ensureTopics([{ topic: partials, partitions: 9 }]);

    const metadata = await admin.fetchTopicMetadata({ topics: [events, partials] });
    const partitions = Object.fromEntries(metadata.topics.map((t) => [t.name, t.partitions.length]));
    expect(partitions).toEqual({ [events]: 3, [partials]: 5 });
    expect(await cleanupPolicy(events)).toBe('compact');
    expect(await cleanupPolicy(partials)).toBe('delete');
  });

  it('puts each keyed message on the partition partitionForKey names, as counted by the broker', async () => {
    const topic = `${prefix}.placement`;
    await bus.ensureTopics([{ topic, partitions: 7 }]);
    const keys = Array.from({ length: 300 }, (_, i) => `app:svc-${i}->cluster:db-${i % 13}`);
    await bus.publish(
      topic,
      keys.map((key) => ({ key, value: bytes(key) })),
    );

    const expected = new Array<number>(7).fill(0);
    for (const key of keys) expected[partitionForKey(key, 7)]++;
    const offsets = await admin.fetchTopicOffsets(topic);
    const actual = new Array<number>(7).fill(0);
    for (const partition of offsets) actual[partition.partition] = Number(partition.high) - Number(partition.low);
    expect(actual).toEqual(expected);
  });

  it('splits a publish larger than one request and keeps its order', async () => {
    const small = new KafkaBus({ ...fastTestConfig(brokers), maxRequestBytes: 4_096 });
    try {
      const topic = `${prefix}.split`;
      await small.ensureTopics([{ topic, partitions: 1 }]);
      const values = Array.from({ length: 60 }, (_, i) => `${i}:${'x'.repeat(500)}`);
      await Promise.all([
        small.publish(
          topic,
          values.slice(0, 40).map((value) => ({ key: 'k', value: bytes(value) })),
        ),
        small.publish(
          topic,
          values.slice(40).map((value) => ({ key: 'k', value: bytes(value) })),
        ),
      ]);
      const got = new ReceivedMessages(30_000);
      const subscription = await small.subscribe({ topics: [topic], groupId: `${prefix}.split-reader`, handler: got.handler });
      await got.untilCount(60);
      await subscription.close();

      expect(got.texts()).toEqual(values);
      expect(small.counters.get('messages_published', topic)).toBe(60);
      expect(got.batches.length).toBeGreaterThanOrEqual(1);
      expect(got.messages.map((m) => Number(text(m).split(':')[0]))).toEqual(values.map((_, i) => i));
    } finally {
      await small.close();
    }
  });
});
