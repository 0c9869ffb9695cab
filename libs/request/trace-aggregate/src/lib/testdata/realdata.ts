import { existsSync, readFileSync } from 'fs';
import { resolve } from 'path';

/** The shared real-data folder sits beside the repository checkout. */
const REALDATA = resolve(__dirname, '../../../../../../../shared/realdata');

export function readRealdata(relativePath: string): string {
  const file = resolve(REALDATA, relativePath);
  if (!existsSync(file)) throw new Error(`real data file missing: ${file} (the shared/realdata folder must sit beside the checkout)`);
  return readFileSync(file, 'utf8');
}

/** Rows of `derived/zipkin_edges.csv` for one file: parent (or client) service → child (or remote) service, by derivation method. */
export function derivedZipkinEdges(file: string): { parent: string; child: string; count: number; method: string }[] {
  const [, ...rows] = readRealdata('derived/zipkin_edges.csv').trim().split('\n');
  return rows
    .map((line) => line.split(','))
    .filter(([f]) => f === file)
    .map(([, parent, child, count, method]) => ({ parent: parent ?? '', child: child ?? '', count: Number(count), method: method ?? '' }));
}
