import { DEFAULT_IPC_INGESTOR_CONFIG, IpcIngestor } from '@topology/ipc-ingest';
import { ManualClock } from '@topology/model';
import { IpcMetricsGenerator, planFleet } from '@topology/sim';

/**
 * ipc-ingestor data points per second on one core: the simulated fleet's OTLP exports (protobuf
 * ExportMetricsServiceRequest, one per app and interval, delta histograms) decoded, read and
 * aggregated into application-layer buckets, with a flush every `--flush-every` requests.
 * Rendering the exports is not timed. Run after `npm run build`:
 * `node dist/tools/bench/src/ipc-ingest.bench.js --scale 4 --minutes 10 --rounds 5`.
 */

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

const TARGET_POINTS_PER_SECOND = 100_000;

function main(): void {
  const scale = option('scale', 4);
  const minutes = option('minutes', 10);
  const rounds = option('rounds', 5);
  const flushEvery = option('flush-every', 200);
  const seed = option('seed', 42);

  const rendered = Date.now();
  const fleet = planFleet({ seed, scale, minutes });
  const generator = new IpcMetricsGenerator(fleet);
  const requests: Uint8Array[] = [];
  let points = 0;
  let calls = 0;
  for (let i = 0; i < fleet.intervals; i++) {
    const startMs = fleet.startMs + i * fleet.config.intervalMs;
    const batch = generator.interval(i, { startMs, endMs: startMs + fleet.config.intervalMs });
    for (const r of batch.requests) requests.push(r.request);
    points += batch.dataPoints;
    calls += batch.calls;
  }
  const bytes = requests.reduce((s, r) => s + r.length, 0);
  console.log(`ipc-ingestor: OTLP protobuf decode + read + aggregate + flush, one core`);
  console.log(`input: ${fleet.apps.length} apps, ${minutes} min at scale ${scale}: ${requests.length} exports, ${points} data points, ${calls} calls, ${(bytes / 1048576).toFixed(1)} MiB; rendered in ${((Date.now() - rendered) / 1000).toFixed(1)} s`);

  const results: number[] = [];
  for (let round = 0; round <= rounds; round++) {
    const ipc = new IpcIngestor(DEFAULT_IPC_INGESTOR_CONFIG, new ManualClock(fleet.endMs));
    let buckets = 0;
    const cpu = process.cpuUsage();
    const wall = process.hrtime.bigint();
    for (let i = 0; i < requests.length; i++) {
      const rejected = ipc.ingest(requests[i] as Uint8Array, 'otlp-protobuf');
      if (rejected.length > 0) throw new Error(`rejected: ${rejected[0]?.message}`);
      if ((i + 1) % flushEvery === 0) buckets += ipc.flush().buckets.length;
    }
    buckets += ipc.flush().buckets.length;
    const used = process.cpuUsage(cpu);
    const cpuSeconds = (used.user + used.system) / 1e6;
    const wallSeconds = Number(process.hrtime.bigint() - wall) / 1e9;
    const accepted = ipc.counters.get('data_points_accepted');
    if (accepted !== points) throw new Error(`accepted ${accepted} of ${points} data points`);
    // The first round warms the JIT up and is not counted.
    if (round > 0) results.push(points / cpuSeconds);
    console.log(`${round === 0 ? 'warm-up' : `round ${round}`}: ${(points / cpuSeconds).toFixed(0)} points/CPU-s, ${(points / wallSeconds).toFixed(0)} points/s wall, ${buckets} bucket writes`);
  }
  const sorted = [...results].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  console.log(`median: ${median.toFixed(0)} data points per CPU-second (target ≥ ${TARGET_POINTS_PER_SECOND}) ${median >= TARGET_POINTS_PER_SECOND ? 'PASS' : 'BELOW TARGET'}`);
  console.log(`heap used: ${(process.memoryUsage().heapUsed / 1048576).toFixed(0)} MiB`);
}

main();
