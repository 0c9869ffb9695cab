import type { Subscription } from '@topology/bus';
import { InProcessBus } from '@topology/bus-in-process';
import { ManualClock } from '@topology/model';
import { Registry } from 'prom-client';
import { RenewingProducerBus } from './renewing-producer-bus';
import { StageRunner, type StageRunnerOptions } from './stage-runner';

/** A bus whose publishes fail while `broken`, as a producer Kafka refuses does. */
class FlakyBus extends InProcessBus {
  broken = false;
  override publish(topic: string, messages: Parameters<InProcessBus['publish']>[1]): Promise<void> {
    if (this.broken) return Promise.reject(new Error('The broker received an out of order sequence number'));
    return super.publish(topic, messages);
  }
}

/** A stage whose state is a counter: each flush takes what changed and publishes it. */
class CountingStage extends StageRunner {
  private changed: number[] = [];
  constructor(options: StageRunnerOptions) {
    super('counting', options);
  }
  add(value: number): void {
    this.changed.push(value);
  }
  protected async subscribe(): Promise<Subscription[]> {
    return [];
  }
  protected async flush(): Promise<void> {
    const taken = this.changed;
    this.changed = [];
    await this.publish('out', taken.map((v) => ({ key: null, value: Buffer.from(String(v)) })));
  }
}

async function received(bus: InProcessBus): Promise<string[]> {
  const out: string[] = [];
  const sub = await bus.subscribe({ topics: ['out'], groupId: `reader-${Math.random()}`, handler: async (b) => void out.push(...b.messages.map((m) => Buffer.from(m.value).toString())) });
  await bus.settled();
  await sub.close();
  return out;
}

describe('output of a flush that could not be published', () => {
  it('is sent again, before newer output, at the next flush', async () => {
    const bus = new FlakyBus({ defaultPartitions: 1 });
    const stage = new CountingStage({ bus, clock: new ManualClock(0), registry: new Registry(), instanceId: 'a', flushIntervalMs: 60_000, maxPendingRecords: 1_000, log: () => undefined });
    stage.add(1);
    bus.broken = true;
    await stage.flushNow().catch(() => undefined);
    bus.broken = false;
    stage.add(2);
    await stage.flushNow();
    expect(await received(bus)).toEqual(['1', '2']);
  });
});

describe('a bus whose producer Kafka refuses', () => {
  it('publishes with a new producer, retrying the publish that failed', async () => {
    const control = new InProcessBus({ defaultPartitions: 1 });
    const producers: FlakyBus[] = [];
    const delivered = new InProcessBus({ defaultPartitions: 1 });
    const bus = new RenewingProducerBus(
      control,
      () => {
        const p = new FlakyBus({ defaultPartitions: 1 });
        p.broken = producers.length === 0;
        // Every producer writes to the same log, as producers of one cluster do.
        p.publish = p.broken ? p.publish.bind(p) : (topic, messages) => delivered.publish(topic, messages);
        producers.push(p);
        return p;
      },
      () => undefined,
    );
    await bus.publish('out', [{ key: null, value: Buffer.from('x') }]);
    await bus.publish('out', [{ key: null, value: Buffer.from('y') }]);
    expect(bus.renewals).toBe(1);
    expect(producers).toHaveLength(2);
    expect(await received(delivered)).toEqual(['x', 'y']);
  });
});
