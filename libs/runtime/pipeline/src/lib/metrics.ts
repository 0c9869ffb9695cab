import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CounterSet } from '@topology/model';

/** One Prometheus registry per process; stages add their counters to it. */
export function createMetricsRegistry(defaultLabels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(defaultLabels);
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Exposes a domain CounterSet as Prometheus counters `<prefix>_<name>_total`, read at scrape time.
 * A labelled counter (for example rejections by reason) gets the label `label`.
 */
export function exportCounterSet<N extends string>(registry: Registry, prefix: string, set: CounterSet<N>, labelName = 'reason'): void {
  const exported = new Map<string, number>();
  for (const [name, help] of Object.entries(set.descriptions) as [N, string][]) {
    const metricName = `${prefix}_${name.replace(/[^a-zA-Z0-9_]/g, '_')}_total`;
    new Counter({
      name: metricName,
      help,
      labelNames: [labelName],
      registers: [registry],
      collect() {
        for (const e of set.entries()) {
          if (e.name !== name) continue;
          const key = `${e.name}\u0000${e.label ?? ''}`;
          const delta = e.value - (exported.get(key) ?? 0);
          if (delta <= 0) continue;
          exported.set(key, e.value);
          if (e.label === undefined) this.inc(delta);
          else this.inc({ [labelName]: e.label }, delta);
        }
      },
    });
  }
}

/** Metrics every stage runner keeps about its bus traffic and flushes. */
export class StageMetrics {
  readonly consumed: Counter<'topic'>;
  readonly produced: Counter<'topic'>;
  readonly deadLettered: Counter<'topic' | 'reason'>;
  readonly dropped: Counter<'topic' | 'reason'>;
  readonly lag: Gauge<'input' | 'topic' | 'partition'>;
  readonly position: Gauge<'input' | 'topic' | 'partition'>;
  readonly replayBacklog: Gauge<'input' | 'topic' | 'partition'>;
  readonly flushSeconds: Histogram;
  readonly freshnessSeconds: Histogram;
  readonly lastFlushAge: Gauge;
  private lastFlushAt = Date.now();

  constructor(registry: Registry, stage: string) {
    const p = `topology_${stage.replace(/-/g, '_')}`;
    this.consumed = new Counter({ name: `${p}_consumed_records_total`, help: 'Bus messages consumed.', labelNames: ['topic'], registers: [registry] });
    this.produced = new Counter({ name: `${p}_produced_records_total`, help: 'Bus messages published.', labelNames: ['topic'], registers: [registry] });
    this.deadLettered = new Counter({
      name: `${p}_dead_lettered_total`,
      help: 'Records sent to a dead-letter topic, by reason.',
      labelNames: ['topic', 'reason'],
      registers: [registry],
    });
    this.dropped = new Counter({
      name: `${p}_dropped_records_total`,
      help: 'Messages not handled: redelivered ones whose effects this process already holds (reason already-applied).',
      labelNames: ['topic', 'reason'],
      registers: [registry],
    });
    this.lag = new Gauge({
      name: `${p}_consumer_lag_records`,
      help: 'Messages of a partition not handled yet, as of the last fetch; `input` names the cluster (a region, or main).',
      labelNames: ['input', 'topic', 'partition'],
      registers: [registry],
    });
    this.position = new Gauge({
      name: `${p}_consumer_position`,
      help: 'Offset after the last message handled, by partition.',
      labelNames: ['input', 'topic', 'partition'],
      registers: [registry],
    });
    this.replayBacklog = new Gauge({
      name: `${p}_replay_backlog_records`,
      help: 'Messages a restart would read again because their effects are held in memory only (open windows); the committed offset trails the position by this much.',
      labelNames: ['input', 'topic', 'partition'],
      registers: [registry],
    });
    this.flushSeconds = new Histogram({ name: `${p}_flush_seconds`, help: 'Duration of one flush (compute and publish or persist).', registers: [registry] });
    this.freshnessSeconds = new Histogram({
      name: `${p}_freshness_seconds`,
      help: 'From a record reaching the pipeline (its publish time on the input topic) to its effect leaving this stage.',
      buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30],
      registers: [registry],
    });
    const sinceFlush = () => (Date.now() - this.lastFlushAt) / 1000;
    this.lastFlushAge = new Gauge({
      name: `${p}_seconds_since_flush`,
      help: 'Seconds since the last completed flush (a stuck stage grows this).',
      registers: [registry],
      collect() {
        this.set(sinceFlush());
      },
    });
  }

  /** Forgets the per-partition gauges of a partition this member no longer reads. */
  partitionGone(input: string, topic: string, partition: number): void {
    const labels = { input, topic, partition: String(partition) };
    this.lag.remove(labels);
    this.position.remove(labels);
    this.replayBacklog.remove(labels);
  }

  /** Milliseconds since the last completed flush. */
  msSinceFlush(): number {
    return Date.now() - this.lastFlushAt;
  }

  flushed(): void {
    this.lastFlushAt = Date.now();
  }
}
