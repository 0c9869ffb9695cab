/**
 * Named monotonic counters with descriptions, kept by domain classes for what they accept, drop,
 * expire and reject. The runtime exports them to Prometheus; domain code stays free of any metrics
 * library.
 */
export class CounterSet<N extends string> {
  private readonly values = new Map<string, number>();

  constructor(readonly descriptions: Readonly<Record<N, string>>) {}

  inc(name: N, by = 1, label?: string): void {
    const key = label === undefined ? name : `${name}\u0000${label}`;
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  get(name: N, label?: string): number {
    if (label !== undefined) return this.values.get(`${name}\u0000${label}`) ?? 0;
    let total = 0;
    for (const [key, value] of this.values) if (key === name || key.startsWith(`${name}\u0000`)) total += value;
    return total;
  }

  /** Every counter with its label (`reason` for rejections), for exporters. */
  entries(): { name: N; label?: string; value: number }[] {
    return [...this.values].map(([key, value]) => {
      const [name, label] = key.split('\u0000') as [N, string | undefined];
      return label === undefined ? { name, value } : { name, label, value };
    });
  }
}

/** Time source. Stages take one so tests can move time without sleeping. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private ms = 0) {}
  now(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}
