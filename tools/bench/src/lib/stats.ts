/** Summary statistics of a sample, by nearest rank (no interpolation, so every figure was observed). */
export interface Distribution {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = Float64Array.from(values).sort();
  const list = Array.from(sorted);
  let sum = 0;
  for (const v of list) sum += v;
  return {
    count: list.length,
    min: list.length > 0 ? (list[0] as number) : Number.NaN,
    p50: percentile(list, 50),
    p90: percentile(list, 90),
    p99: percentile(list, 99),
    max: list.length > 0 ? (list[list.length - 1] as number) : Number.NaN,
    mean: list.length > 0 ? sum / list.length : Number.NaN,
  };
}

export function median(values: readonly number[]): number {
  return percentile(Array.from(Float64Array.from(values).sort()), 50);
}

/** Milliseconds, with precision that suits their size. */
export function ms(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return 'never';
  if (!Number.isFinite(value)) return 'n/a';
  return value >= 100 ? `${value.toFixed(0)} ms` : value >= 10 ? `${value.toFixed(1)} ms` : `${value.toFixed(2)} ms`;
}

/** A rate or count with thousands separators. */
export function count(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
}

export function mib(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(0)} MiB`;
}
