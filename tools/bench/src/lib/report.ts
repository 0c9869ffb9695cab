import * as fs from 'fs';
import { describeMachine, machineInfo, type MachineInfo } from './machine';

/** A target a figure is held to: at least (`min`) or at most (`max`) a value. */
export interface Target {
  min?: number;
  max?: number;
  /** How the target reads, e.g. `≥ 250,000 records/s`. */
  text: string;
}

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The figure as printed. */
  text: string;
  target?: Target;
}

export interface BenchResult {
  bench: string;
  machine: MachineInfo;
  figures: Figure[];
}

export function meets(figure: Figure): boolean | undefined {
  const t = figure.target;
  if (t === undefined) return undefined;
  if (!Number.isFinite(figure.value)) return false;
  if (t.min !== undefined && figure.value < t.min) return false;
  if (t.max !== undefined && figure.value > t.max) return false;
  return true;
}

export function verdict(figure: Figure): string {
  const ok = meets(figure);
  if (ok === undefined || figure.target === undefined) return '';
  return `${ok ? 'MET' : 'MISSED'} (target ${figure.target.text})`;
}

/**
 * Collects a bench's figures, prints them as they come, and at the end prints the machine and a
 * summary, and writes the result as JSON when `jsonPath` is given (how `run-all` gathers results).
 */
export class BenchReport {
  private readonly figures: Figure[] = [];
  readonly machine = machineInfo();

  constructor(
    readonly bench: string,
    private readonly jsonPath: string,
  ) {
    console.log(`# ${bench}`);
    console.log(`machine: ${describeMachine(this.machine)}`);
  }

  add(figure: Figure): void {
    this.figures.push(figure);
    const v = verdict(figure);
    console.log(`  ${figure.name.padEnd(62)} ${figure.text.padStart(18)}${v ? `   ${v}` : ''}`);
  }

  note(line: string): void {
    console.log(`  ${line}`);
  }

  finish(): BenchResult {
    const result: BenchResult = { bench: this.bench, machine: this.machine, figures: this.figures };
    const missed = this.figures.filter((f) => meets(f) === false);
    console.log(missed.length === 0 ? '  every target met' : `  targets missed: ${missed.map((f) => f.name).join('; ')}`);
    if (this.jsonPath) fs.writeFileSync(this.jsonPath, JSON.stringify(result, null, 2));
    return result;
  }
}
