import type { BusBatch, BusMessage } from '@topology/bus';

/**
 * What a subscription's handler received, with a way to wait until a condition on it holds. Waiting
 * is driven by deliveries, not by polling; the timeout only bounds a test that would otherwise hang.
 */
export class ReceivedMessages {
  readonly messages: BusMessage[] = [];
  readonly batches: BusBatch[] = [];
  private readonly waiters: { holds: () => boolean; resolve: () => void }[] = [];

  constructor(private readonly timeoutMs: number) {}

  /** Records a batch (call it from a handler once the batch counts as handled). */
  record(batch: BusBatch): void {
    this.batches.push(batch);
    for (const message of batch.messages) this.messages.push(message);
    this.changed();
  }

  readonly handler = async (batch: BusBatch): Promise<void> => {
    this.record(batch);
  };

  /** Values of the received messages as text, in arrival order. */
  texts(): string[] {
    return this.messages.map(text);
  }

  /** Re-checks pending waits; call after changing anything a wait's condition reads. */
  changed(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i];
      if (waiter.holds()) {
        this.waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  until(holds: () => boolean, what: string): Promise<void> {
    if (holds()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new Error(`timed out after ${this.timeoutMs} ms waiting for ${what}; received ${this.messages.length} messages`));
      }, this.timeoutMs);
      const waiter = {
        holds,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  untilCount(count: number): Promise<void> {
    return this.until(() => this.messages.length >= count, `${count} messages`);
  }
}

export function bytes(value: string): Uint8Array {
  return Buffer.from(value, 'utf8');
}

export function text(message: BusMessage): string {
  return Buffer.from(message.value.buffer, message.value.byteOffset, message.value.byteLength).toString('utf8');
}
