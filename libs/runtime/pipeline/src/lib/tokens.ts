/** Injection tokens of the runtime's shared objects. */
export const BUS = Symbol('Bus');
export const METRICS_REGISTRY = Symbol('MetricsRegistry');
export const READINESS = Symbol('Readiness');
export const LIVENESS = Symbol('Liveness');

/** Whether the process is ready for traffic; liveness is answering at all. */
export class Readiness {
  private readonly pending = new Set<string>();

  constructor(parts: string[] = []) {
    for (const p of parts) this.pending.add(p);
  }

  waitFor(part: string): void {
    this.pending.add(part);
  }

  ready(part: string): void {
    this.pending.delete(part);
  }

  isReady(): boolean {
    return this.pending.size === 0;
  }

  notReady(): string[] {
    return [...this.pending];
  }
}

/**
 * Whether the process can still do its work. A problem here makes `/healthz` fail, so that an
 * orchestrator restarts the process (a consumer that stopped for good, a flush stuck for minutes).
 */
export class Liveness {
  private readonly broken = new Map<string, string>();
  private readonly checks: (() => string | undefined)[] = [];

  fail(part: string, why: string): void {
    this.broken.set(part, why);
  }

  /** A check run on each probe; it returns why the process is broken, or undefined. */
  watch(check: () => string | undefined): void {
    this.checks.push(check);
  }

  problems(): string[] {
    const found = [...this.broken].map(([part, why]) => `${part}: ${why}`);
    for (const check of this.checks) {
      const problem = check();
      if (problem !== undefined) found.push(problem);
    }
    return found;
  }
}
