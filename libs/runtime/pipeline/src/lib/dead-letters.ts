import type { Bus, BusMessage } from '@topology/bus';
import { DeadLetterCodec, deadLetterTopic, type Rejection } from '@topology/contracts';
import type { Clock } from '@topology/model';
import type { StageMetrics } from './metrics';

/** Publishes rejected records to `<topic>.dlq` with their reason, keeping the source coordinates. */
export class DeadLetterPublisher {
  constructor(
    private readonly bus: Bus,
    private readonly metrics: StageMetrics,
    private readonly clock: Clock,
  ) {}

  async publish(source: Pick<BusMessage, 'topic' | 'partition' | 'offset'> | { topic: string; partition: -1; offset: '' }, rejections: Rejection[]): Promise<void> {
    if (rejections.length === 0) return;
    const topic = deadLetterTopic(source.topic);
    const at = this.clock.now();
    await this.bus.publish(
      topic,
      rejections.map((r) => ({
        key: r.reason,
        headers: { reason: r.reason },
        value: DeadLetterCodec.encode({
          reason: r.reason,
          message: r.message,
          sourceTopic: source.topic,
          sourcePartition: source.partition,
          sourceOffset: source.offset,
          payload: typeof r.raw === 'string' ? Buffer.from(r.raw) : r.raw,
          atMs: at,
        }),
      })),
    );
    for (const r of rejections) this.metrics.deadLettered.inc({ topic: source.topic, reason: r.reason });
  }
}
