import { createServer } from 'node:net';
import {
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
  KafkaJSServerDoesNotSupportApiKey,
} from 'kafkajs';
import { KafkaBus } from './kafka-bus';
import { explainKafkaError, KafkaBusError } from './kafka-bus-error';

/** A loopback port nothing listens on: bound once by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** What kafkajs throws for an error code in a broker response. */
function protocolError(type: string, message: string): KafkaJSProtocolError {
  return new KafkaJSProtocolError(Object.assign(new Error(message), { type }));
}

describe('explainKafkaError', () => {
  const brokers = ['10.0.0.1:9092'];

  it('unwraps retries to the connection failure and says what to check', () => {
    const connection = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 10.0.0.1:9092');
    const retried = new KafkaJSNumberOfRetriesExceeded(connection, { retryCount: 5, retryTime: 3000 });
    const explained = explainKafkaError(retried, 'publishing to flows', brokers);

    expect(explained).toBeInstanceOf(KafkaBusError);
    expect(explained.code).toBe('unreachable');
    expect(explained.message).toBe(
      'Kafka publishing to flows failed: no broker could be reached; is Kafka running and are the broker addresses right? (brokers 10.0.0.1:9092): Connection error: connect ECONNREFUSED 10.0.0.1:9092',
    );
    expect(explained.cause).toBe(retried);
  });

  it.each([
    [protocolError('UNKNOWN_TOPIC_OR_PARTITION', 'This server does not host this topic-partition'), 'unknown-topic'],
    [protocolError('INVALID_REPLICATION_FACTOR', 'Replication factor is invalid'), 'invalid-topic'],
    [protocolError('TOPIC_AUTHORIZATION_FAILED', 'Not authorized to access topics'), 'not-authorized'],
    [protocolError('MESSAGE_TOO_LARGE', 'The request included a message larger than the max message size'), 'message-too-large'],
    [new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out'), 'timeout'],
    [new KafkaJSServerDoesNotSupportApiKey('The Kafka server does not support the requested API version'), 'unsupported'],
    [new Error('something else'), 'kafka'],
  ])('classifies %s', (error, code) => {
    expect(explainKafkaError(error, 'creating topics t', brokers).code).toBe(code);
  });
});

describe('KafkaBus against an address where no broker listens', () => {
  it('rejects ensureTopics with an unreachable-broker explanation instead of hanging', async () => {
    const port = await closedPort();
    const bus = new KafkaBus({ brokers: [`127.0.0.1:${port}`], retries: 0, connectionTimeoutMs: 500, logLevel: 'error', logger: { log: () => undefined } });

    const failure = bus.ensureTopics([{ topic: 't', partitions: 1 }]);
    await expect(failure).rejects.toMatchObject({ name: 'KafkaBusError', code: 'unreachable' });
    await expect(failure).rejects.toThrow(`(brokers 127.0.0.1:${port})`);
    await bus.close();
  });
});
