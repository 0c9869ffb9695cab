import { Kafka, logLevel } from 'kafkajs';
import type { KafkaBusConfigInput } from './kafka-bus-config';

/** Brokers of the Kafka that integration tests run against (`npm run test:integration` starts one). */
export const testBrokers: string[] | undefined = process.env['KAFKA_BROKERS']?.split(',').filter((b) => b !== '');

/** `describe` when a broker is configured, else a skipped `describe` that says why. */
export function describeWithKafka(name: string, body: () => void): void {
  if (testBrokers === undefined || testBrokers.length === 0) {
    describe.skip(`${name} (skipped: KAFKA_BROKERS is not set; run \`npm run test:integration\`, which starts a local broker)`, body);
    return;
  }
  describe(name, body);
}

/** Settings that make a single local broker react in tens of milliseconds instead of seconds. */
export function fastTestConfig(brokers: string[]): KafkaBusConfigInput {
  return {
    brokers,
    clientId: 'bus-integration-test',
    // Handler retries are provoked on purpose; their warnings would only clutter the test output.
    logLevel: 'error',
    retries: 3,
    initialRetryTimeMs: 100,
    consumer: { sessionTimeoutMs: 6_000, rebalanceTimeoutMs: 6_000, heartbeatIntervalMs: 200, maxWaitTimeMs: 100 },
    handlerRetryBackoffMs: () => 50,
  };
}

export function uniqueRunPrefix(what: string): string {
  return `it-${what}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Deletes every topic whose name starts with `prefix`, so repeated runs do not fill the broker. */
export async function deleteTopicsStartingWith(brokers: string[], prefix: string): Promise<void> {
  const admin = new Kafka({ brokers, clientId: 'bus-integration-cleanup', logLevel: logLevel.ERROR }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}
