import type { BusBatch } from '@topology/bus';
import { InProcessBus } from './in-process-bus';
import { bytes, text } from './testing/received-messages';

function messages(from: number, count: number): { key: string; value: Uint8Array }[] {
  return Array.from({ length: count }, (_, i) => ({ key: 'k', value: bytes(`m${from + i}`) }));
}

describe('InProcessBus releases committed messages beyond its retention', () => {
  it('keeps only the retained tail once every group has committed, so late groups read from there', async () => {
    const bus = new InProcessBus({ retainedPerPartition: 5 });
    await bus.ensureTopics([{ topic: 't', partitions: 1 }]);
    const early: string[] = [];
    await bus.subscribe({ topics: ['t'], groupId: 'early', handler: async (b) => void early.push(...b.messages.map(text)) });
    await bus.publish('t', messages(0, 20));
    await bus.settled();
    await bus.publish('t', messages(20, 1));
    await bus.settled();

    expect(early).toHaveLength(21);
    expect(bus.counters.get('messages_released', 't')).toBe(16);
    const late: string[] = [];
    await bus.subscribe({ topics: ['t'], groupId: 'late', handler: async (b) => void late.push(...b.messages.map(text)) });
    await bus.settled();
    expect(late).toEqual(['m16', 'm17', 'm18', 'm19', 'm20']);
    await bus.close();
  });

  it('holds messages a live group has not committed, and stops holding them once that group has no member', async () => {
    const bus = new InProcessBus({ retainedPerPartition: 2 });
    await bus.ensureTopics([{ topic: 't', partitions: 1 }]);
    let release: () => void = () => undefined;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const slowBatches: BusBatch[] = [];
    const slow = await bus.subscribe({
      topics: ['t'],
      groupId: 'slow',
      handler: async (batch) => {
        slowBatches.push(batch);
        await stuck;
      },
    });
    await bus.subscribe({ topics: ['t'], groupId: 'fast', handler: async () => undefined });
    await bus.publish('t', messages(0, 10));
    await new Promise((resolve) => setImmediate(resolve));
    await bus.publish('t', messages(10, 10));

    expect(bus.counters.get('messages_released', 't')).toBe(0);
    release();
    const closing = slow.close();
    await closing;
    await bus.settled();
    await bus.publish('t', messages(20, 1));
    // The slow group committed its first batch (m0..m9) before leaving; with no member it holds nothing.
    expect(bus.counters.get('messages_released', 't')).toBe(19);

    const resumed: string[] = [];
    await bus.subscribe({ topics: ['t'], groupId: 'slow', handler: async (b) => void resumed.push(...b.messages.map(text)) });
    await bus.settled();
    expect(resumed).toEqual(['m19', 'm20']);
    expect(bus.counters.get('offsets_reset', 'slow')).toBe(1);
    await bus.close();
  });
});
