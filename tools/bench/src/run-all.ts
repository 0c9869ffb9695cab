import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeMachine, machineInfo } from './lib/machine';
import { readOptions } from './lib/options';
import { verdict, type BenchResult } from './lib/report';

/**
 * Runs the three network benches one after another, each in its own process (so one's heap and
 * JIT state cannot colour the next), and prints one summary table. Only the options below are
 * passed on; run a bench alone for its full set.
 * Run: `npm run bench` (or `npm run bench -- --rounds 3`).
 */
const options = readOptions({
  rounds: { default: 5, description: 'stage 1: timed rounds per format' },
  'stage1-scale': { default: 4, description: 'stage 1: fleet scale' },
  scale: { default: 1, description: 'all-in-one and gateway: fleet scale' },
  probes: { default: 50, description: 'all-in-one: freshness probes' },
  queries: { default: 2000, description: 'gateway: timed queries per path' },
  'max-old-space-size': { default: 8192, description: 'heap limit of each bench process, MiB' },
});

const BENCHES: { file: string; args: string[] }[] = [
  { file: 'stage1.bench.js', args: ['--rounds', String(options.rounds), '--scale', String(options['stage1-scale'])] },
  { file: 'all-in-one.bench.js', args: ['--scale', String(options.scale), '--probes', String(options.probes)] },
  { file: 'gateway.bench.js', args: ['--scale', String(options.scale), '--queries', String(options.queries)] },
];

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-bench-'));
  const results: BenchResult[] = [];
  const failed: string[] = [];
  for (const bench of BENCHES) {
    const json = path.join(dir, `${bench.file}.json`);
    const run = spawnSync(process.execPath, [`--max-old-space-size=${options['max-old-space-size']}`, '--expose-gc', path.join(__dirname, bench.file), ...bench.args, '--json', json], {
      stdio: 'inherit',
    });
    if (run.status !== 0 || !fs.existsSync(json)) failed.push(`${bench.file} (exit ${run.status ?? run.signal})`);
    else results.push(JSON.parse(fs.readFileSync(json, 'utf8')) as BenchResult);
    console.log('');
  }
  fs.rmSync(dir, { recursive: true, force: true });

  console.log(`# summary\nmachine: ${describeMachine(machineInfo())}`);
  const rows = results.flatMap((r) => r.figures.map((f) => [r.bench.split(':')[0] ?? r.bench, f.name, f.text, verdict(f)]));
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  for (const row of rows) console.log(`${(row[0] ?? '').padEnd(widths[0] ?? 0)}  ${(row[1] ?? '').padEnd(widths[1] ?? 0)}  ${(row[2] ?? '').padStart(widths[2] ?? 0)}  ${row[3] ?? ''}`);
  if (failed.length > 0) {
    console.log(`failed: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

main();
