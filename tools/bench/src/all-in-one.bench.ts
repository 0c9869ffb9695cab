import * as fs from 'fs';
import { publishFlows } from '@topology/runtime-pipeline';
import { createTopologyClient, type TopologyClient } from '@topology/runtime-gateway';
import { fleetTruth, flowRecordJson, planFleet } from '@topology/sim';
import { DeadLetterCodec, deadLetterTopic, Topics, type FlowRecord } from '@topology/contracts';
import { AllInOne, testConfig } from './lib/all-in-one-under-test';
import { publishInterval, renderFleet } from './lib/fleet-feed';
import { readOptions } from './lib/options';
import { BenchReport } from './lib/report';
import { count, distribution, ms, type Distribution } from './lib/stats';

/**
 * The all-in-one end to end on this machine: (a) throughput, a simulated fleet published as fast as
 * the bus takes it and drained into the store; (b) freshness, the fleet published in accelerated
 * real time while probes of brand-new edges are polled over gRPC until queryable.
 * Run: `npm run bench:all-in-one -- --scale 1 --speed 10 --probes 50`.
 */
const options = readOptions({
  scale: { default: 1, description: 'throughput: fleet scale (request connection rate multiplier)' },
  minutes: { default: 10, description: 'throughput: minutes of simulated traffic' },
  'fresh-scale': { default: 1, description: 'freshness: fleet scale' },
  'fresh-minutes': { default: 10, description: 'freshness: minutes of simulated traffic' },
  speed: { default: 10, description: 'freshness: event time runs this many times faster than the wall clock' },
  probes: { default: 50, description: 'freshness: new edges published and polled over gRPC' },
  'poll-ms': { default: 20, description: 'freshness: gap between two polls of a probe' },
  'flush-interval': { default: 250, description: 'stage flush interval, milliseconds' },
  seed: { default: 42, description: 'fleet seed' },
  verbose: { default: false, description: 'print every probe as it completes' },
  only: { default: '', description: 'run only `throughput` or `freshness`' },
  json: { default: '', description: 'write the result as JSON to this file' },
});

const FRESHNESS_TARGET_MS = 5_000;
const PROBE_TIMEOUT_MS = 20_000;
/** Event time may run at most this far from the wall clock: stage 1 refuses records > 5 min ahead. */
const MAX_SKEW_MS = 4.5 * 60_000;

const quiet = { log: (m: string) => (m.includes('failed') ? console.error(m) : undefined) };

async function throughput(report: BenchReport): Promise<void> {
  const fleet = planFleet({ seed: options.seed, scale: options.scale, minutes: options.minutes });
  const intervals = renderFleet(fleet);
  const records = intervals.reduce((s, i) => s + i.records, 0);
  const config = { ...testConfig(), flushIntervalMs: options['flush-interval'] };
  const app = await AllInOne.start(config, quiet);
  const deadLetters = await watchDeadLetters(app);
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (const interval of intervals) await publishInterval(app.bus, interval);
    const published = performance.now();
    await app.drain();
    const t1 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const seconds = (t1 - t0) / 1000;
    const truth = fleetTruth(fleet);
    const range = { fromMs: fleet.startMs, toMs: fleet.endMs + 60_000 };
    const appEdges = await app.store.listEdges({ granularity: 'app', range });
    report.note(
      `throughput: ${count(records)} records (${options.minutes} min fleet, scale ${options.scale}); published in ${ms(published - t0)}, drained after ${ms(t1 - t0)}; ` +
        `store has ${count(appEdges.length)} app edges (truth ${count(truth.appEdges.length)}); process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s over ${seconds.toFixed(1)} s wall`,
    );
    report.note(`throughput: pipeline volume: ${pipelineVolume(app)}`);
    if (deadLetters.size > 0) report.note(`throughput: dead letters: ${[...deadLetters].map(([what, n]) => `${n} × ${what}`).join('; ')}`);
    report.add({ name: 'throughput: records/s, first publish to drained store', value: records / seconds, unit: 'records/s', text: `${count(records / seconds)} /s` });
  } finally {
    await app.stop();
    fs.rmSync(config.dataDir, { recursive: true, force: true });
  }
}

/** Messages per topic and what stage 3 wrote: where an end-to-end run's work went. */
function pipelineVolume(app: AllInOne): string {
  const published = app.bus.counters
    .entries()
    .filter((e) => e.name === 'messages_published' && e.label !== undefined && !e.label.endsWith('.dlq'))
    .map((e) => `${e.label} ${count(e.value)}`);
  const enricher = app.stages.enrich.enricher.counters;
  const written = `${count(enricher.get('buckets_written'))} buckets and ${count(enricher.get('nodes_written'))} nodes written to the store`;
  const contributions = `${count(enricher.get('contributions_accepted'))} contributions accepted, ${count(enricher.get('contributions_replaced'))} replaced`;
  return `messages ${published.join(', ')}; ${contributions}; ${written}`;
}

/** Counts what the stages dead-letter, by topic, reason and message (numbers masked so alike messages group). */
async function watchDeadLetters(app: AllInOne): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  await app.bus.subscribe({
    topics: [Topics.flowsCanonical, Topics.flowsVpc, Topics.flowsPartial, Topics.edgesResolved, Topics.metadata].map(deadLetterTopic),
    groupId: 'bench.dead-letters',
    fromBeginning: true,
    handler: async (batch) => {
      for (const m of batch.messages) {
        const d = DeadLetterCodec.decode(m.value);
        const what = `${d.sourceTopic} ${d.reason}: ${d.message.replace(/\d+/g, 'N').slice(0, 140)}`;
        seen.set(what, (seen.get(what) ?? 0) + 1);
      }
    },
  });
  return seen;
}

/** The two records both hosts of a brand-new connection report, ending now. */
function probeRecords(i: number, nowMs: number): FlowRecord[] {
  const client = { app: `benchprobe${i}c`, cluster: `benchprobe${i}c-prod-v001`, region: 'us-east-1' };
  const server = { app: `benchprobe${i}s`, cluster: `benchprobe${i}s-prod-v001`, region: 'us-east-1' };
  // 10.250.0.0/16 is outside both simulated regions' ranges: the pair is new in every respect.
  const clientIp = `10.250.${i >> 7}.${(i & 127) * 2 + 1}`;
  const serverIp = `10.250.${i >> 7}.${(i & 127) * 2 + 2}`;
  const common = { protocol: 'tcp', startMs: nowMs - 2_000, endMs: nowMs, retransmits: 0, rttUs: 400, connections: 1 };
  return [
    { ...common, local: { ip: clientIp, port: 40_000 + i }, remote: { ip: serverIp, port: 8080 }, localIdentity: client, role: 'client', bytesSent: 900, bytesReceived: 4_000, packetsSent: 3, packetsReceived: 5 },
    { ...common, local: { ip: serverIp, port: 8080 }, remote: { ip: clientIp, port: 40_000 + i }, localIdentity: server, role: 'server', bytesSent: 4_000, bytesReceived: 900, packetsSent: 5, packetsReceived: 3 },
  ];
}

/**
 * Publishes a probe whose records end at `eventMs` and polls over gRPC until its edge is there;
 * milliseconds from publish to seen, NaN when it never showed up.
 */
async function probe(app: AllInOne, client: TopologyClient, i: number, eventMs: number, range: { fromMs: number; toMs: number }): Promise<number> {
  const t0 = performance.now();
  await publishFlows(app.bus, 'canonical', Buffer.from(probeRecords(i, eventMs).map(flowRecordJson).join('\n') + '\n'));
  const root = `app:benchprobe${i}c`;
  const target = `app:benchprobe${i}s`;
  while (performance.now() - t0 < PROBE_TIMEOUT_MS) {
    try {
      const page = await client.traverse({ roots: [root], direction: 'DIRECTION_DOWN', depth: 1, granularity: 'GRANULARITY_APP', range });
      if (page.edges.some((e) => e.src === root && e.dst === target)) return performance.now() - t0;
    } catch {
      // Not found yet: the root is unknown until its first bucket is written.
    }
    await new Promise((resolve) => setTimeout(resolve, options['poll-ms']));
  }
  return Number.NaN;
}

async function freshness(report: BenchReport): Promise<void> {
  const speed = options.speed;
  const runMs = options['fresh-minutes'] * 60_000;
  const wallMs = runMs / speed;
  // Centre event time on the wall clock: it starts behind and ends ahead by the same amount.
  const lagMs = ((speed - 1) * runMs) / (2 * speed);
  if (lagMs > MAX_SKEW_MS) throw new Error(`--speed ${speed} over ${options['fresh-minutes']} min puts event time ${(lagMs / 60_000).toFixed(1)} min from now; lower one of them`);
  const now = Date.now();
  const startMs = Math.floor((now + wallMs * 0.05 - lagMs) / 10_000) * 10_000;
  const fleet = planFleet({ seed: options.seed, scale: options['fresh-scale'], minutes: options['fresh-minutes'], startMs });
  const intervals = renderFleet(fleet);
  const records = intervals.reduce((s, i) => s + i.records, 0);

  const latencies: number[] = [];
  const config = { ...testConfig(), flushIntervalMs: options['flush-interval'] };
  let measuring = false;
  const app = await AllInOne.start(config, {
    ...quiet,
    onPersisted: (arrivals, persistedAtMs) => {
      if (measuring) for (const at of arrivals) latencies.push(persistedAtMs - at);
    },
  });
  const client = createTopologyClient(app.grpcAddress);
  try {
    // Event time t of the fleet is published when the accelerated clock reaches t, as agents report at interval end.
    const wall0 = Date.now();
    const wallOf = (eventMs: number) => wall0 + (eventMs - fleet.startMs) / speed;
    measuring = true;
    let lateMs = 0;
    const feeding = (async () => {
      for (const interval of intervals) {
        const due = wallOf(interval.endMs) - Date.now();
        if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
        else lateMs = Math.max(lateMs, -due);
        await publishInterval(app.bus, interval);
      }
    })();
    const probeLatencies: number[] = [];
    const gapMs = wallMs / (options.probes + 1);
    // The fleet's whole run: its event time is ahead of the wall clock in the second half, beyond the live view.
    const range = { fromMs: fleet.startMs - 60_000, toMs: fleet.endMs + 60_000 };
    for (let i = 0; i < options.probes; i++) {
      const due = wall0 + (i + 1) * gapMs - Date.now();
      if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
      // A probe happens at the fleet's current event time: an older one would fall in a window already closed.
      const eventMs = fleet.startMs + (Date.now() - wall0) * speed;
      probeLatencies.push(await probe(app, client, i, eventMs, range));
      if (options.verbose) console.log(`  probe ${i}: ${ms(probeLatencies[i] ?? Number.NaN)} (event time ${((eventMs - Date.now()) / 1000).toFixed(0)} s from now)`);
    }
    await feeding;
    await app.drain();
    measuring = false;
    const wall = (Date.now() - wall0) / 1000;
    report.note(
      `freshness: ${count(records)} records (${options['fresh-minutes']} min fleet, scale ${options['fresh-scale']}) at ${speed}× real time ` +
        `(${count(records / (wallMs / 1000))} records/s offered) over ${wall.toFixed(0)} s; flush interval ${config.flushIntervalMs} ms; publisher at most ${ms(lateMs)} behind schedule`,
    );
    addDistribution(report, 'freshness: arrival → queryable (onPersisted)', distribution(latencies), 'persisted contributions');
    const found = probeLatencies.filter((l) => Number.isFinite(l));
    if (found.length < probeLatencies.length) report.note(`freshness: ${probeLatencies.length - found.length} probes not queryable within ${PROBE_TIMEOUT_MS / 1000} s`);
    // A probe never seen counts as infinitely late, so it can only worsen the figures.
    const probes = distribution(probeLatencies.map((l) => (Number.isFinite(l) ? l : Number.POSITIVE_INFINITY)));
    addDistribution(report, 'freshness: new edge published → seen over gRPC', probes, 'probes');
  } finally {
    client.close();
    await app.stop();
    fs.rmSync(config.dataDir, { recursive: true, force: true });
  }
}

function addDistribution(report: BenchReport, name: string, d: Distribution, what: string): void {
  report.note(`${name}: ${count(d.count)} ${what}`);
  report.add({ name: `${name} p50`, value: d.p50, unit: 'ms', text: ms(d.p50) });
  report.add({ name: `${name} p90`, value: d.p90, unit: 'ms', text: ms(d.p90) });
  report.add({ name: `${name} p99`, value: d.p99, unit: 'ms', text: ms(d.p99), target: { max: FRESHNESS_TARGET_MS, text: `p99 < ${FRESHNESS_TARGET_MS / 1000} s` } });
  report.add({ name: `${name} max`, value: d.max, unit: 'ms', text: ms(d.max) });
}

async function main(): Promise<void> {
  if (options.only !== '' && options.only !== 'throughput' && options.only !== 'freshness') throw new Error('--only takes throughput or freshness');
  const report = new BenchReport('all-in-one end to end', options.json);
  if (options.only !== 'freshness') await throughput(report);
  if (options.only !== 'throughput') await freshness(report);
  report.finish();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
