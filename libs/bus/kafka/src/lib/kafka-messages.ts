import type { Batch, IHeaders, KafkaMessage } from 'kafkajs';
import type { BusMessage } from '@topology/bus';

const EMPTY_VALUE = Buffer.alloc(0);

/** A kafkajs batch as the port's messages. */
export function toBusMessages(batch: Batch): BusMessage[] {
  const { topic, partition } = batch;
  return batch.messages.map((message: KafkaMessage) => ({
    topic,
    partition,
    offset: message.offset,
    key: message.key === null ? null : message.key.toString('utf8'),
    value: message.value ?? EMPTY_VALUE,
    headers: toHeaders(message.headers),
    timestampMs: Number(message.timestamp),
  }));
}

function toHeaders(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (headers === undefined) return result;
  for (const name in headers) {
    const value = headers[name];
    // Kafka allows a header name more than once; the port has one value per name, so the last wins.
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) result[name] = typeof last === 'string' ? last : last.toString('utf8');
  }
  return result;
}

/** Rejects with `${what} within ${ms} ms` when the promise has not settled by then. */
export function withTimeout(promise: Promise<void>, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
