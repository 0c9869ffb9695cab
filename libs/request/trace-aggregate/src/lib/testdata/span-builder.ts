import { ProcessDirectory, SpanKind, TraceSpan, VirtualPeer } from '../span';

/** Builds spans of one trace by hand for tests: `span('checkout', 'server', {...})`. */
export class TraceBuilder {
  private next = 1;

  constructor(
    readonly traceId: string,
    readonly directory = new ProcessDirectory(),
    private readonly startUs = 1_700_000_000_000_000,
  ) {}

  span(
    service: string,
    kind: SpanKind,
    options: { parent?: TraceSpan | string; id?: string; cluster?: string; name?: string; atUs?: number; durationUs?: number; error?: boolean; peer?: VirtualPeer; sharedServer?: boolean } = {},
  ): TraceSpan {
    const id = options.id ?? (this.next++).toString(16).padStart(16, '0');
    const parent = options.parent === undefined ? '' : typeof options.parent === 'string' ? options.parent : options.parent.spanId;
    return {
      traceId: this.traceId,
      spanId: id,
      parentSpanId: parent,
      process: this.directory.process(service, options.cluster ?? '', ''),
      kind,
      name: options.name ?? `${kind} ${service}`,
      startUs: this.startUs + (options.atUs ?? 0),
      durationUs: options.durationUs ?? 1_000,
      error: options.error ?? false,
      peer: options.peer,
      sharedServer: options.sharedServer ?? false,
    };
  }
}

/** Deterministic shuffle (mulberry32), so a failing order can be reproduced from its seed. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Cuts a list into consecutive batches of 1..maxSize items (sizes drawn from the seed). */
export function batches<T>(items: readonly T[], maxSize: number, seed: number): T[][] {
  const sizes = shuffled(
    Array.from({ length: items.length }, (_, i) => 1 + (i % maxSize)),
    seed,
  );
  const out: T[][] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= items.length) break;
    out.push(items.slice(at, at + size));
    at += size;
  }
  return out;
}
