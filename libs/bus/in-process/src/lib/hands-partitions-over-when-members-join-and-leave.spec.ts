import { partitionForKey, type BusBatch } from '@topology/bus';
import { InProcessBus } from './in-process-bus';
import { bytes, text } from './testing/received-messages';

/** A key that lands on `partition` of a topic with `partitions` partitions. */
function keyOn(partition: number, partitions: number): string {
  for (let i = 0; ; i++) if (partitionForKey(`key-${i}`, partitions) === partition) return `key-${i}`;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('InProcessBus hands partitions over when members join and leave', () => {
  it('lets the in-flight batch finish and commit, tells the old owner, then starts the new owner after the commit', async () => {
    const bus = new InProcessBus({ maxBatchSize: 2 });
    await bus.ensureTopics([{ topic: 't', partitions: 2 }]);
    const events: string[] = [];
    const gate = deferred();
    await bus.subscribe({
      topics: ['t'],
      groupId: 'g',
      handler: async (batch: BusBatch) => {
        events.push(`first:${batch.partition}:${batch.messages.map(text).join(',')}`);
        if (batch.partition === 1) await gate.promise;
      },
      onPartitionsRevoked: async (partitions) => void events.push(`revoked:${partitions.map((p) => p.partition).join(',')}`),
    });
    const key = keyOn(1, 2);
    await bus.publish('t', [
      { key, value: bytes('b0') },
      { key, value: bytes('b1') },
      { key, value: bytes('b2') },
    ]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['first:1:b0,b1']);

    let joined = false;
    const joining = bus
      .subscribe({
        topics: ['t'],
        groupId: 'g',
        handler: async (batch) => void events.push(`second:${batch.partition}:${batch.messages.map(text).join(',')}`),
      })
      .then(() => (joined = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(joined).toBe(false);

    gate.resolve();
    await joining;
    await bus.settled();
    expect(events).toEqual(['first:1:b0,b1', 'revoked:1', 'second:1:b2']);
    expect(bus.counters.get('rebalances', 'g')).toBe(2);
    await bus.close();
  });

  it('gives a leaving member’s partitions to the others, resuming after its commits', async () => {
    const bus = new InProcessBus();
    await bus.ensureTopics([{ topic: 't', partitions: 4 }]);
    const first: string[] = [];
    const second: string[] = [];
    await bus.subscribe({ topics: ['t'], groupId: 'g', handler: async (b) => void first.push(...b.messages.map(text)) });
    const leaving = await bus.subscribe({ topics: ['t'], groupId: 'g', handler: async (b) => void second.push(...b.messages.map(text)) });
    await bus.publish('t', Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: bytes(`a${i}`) })));
    await bus.settled();
    await leaving.close();
    await bus.publish('t', Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: bytes(`b${i}`) })));
    await bus.settled();

    expect(second.length).toBeGreaterThan(0);
    expect(second.every((v) => v.startsWith('a'))).toBe(true);
    expect([...first, ...second].sort()).toEqual([...Array.from({ length: 40 }, (_, i) => `a${i}`), ...Array.from({ length: 40 }, (_, i) => `b${i}`)].sort());
    await bus.close();
  });

  it('counts a revocation callback that throws and goes on with the rebalance', async () => {
    const bus = new InProcessBus();
    await bus.ensureTopics([{ topic: 't', partitions: 2 }]);
    await bus.subscribe({
      topics: ['t'],
      groupId: 'g',
      handler: async () => undefined,
      onPartitionsRevoked: async () => {
        throw new Error('flush failed');
      },
    });
    const got: string[] = [];
    await bus.subscribe({ topics: ['t'], groupId: 'g', handler: async (b) => void got.push(...b.messages.map(text)) });
    await bus.publish('t', [{ key: keyOn(1, 2), value: bytes('to-second') }]);
    await bus.settled();

    expect(bus.counters.get('revoke_callback_failures', 'g')).toBe(1);
    expect(got).toEqual(['to-second']);
    await bus.close();
  });
});

describe('InProcessBus.close', () => {
  it('waits for in-flight handlers and commits what they finished', async () => {
    const bus = new InProcessBus();
    await bus.ensureTopics([{ topic: 't', partitions: 1 }]);
    const gate = deferred();
    let finished = false;
    await bus.subscribe({
      topics: ['t'],
      groupId: 'g',
      handler: async () => {
        await gate.promise;
        finished = true;
      },
    });
    await bus.publish('t', [{ key: 'k', value: bytes('x') }]);
    await new Promise((resolve) => setImmediate(resolve));
    let closed = false;
    const closing = bus.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);

    gate.resolve();
    await closing;
    expect(finished).toBe(true);
    expect(bus.counters.get('batches_delivered', 'g')).toBe(1);
  });
});
