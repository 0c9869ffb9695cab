import { partitionForKey, type Bus, type BusBatch, type OutgoingMessage, type Subscription } from '@topology/bus';
import { bytes, ReceivedMessages, text } from './received-messages';

export interface BusContractOptions {
  /** Longest wait for an expected delivery before a test fails. */
  timeoutMs: number;
  /** Prefix of every topic and group the suite creates, unique per run so runs never share state. */
  namePrefix: string;
}

/**
 * The behaviour every Bus adapter must show, as a Jest suite. Each adapter runs it against the real
 * thing: the in-process bus in its unit tests, Kafka in integration tests. `makeBus` must return a
 * fresh bus; the suite closes it after each test. Handlers that fail must be retried quickly (tune
 * the adapter's back-off) or the redelivery test times out.
 */
export function describeBusContract(name: string, makeBus: () => Promise<Bus>, options: BusContractOptions): void {
  describe(`${name} honours the Bus contract`, () => {
    let bus: Bus;
    let subscriptions: Subscription[] = [];
    let sequence = 0;
    const unique = (what: string): string => `${options.namePrefix}.${what}.${++sequence}`;
    const received = (): ReceivedMessages => new ReceivedMessages(options.timeoutMs);
    const subscribe = async (
      topic: string,
      groupId: string,
      handler: (batch: BusBatch) => Promise<void>,
      extra: { fromBeginning?: boolean; onPartitionsRevoked?: (partitions: { topic: string; partition: number }[]) => Promise<void> } = {},
    ): Promise<Subscription> => {
      const subscription = await bus.subscribe({ topics: [topic], groupId, handler, ...extra });
      subscriptions.push(subscription);
      return subscription;
    };

    beforeEach(async () => {
      bus = await makeBus();
      subscriptions = [];
    });

    afterEach(async () => {
      await Promise.all(subscriptions.map((subscription) => subscription.close()));
      await bus.close();
    });

    it('delivers the messages of one key in the order they were published', async () => {
      const topic = unique('order');
      await bus.ensureTopics([{ topic, partitions: 4 }]);
      const keys = ['lb-1', 'lb-2', 'app:a->app:b', 'nat-7', 'gw'];
      for (let round = 0; round < 8; round++) {
        const messages: OutgoingMessage[] = [];
        for (let i = 0; i < 5; i++) for (const key of keys) messages.push({ key, value: bytes(`${key}#${round * 5 + i}`) });
        await bus.publish(topic, messages);
      }
      const got = received();
      await subscribe(topic, unique('group'), got.handler);
      await got.untilCount(keys.length * 40);

      for (const key of keys) {
        const sequenceOfKey = got.messages.filter((m) => m.key === key).map((m) => Number(text(m).split('#')[1]));
        expect(sequenceOfKey).toEqual(Array.from({ length: 40 }, (_, i) => i));
      }
      for (const batch of got.batches) {
        const offsets = batch.messages.map((m) => Number(m.offset));
        expect(offsets).toEqual(offsets.map((_, i) => offsets[0] + i));
        expect(batch.messages.every((m) => m.partition === batch.partition && m.topic === topic)).toBe(true);
      }
    });

    it('puts a keyed message on the partition partitionForKey names', async () => {
      const topic = unique('keyed');
      await bus.ensureTopics([{ topic, partitions: 6 }]);
      const keys = Array.from({ length: 60 }, (_, i) => `cluster-${i}`);
      await bus.publish(
        topic,
        keys.map((key) => ({ key, value: bytes(key) })),
      );
      const got = received();
      await subscribe(topic, unique('group'), got.handler);
      await got.untilCount(keys.length);

      expect(new Set(got.messages.map((m) => m.partition)).size).toBe(6);
      for (const message of got.messages) {
        expect({ key: message.key, partition: message.partition }).toEqual({
          key: message.key,
          partition: partitionForKey(message.key ?? '', 6),
        });
      }
    });

    it('spreads messages without a key over the partitions', async () => {
      const topic = unique('unkeyed');
      await bus.ensureTopics([{ topic, partitions: 4 }]);
      await bus.publish(
        topic,
        Array.from({ length: 40 }, (_, i) => ({ key: null, value: bytes(`m${i}`) })),
      );
      const got = received();
      await subscribe(topic, unique('group'), got.handler);
      await got.untilCount(40);

      expect(got.messages.every((m) => m.key === null)).toBe(true);
      expect(new Set(got.messages.map((m) => m.partition)).size).toBeGreaterThan(1);
    });

    it('shares the partitions between the members of one group', async () => {
      const topic = unique('shared');
      const group = unique('group');
      await bus.ensureTopics([{ topic, partitions: 4 }]);
      const first = received();
      const second = received();
      const all = received();
      await subscribe(topic, group, recordInto(first, all));
      await subscribe(topic, group, recordInto(second, all));
      await bus.publish(
        topic,
        Array.from({ length: 80 }, (_, i) => ({ key: `k${i}`, value: bytes(`m${i}`) })),
      );
      await all.untilCount(80);

      expect(first.messages.length).toBeGreaterThan(0);
      expect(second.messages.length).toBeGreaterThan(0);
      expect([...first.texts(), ...second.texts()].sort()).toEqual(Array.from({ length: 80 }, (_, i) => `m${i}`).sort());
      const firstPartitions = new Set(first.messages.map((m) => m.partition));
      expect(second.messages.some((m) => firstPartitions.has(m.partition))).toBe(false);
    });

    it('gives every group every message', async () => {
      const topic = unique('fanout');
      await bus.ensureTopics([{ topic, partitions: 3 }]);
      const one = received();
      const other = received();
      await subscribe(topic, unique('group'), one.handler);
      await subscribe(topic, unique('group'), other.handler);
      const expected = Array.from({ length: 30 }, (_, i) => `m${i}`);
      await bus.publish(
        topic,
        expected.map((value, i) => ({ key: `k${i % 7}`, value: bytes(value) })),
      );
      await Promise.all([one.untilCount(30), other.untilCount(30)]);

      expect(one.texts().sort()).toEqual([...expected].sort());
      expect(other.texts().sort()).toEqual([...expected].sort());
    });

    it('redelivers a batch whose handler failed, without skipping or reordering', async () => {
      const topic = unique('retry');
      await bus.ensureTopics([{ topic, partitions: 1 }]);
      await bus.publish(
        topic,
        Array.from({ length: 20 }, (_, i) => ({ key: 'k', value: bytes(`m${i}`) })),
      );
      const handled = received();
      let attemptsOfPoisonedBatch = 0;
      await subscribe(topic, unique('group'), async (batch) => {
        if (batch.messages.some((m) => text(m) === 'm5') && ++attemptsOfPoisonedBatch <= 2) {
          throw new Error('downstream store unavailable');
        }
        handled.record(batch);
      });
      await handled.untilCount(20);

      expect(attemptsOfPoisonedBatch).toBe(3);
      expect(handled.texts()).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    });

    it('resumes a group after its last commit when it subscribes again', async () => {
      const topic = unique('resume');
      const group = unique('group');
      await bus.ensureTopics([{ topic, partitions: 2 }]);
      await bus.publish(
        topic,
        Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: bytes(`old${i}`) })),
      );
      const before = received();
      const first = await subscribe(topic, group, before.handler);
      await before.untilCount(10);
      await first.close();

      await bus.publish(
        topic,
        Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value: bytes(`new${i}`) })),
      );
      const after = received();
      await subscribe(topic, group, after.handler);
      await after.untilCount(6);

      // Delivery is ordered per partition, so a redelivered old message would have arrived first.
      expect(after.texts().sort()).toEqual(Array.from({ length: 6 }, (_, i) => `new${i}`).sort());
    });

    it('starts a new group at the end when fromBeginning is false, at the start otherwise', async () => {
      const topic = unique('start');
      await bus.ensureTopics([{ topic, partitions: 1 }]);
      await bus.publish(topic, [
        { key: 'k', value: bytes('old1') },
        { key: 'k', value: bytes('old2') },
      ]);
      const latest = received();
      const earliest = received();
      await subscribe(topic, unique('group'), latest.handler, { fromBeginning: false });
      await subscribe(topic, unique('group'), earliest.handler);
      await bus.publish(topic, [
        { key: 'k', value: bytes('new1') },
        { key: 'k', value: bytes('new2') },
      ]);
      await Promise.all([latest.untilCount(2), earliest.untilCount(4)]);

      expect(latest.texts()).toEqual(['new1', 'new2']);
      expect(earliest.texts()).toEqual(['old1', 'old2', 'new1', 'new2']);
    });

    it('round-trips key, value bytes, headers and timestamp', async () => {
      const topic = unique('headers');
      await bus.ensureTopics([{ topic, partitions: 2 }]);
      const value = new Uint8Array([0, 1, 2, 250, 255]);
      await bus.publish(topic, [
        { key: 'edge:a->b', value, headers: { 'content-type': 'application/x-protobuf', schema: 'topology.v1.X' }, timestampMs: 1_700_000_000_123 },
        { key: null, value: new Uint8Array(0) },
      ]);
      const got = received();
      await subscribe(topic, unique('group'), got.handler);
      await got.untilCount(2);

      const keyed = got.messages.find((m) => m.key === 'edge:a->b');
      const unkeyed = got.messages.find((m) => m.key === null);
      expect(keyed && { ...keyed, value: [...keyed.value] }).toEqual({
        topic,
        partition: partitionForKey('edge:a->b', 2),
        offset: '0',
        key: 'edge:a->b',
        value: [0, 1, 2, 250, 255],
        headers: { 'content-type': 'application/x-protobuf', schema: 'topology.v1.X' },
        timestampMs: 1_700_000_000_123,
      });
      expect(unkeyed && { value: unkeyed.value.length, headers: unkeyed.headers }).toEqual({ value: 0, headers: {} });
      expect(unkeyed?.timestampMs).toBeGreaterThan(1_700_000_000_123);
    });

    it('tells a member which partitions it lost when another member joins its group', async () => {
      const topic = unique('revoke');
      const group = unique('group');
      await bus.ensureTopics([{ topic, partitions: 4 }]);
      const first = received();
      const second = received();
      const all = received();
      const revoked: { topic: string; partition: number }[] = [];
      await subscribe(topic, group, recordInto(first, all), {
        onPartitionsRevoked: async (partitions) => {
          revoked.push(...partitions);
          all.changed();
        },
      });
      await subscribe(topic, group, recordInto(second, all));
      await all.until(() => revoked.length > 0, 'a revocation');
      await bus.publish(
        topic,
        Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: bytes(`m${i}`) })),
      );
      await all.untilCount(40);

      const lost = new Set(revoked.map((r) => `${r.topic}/${r.partition}`));
      expect(revoked.every((r) => r.topic === topic)).toBe(true);
      expect(second.messages.length).toBeGreaterThan(0);
      for (const message of second.messages) expect(lost.has(`${message.topic}/${message.partition}`)).toBe(true);
      for (const message of first.messages) expect(lost.has(`${message.topic}/${message.partition}`)).toBe(false);
    });
  });
}

function recordInto(member: ReceivedMessages, all: ReceivedMessages): (batch: BusBatch) => Promise<void> {
  return async (batch) => {
    member.record(batch);
    all.record(batch);
  };
}
