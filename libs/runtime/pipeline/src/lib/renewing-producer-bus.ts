import type { Bus, OutgoingMessage, SubscribeOptions, Subscription, TopicSpec } from '@topology/bus';

/**
 * A bus whose publishing side is replaced by a new one when a publish fails. The Kafka adapter
 * retries through outages by itself, so a publish that still fails has met an error its idempotent
 * producer cannot get past: after a broker restart kafkajs's producer can be refused for good with
 * OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID. A new producer (a new producer id) starts
 * its sequences afresh; the failed publish is retried once on it. Topics and subscriptions stay on
 * the bus they were made with.
 */
export class RenewingProducerBus implements Bus {
  private producer: Bus;
  renewals = 0;

  constructor(
    private readonly control: Bus,
    private readonly newProducer: () => Bus,
    private readonly log: (message: string) => void = (m) => console.error(m),
  ) {
    this.producer = newProducer();
  }

  ensureTopics(specs: TopicSpec[]): Promise<void> {
    return this.control.ensureTopics(specs);
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    const producer = this.producer;
    try {
      await producer.publish(topic, messages);
    } catch (error) {
      if (this.producer === producer) {
        this.renewals++;
        this.log(`publish to ${topic} failed (${error instanceof Error ? error.message : String(error)}); publishing with a new producer`);
        this.producer = this.newProducer();
        producer.close().catch(() => undefined);
      }
      await this.producer.publish(topic, messages);
    }
  }

  subscribe(options: SubscribeOptions): Promise<Subscription> {
    return this.control.subscribe(options);
  }

  async close(): Promise<void> {
    await Promise.all([this.producer.close(), this.control.close()]);
  }
}
