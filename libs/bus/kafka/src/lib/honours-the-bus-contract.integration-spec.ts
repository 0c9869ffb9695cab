import { describeBusContract } from '@topology/bus-in-process';
import { KafkaBus } from './kafka-bus';
import { deleteTopicsStartingWith, describeWithKafka, fastTestConfig, testBrokers, uniqueRunPrefix } from './kafka-test-support';

describeWithKafka('KafkaBus on a real broker', () => {
  const brokers = testBrokers ?? [];
  const prefix = uniqueRunPrefix('contract');

  afterAll(() => deleteTopicsStartingWith(brokers, prefix));

  describeBusContract('KafkaBus', async () => new KafkaBus(fastTestConfig(brokers)), { timeoutMs: 30_000, namePrefix: prefix });
});
