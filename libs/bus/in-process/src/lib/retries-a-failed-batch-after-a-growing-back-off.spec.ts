import type { BusBatch } from '@topology/bus';
import { InProcessBus, type RetryScheduler } from './in-process-bus';
import { bytes, ReceivedMessages, text } from './testing/received-messages';

/** Retries wait here until the test fires them, so back-off needs no real time. */
class ManualScheduler implements RetryScheduler {
  readonly pending: { delayMs: number; run: () => void; cancelled: boolean }[] = [];

  after(delayMs: number, run: () => void): () => void {
    const entry = { delayMs, run, cancelled: false };
    this.pending.push(entry);
    return () => {
      entry.cancelled = true;
    };
  }

  fireAll(): void {
    const due = this.pending.splice(0);
    for (const entry of due) if (!entry.cancelled) entry.run();
  }
}

function flushDeliveries(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('InProcessBus retries a failed batch after a growing back-off', () => {
  it('waits for the scheduler before each retry and doubles the back-off up to its cap', async () => {
    const scheduler = new ManualScheduler();
    const bus = new InProcessBus({ scheduler });
    await bus.ensureTopics([{ topic: 'flows', partitions: 1 }]);
    await bus.publish('flows', [{ key: 'a', value: bytes('m0') }, { key: 'a', value: bytes('m1') }]);
    const handled = new ReceivedMessages(1_000);
    let calls = 0;
    await bus.subscribe({
      topics: ['flows'],
      groupId: 'stage',
      handler: async (batch: BusBatch) => {
        calls++;
        if (calls <= 8) throw new Error('store down');
        handled.record(batch);
      },
    });

    for (let attempt = 1; attempt <= 8; attempt++) {
      await flushDeliveries();
      expect(calls).toBe(attempt);
      expect(scheduler.pending.map((p) => p.delayMs)).toEqual([Math.min(100 * 2 ** (attempt - 1), 5_000)]);
      scheduler.fireAll();
    }
    await handled.untilCount(2);
    await bus.settled();

    expect(handled.texts()).toEqual(['m0', 'm1']);
    expect(bus.counters.get('handler_failures', 'stage')).toBe(8);
    expect(bus.counters.get('batches_delivered', 'stage')).toBe(1);
    await bus.close();
  });

  it('resets the back-off after a success and drops a pending retry on close', async () => {
    const scheduler = new ManualScheduler();
    const bus = new InProcessBus({ scheduler, maxBatchSize: 1 });
    await bus.ensureTopics([{ topic: 'flows', partitions: 1 }]);
    await bus.publish('flows', [{ key: 'a', value: bytes('ok') }, { key: 'a', value: bytes('bad') }]);
    const seen: string[] = [];
    await bus.subscribe({
      topics: ['flows'],
      groupId: 'stage',
      handler: async (batch) => {
        const value = text(batch.messages[0]);
        seen.push(value);
        if (value === 'bad') throw new Error('store down');
      },
    });
    await flushDeliveries();
    await flushDeliveries();

    expect(seen).toEqual(['ok', 'bad']);
    expect(scheduler.pending.map((p) => p.delayMs)).toEqual([100]);
    await bus.close();
    expect(scheduler.pending[0].cancelled).toBe(true);
  });
});
