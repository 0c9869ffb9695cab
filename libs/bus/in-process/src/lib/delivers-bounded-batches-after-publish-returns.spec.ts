import type { BusBatch } from '@topology/bus';
import { ManualClock } from '@topology/model';
import { InProcessBus } from './in-process-bus';
import { bytes, text } from './testing/received-messages';

describe('InProcessBus delivers bounded batches after publish returns', () => {
  it('never calls a handler inside publish, and splits a backlog into batches of at most maxBatchSize', async () => {
    const bus = new InProcessBus({ maxBatchSize: 3 });
    await bus.ensureTopics([{ topic: 'spans', partitions: 1 }]);
    const batches: BusBatch[] = [];
    let publishing = false;
    let calledDuringPublish = false;
    await bus.subscribe({
      topics: ['spans'],
      groupId: 'aggregator',
      handler: async (batch) => {
        if (publishing) calledDuringPublish = true;
        batches.push(batch);
      },
    });

    publishing = true;
    const published = bus.publish(
      'spans',
      Array.from({ length: 10 }, (_, i) => ({ key: 'trace-1', value: bytes(`s${i}`) })),
    );
    publishing = false;
    expect(batches).toEqual([]);
    await published;
    await bus.settled();

    expect(calledDuringPublish).toBe(false);
    expect(batches.map((b) => b.messages.map(text))).toEqual([['s0', 's1', 's2'], ['s3', 's4', 's5'], ['s6', 's7', 's8'], ['s9']]);
    expect(batches.map((b) => b.messages[0].offset)).toEqual(['0', '3', '6', '9']);
    await bus.close();
  });

  it('creates a topic first seen on publish with the default partition count and stamps the clock time', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const bus = new InProcessBus({ defaultPartitions: 3, clock });
    await bus.publish('network.flow-partial.v1', [{ key: null, value: bytes('x') }]);
    await bus.ensureTopics([{ topic: 'network.flow-partial.v1', partitions: 12 }]);

    expect(bus.partitionsOf('network.flow-partial.v1')).toBe(3);
    const batches: BusBatch[] = [];
    await bus.subscribe({ topics: ['network.flow-partial.v1'], groupId: 'g', handler: async (b) => void batches.push(b) });
    await bus.settled();
    expect(batches[0].messages[0].timestampMs).toBe(1_700_000_000_000);
    expect(bus.counters.get('messages_published', 'network.flow-partial.v1')).toBe(1);
    await bus.close();
  });

  it('rejects publishing after close and invalid configuration at construction', async () => {
    const bus = new InProcessBus();
    await bus.close();
    await expect(bus.publish('t', [{ key: null, value: bytes('x') }])).rejects.toThrow('after close');
    expect(() => new InProcessBus({ maxBatchSize: 0 })).toThrow('maxBatchSize');
    expect(() => new InProcessBus({ defaultPartitions: 0 })).toThrow('defaultPartitions');
  });
});
