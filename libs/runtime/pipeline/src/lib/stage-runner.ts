import type { Bus, BusBatch, BusMessage, Subscription } from '@topology/bus';
import type { Rejection } from '@topology/contracts';
import type { Clock } from '@topology/model';
import type { Registry } from 'prom-client';
import { DeadLetterPublisher } from './dead-letters';
import { FlushGate } from './flush-gate';
import { StageMetrics } from './metrics';

export interface StageRunnerOptions {
  bus: Bus;
  clock: Clock;
  registry: Registry;
  /** Unique per process: names this instance's broadcast subscriptions. */
  instanceId: string;
  /** Milliseconds between flushes of the stage's state downstream. */
  flushIntervalMs: number;
  /** Records waiting for a flush that trigger one early. */
  maxPendingRecords: number;
  log?: (message: string) => void;
}

/**
 * What every stage runner shares: subscriptions whose handlers return only once the stage's next
 * flush has published what the batch produced (so the bus commits offsets after that, not
 * before), a periodic flush, dead letters, and metrics.
 */
export abstract class StageRunner {
  protected readonly metrics: StageMetrics;
  protected readonly deadLetters: DeadLetterPublisher;
  private readonly gate: FlushGate;
  private readonly subscriptions: Subscription[] = [];

  protected constructor(
    readonly stage: string,
    protected readonly options: StageRunnerOptions,
  ) {
    this.metrics = new StageMetrics(options.registry, stage);
    this.deadLetters = new DeadLetterPublisher(options.bus, this.metrics, options.clock);
    this.gate = new FlushGate(
      () => this.timedFlush(),
      options.flushIntervalMs,
      options.maxPendingRecords,
      (e) => this.log(`flush failed: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  async start(): Promise<void> {
    this.gate.start();
    for (const sub of await this.subscribe()) this.subscriptions.push(sub);
  }

  /** Stops consuming, flushes what is held, and leaves the groups. */
  async stop(): Promise<void> {
    await Promise.all(this.subscriptions.splice(0).map((s) => s.close()));
    await this.gate.stop();
  }

  /** Forces a flush now; resolves when it has completed. */
  flushNow(): Promise<void> {
    return this.gate.flushNow();
  }

  protected abstract subscribe(): Promise<Subscription[]>;
  protected abstract flush(): Promise<void>;

  /** Wraps a per-message handler: counts, dead-letters what it rejects, then waits for the flush. */
  protected batchHandler(handle: (message: BusMessage) => Rejection[] | void): (batch: BusBatch) => Promise<void> {
    return async (batch) => {
      this.metrics.consumed.inc({ topic: batch.topic }, batch.messages.length);
      for (const message of batch.messages) {
        const rejections = handle(message);
        if (rejections && rejections.length > 0) await this.deadLetters.publish(message, rejections);
      }
      await this.gate.waitForFlush(batch.messages.length);
    };
  }

  protected async publish(topic: string, messages: { key: string | null; value: Uint8Array }[]): Promise<void> {
    if (messages.length === 0) return;
    await this.options.bus.publish(topic, messages);
    this.metrics.produced.inc({ topic }, messages.length);
  }

  protected log(message: string): void {
    (this.options.log ?? ((m: string) => console.error(m)))(`[${this.stage}] ${message}`);
  }

  private async timedFlush(): Promise<void> {
    const end = this.metrics.flushSeconds.startTimer();
    try {
      await this.flush();
      this.metrics.flushed();
    } finally {
      end();
    }
  }
}
