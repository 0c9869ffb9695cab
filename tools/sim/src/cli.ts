/**
 * Writes a simulated fleet's records, metadata and ground truth to a folder.
 *
 *   node dist/tools/sim/src/cli.js --seed 42 --out .data/sim [--minutes 10] [--apps 220] [--scale 1] [--start 2025-03-03T09:00:00Z]
 */
import type { SimulationConfig } from './lib/config';
import { writeSimulation } from './lib/write-simulation';

const USAGE = 'usage: cli.js --seed N --out DIR [--minutes N] [--apps N] [--scale X] [--start ISO-or-epoch-ms] [--load-balancers N] [--churn-share X]';

interface CliArgs {
  out: string;
  config: Partial<SimulationConfig>;
}

export function parseCliArgs(argv: readonly string[]): CliArgs {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? '';
    const value = argv[i + 1];
    if (!flag.startsWith('--') || value === undefined) throw new Error(`${USAGE}\nunexpected argument ${JSON.stringify(flag)}`);
    values.set(flag.slice(2), value);
    i++;
  }
  const number = (name: string): number | undefined => {
    const raw = values.get(name);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${JSON.stringify(raw)}`);
    return n;
  };
  const start = values.get('start');
  const startMs = start === undefined ? undefined : /^\d+$/.test(start) ? Number(start) : Date.parse(start);
  if (startMs !== undefined && !Number.isFinite(startMs)) throw new Error(`--start must be an ISO date or epoch ms, got ${JSON.stringify(start)}`);
  const known = new Set(['seed', 'out', 'minutes', 'apps', 'scale', 'start', 'load-balancers', 'churn-share']);
  for (const name of values.keys()) if (!known.has(name)) throw new Error(`${USAGE}\nunknown option --${name}`);
  return {
    out: values.get('out') ?? '.data/sim',
    config: {
      seed: number('seed'),
      minutes: number('minutes'),
      apps: number('apps'),
      scale: number('scale'),
      startMs,
      loadBalancers: number('load-balancers'),
      churnShare: number('churn-share'),
    },
  };
}

function main(): void {
  let args: CliArgs;
  try {
    args = parseCliArgs(process.argv.slice(2));
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(2);
  }
  const began = process.hrtime.bigint();
  const summary = writeSimulation(args.config, args.out);
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  console.log(`simulated fleet written to ${args.out}`);
  console.log(`  seed ${summary.seed}, ${new Date(summary.startMs).toISOString()} .. ${new Date(summary.endMs).toISOString()}`);
  console.log(`  ${summary.apps} apps, ${summary.clusters} clusters, ${summary.instances} instances, ${summary.loadBalancers} load balancers, ${summary.reassignedIps} reassigned IPs`);
  console.log(`  ${summary.flowRecords} flow records, ${summary.natFlowLogLines} NAT flow log lines, ${summary.metadataEvents} metadata events`);
  console.log(`  truth: ${summary.appEdges} app edges, ${summary.clusterEdges} cluster edges (${summary.crossRegionClusterEdges} cross-region)`);
  console.log(`  ${seconds.toFixed(2)} s, ${Math.round(summary.flowRecords / seconds)} records/s written`);
}

if (require.main === module) main();
