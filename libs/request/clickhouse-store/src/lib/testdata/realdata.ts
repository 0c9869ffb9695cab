import { existsSync, readFileSync } from 'fs';
import { resolve } from 'path';

/** The shared real-data folder sits beside the repository checkout. */
const REALDATA = resolve(__dirname, '../../../../../../../shared/realdata');

export function readRealdata(relativePath: string): string {
  const file = resolve(REALDATA, relativePath);
  if (!existsSync(file)) throw new Error(`real data file missing: ${file} (the shared/realdata folder must sit beside the checkout)`);
  return readFileSync(file, 'utf8');
}
