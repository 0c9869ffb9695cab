/** Injection tokens of the runtime's shared objects. */
export const BUS = Symbol('Bus');
export const METRICS_REGISTRY = Symbol('MetricsRegistry');
export const READINESS = Symbol('Readiness');

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
