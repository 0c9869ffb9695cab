import { Topics, type IpOwnership } from '@topology/contracts';
import { planFleet } from '@topology/sim';
import { readOptions } from './lib/options';
import { BenchReport } from './lib/report';
import { buildStage1Input, STAGE1_FORMATS, type Stage1Format } from './lib/stage1-input';
import { runStage1Round, type Stage1Round } from './lib/stage1-round';
import { count, median, mib } from './lib/stats';

/**
 * Stage 1 (parse + attribute + pre-aggregate) records per second on one core, per input format.
 * Run: `npm run bench:stage1 -- --scale 4 --rounds 5` (add `node --expose-gc` for steadier heap figures).
 */
const options = readOptions({
  scale: { default: 4, description: 'simulated fleet scale (request connection rate multiplier)' },
  minutes: { default: 10, description: 'minutes of simulated traffic' },
  seed: { default: 42, description: 'fleet seed' },
  rounds: { default: 5, description: 'timed rounds per format' },
  warmup: { default: 1, description: 'untimed rounds per format before the timed ones' },
  lines: { default: 1000, description: 'lines per payload (bus message)' },
  partitions: { default: 4, description: 'source partitions (scopes) payloads are spread over' },
  'flush-every': { default: 100_000, description: 'records between two flush() calls' },
  formats: { default: STAGE1_FORMATS.join(','), description: `formats to measure, of ${STAGE1_FORMATS.join(', ')}` },
  json: { default: '', description: 'write the result as JSON to this file' },
});

const TARGET_RECORDS_PER_SECOND = 250_000;
const REGION = 'local';

const TOPIC: Record<Stage1Format, string> = {
  canonical: Topics.flowsCanonical,
  'canonical-protobuf': Topics.flowsCanonical,
  'vpc-v2': Topics.flowsVpc,
  'vpc-v5': Topics.flowsVpc,
  'vpc-nat': Topics.flowsVpc,
};

function main(): void {
  const formats = options.formats.split(',').map((f) => f.trim()) as Stage1Format[];
  const unknown = formats.filter((f) => !(STAGE1_FORMATS as readonly string[]).includes(f));
  if (unknown.length > 0) throw new Error(`unknown formats ${unknown.join(', ')}; known: ${STAGE1_FORMATS.join(', ')}`);
  const report = new BenchReport('stage 1: parse + attribute + pre-aggregate, one core', options.json);

  const built = Date.now();
  const fleet = planFleet({ seed: options.seed, scale: options.scale, minutes: options.minutes });
  // Canonical records are always rendered: their learned ownership is what the VPC formats are attributed by.
  const input = buildStage1Input(fleet, [...new Set<Stage1Format>(['canonical', ...formats])], options.lines, options.partitions);
  const run = (format: Stage1Format, ownership: readonly IpOwnership[]): Stage1Round =>
    runStage1Round(input.payloads[format], {
      metadata: input.metadata,
      ownership,
      startMs: input.startMs,
      endMs: input.endMs,
      region: REGION,
      flushEvery: options['flush-every'],
      topic: TOPIC[format],
    });
  for (const format of formats) {
    const payloads = input.payloads[format];
    const records = payloads.reduce((s, p) => s + p.records, 0);
    const bytes = payloads.reduce((s, p) => s + p.value.length, 0);
    report.note(`input ${format}: ${count(records)} records in ${count(payloads.length)} payloads, ${mib(bytes)}`);
  }
  report.note(`fleet: ${fleet.apps.length} apps, ${fleet.clusters.length} clusters, ${options.minutes} min at scale ${options.scale}; rendered in ${((Date.now() - built) / 1000).toFixed(1)} s`);

  // What an instance reading the ownership topic would know: the ranges the host agents' records teach.
  const learned = run('canonical', []).ownershipPublished;
  report.note(`ownership ranges learned from the canonical records (given to the VPC rounds): ${count(learned.length)}`);

  for (const format of formats) {
    const ownership = format === 'canonical' ? [] : learned;
    for (let i = 0; i < options.warmup; i++) run(format, ownership);
    const rounds: Stage1Round[] = [];
    for (let i = 0; i < options.rounds; i++) rounds.push(run(format, ownership));
    const perCpu = rounds.map((r) => r.records / r.cpuSeconds);
    const perWall = rounds.map((r) => r.records / r.wallSeconds);
    const first = rounds[0] as Stage1Round;
    const rules = [...first.endsByRule].map(([rule, n]) => `${rule} ${count(n)}`).join(', ');
    report.note(
      `${format}: ${count(first.records)} records → ${count(first.flows)} flows, ${count(first.rejected)} rejected, ${count(first.snapshots)} snapshots, ${count(first.heldAtEnd)} held at end; ends by rule: ${rules}`,
    );
    const target = { min: TARGET_RECORDS_PER_SECOND, text: `≥ ${count(TARGET_RECORDS_PER_SECOND)} records/s` };
    const medianCpu = median(perCpu);
    report.add({ name: `${format}: records per CPU-second, median of ${rounds.length}`, value: medianCpu, unit: 'records/s', text: `${count(medianCpu)} /s`, target });
    report.add({ name: `${format}: records per CPU-second, best`, value: Math.max(...perCpu), unit: 'records/s', text: `${count(Math.max(...perCpu))} /s` });
    report.add({ name: `${format}: records per wall-second, median`, value: median(perWall), unit: 'records/s', text: `${count(median(perWall))} /s` });
    const heap = median(rounds.map((r) => r.heapUsedBytes));
    report.add({ name: `${format}: heap used after a round (state + input)`, value: heap / 1_048_576, unit: 'MiB', text: mib(heap) });
  }
  report.finish();
}

main();
