import { execFile, spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Kafka, logLevel } from 'kafkajs';
import type { Bus } from '@topology/bus';
import { KafkaBus } from '@topology/bus-kafka';
import { ContentTypes, Headers, type FlowRecord } from '@topology/contracts';
import { createTopologyClient, type TopologyClient } from '@topology/runtime-gateway';
import { lineChunks, pipelineTopicSpecs, pipelineTopics, type PipelineTopics } from '@topology/runtime-pipeline';
import { NAT_FLOW_LOG_FORMAT, flowRecordJson, generateIpcMetrics, generateTraces, generateTraffic, otlpTraceRequest, planFleet, type SimulationBatch } from '@topology/sim';
import { readOptions } from './lib/options';
import { BenchReport } from './lib/report';
import { count, distribution, ms, type Distribution } from './lib/stats';

/**
 * The stages as separate processes over a real Kafka broker. (a) Throughput of each stage through
 * Kafka: a simulated fleet is written to the flow topics first (and its IPC metrics and sampled
 * traces to `otlp_metrics` and `otlp_spans` as the Collector's Kafka exporter writes them), then
 * each stage is started alone on the backlog its predecessor left and timed until it has handled
 * all of it. (b)
 * Freshness end to end with the default settings: all four apps run while a fleet is published in
 * real time, and brand-new edges are polled over gRPC from the query gateway until they appear.
 * Run after `npm run build`: `node dist/tools/bench/src/kafka-pipeline.bench.js --apps 220 --minutes 5`.
 * Uses `KAFKA_BROKERS` when set, else starts a broker of its own with tools/kafka/kafka.sh.
 */
const options = readOptions({
  apps: { default: 220, description: 'throughput: apps of the simulated fleet' },
  minutes: { default: 5, description: 'throughput: minutes of simulated traffic' },
  scale: { default: 1, description: 'throughput: fleet scale (request connection rate multiplier)' },
  partitions: { default: 8, description: 'partitions of every pipeline topic' },
  'signal-minutes': { default: 30, description: 'throughput: minutes of the fleet whose IPC metrics and traces are written (a backlog long enough to time)' },
  'trace-sample-rate': { default: 0.1, description: 'throughput: share of requests traced (the fleet samples 1% live)' },
  'fresh-apps': { default: 60, description: 'freshness: apps of the fleet published in real time' },
  probes: { default: 30, description: 'freshness: new edges published and polled over gRPC' },
  'probe-gap-ms': { default: 2_000, description: 'freshness: time between two probes' },
  'kafka-port': { default: 19100, description: 'port of the broker started when KAFKA_BROKERS is not set' },
  only: { default: '', description: 'run only `throughput` or `freshness`' },
  json: { default: '', description: 'write the result as JSON to this file' },
});

type AppName = 'flow-ingestor' | 'intermediary-resolver' | 'enricher' | 'query-gateway' | 'ipc-ingestor' | 'trace-aggregator';
const FRESHNESS_TARGET_MS = 5_000;
const PROBE_TIMEOUT_MS = 30_000;

function repositoryRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'tools', 'kafka', 'kafka.sh'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no repository above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ host: '127.0.0.1', port: 0 }, () => {
      const bound = probe.address();
      probe.close(() => (bound !== null && typeof bound === 'object' ? resolve(bound.port) : reject(new Error('no free port'))));
    });
  });
}

function kafkaSh(command: 'start' | 'stop', port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', [path.join(repositoryRoot(), 'tools/kafka/kafka.sh'), command], { env: { ...process.env, KAFKA_PORT: String(port) } }, (error, _out, stderr) =>
      error ? reject(new Error(`kafka.sh ${command}: ${stderr || error.message}`)) : resolve(),
    );
  });
}

/** A built app as a child process, with its probes port and a log file. */
class App {
  private child: ChildProcess | undefined;
  constructor(
    readonly app: AppName,
    readonly env: Record<string, string>,
    readonly port: number,
    private readonly logFile: string,
  ) {}

  async start(): Promise<void> {
    const log = fs.openSync(this.logFile, 'a');
    // The bench runs from dist/tools/bench/src; the apps were built beside it.
    const main = path.resolve(__dirname, '../../../apps', this.app, 'src/main.js');
    this.child = spawn(process.execPath, [main], { env: { ...process.env, ...this.env, TOPOLOGY_HTTP_ADDRESS: `127.0.0.1:${this.port}` }, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`${this.app} exited; see ${this.logFile}`);
      const ok = await fetch(`http://127.0.0.1:${this.port}/readyz`).then((r) => r.status === 200, () => false);
      if (ok) return;
      await sleep(100);
    }
    throw new Error(`${this.app} not ready; see ${this.logFile}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  /** Sum of a metric's samples whose labels contain `match`. */
  async metric(name: string, match: Record<string, string> = {}): Promise<number> {
    const text = await fetch(`http://127.0.0.1:${this.port}/metrics`).then((r) => r.text());
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (Object.entries(match).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Publishes one interval of the fleet as its exporters would: records and NAT logs as line chunks, metadata first. */
async function publishBatch(bus: Bus, topics: PipelineTopics, batch: SimulationBatch, records: FlowRecord[] = batch.flows): Promise<void> {
  const send = (topic: string, lines: string[], headers: Record<string, string>) =>
    lines.length === 0 ? Promise.resolve() : bus.publish(topic, [...lineChunks(Buffer.from(lines.join('\n') + '\n'), 256 * 1024)].map((value) => ({ key: null, value, headers })));
  await send(topics.metadata, batch.metadata.map((e) => JSON.stringify(e)), { [Headers.contentType]: ContentTypes.metadataJsonLines });
  await send(topics.flowsCanonical, records.map(flowRecordJson), { [Headers.contentType]: ContentTypes.flowJsonLines });
  await send(topics.flowsVpc, batch.natFlowLog, { [Headers.contentType]: ContentTypes.vpcText, [Headers.vpcFormat]: NAT_FLOW_LOG_FORMAT });
}

/** Waits until `app` has handled every message of `topics` (its positions reach their ends) and the ends stay put for `stableMs`. */
async function caughtUp(app: App, admin: ReturnType<Kafka['admin']>, stage: string, topics: string[], stableMs = 1_500): Promise<number> {
  let lastEnds = '';
  let since = 0;
  for (;;) {
    let behind = false;
    const ends: string[] = [];
    for (const topic of topics) {
      for (const { partition, high } of await admin.fetchTopicOffsets(topic)) {
        ends.push(`${topic}/${partition}=${high}`);
        if (high !== '0' && (await app.metric(`topology_${stage}_consumer_position`, { topic, partition: String(partition) })) < Number(high)) behind = true;
      }
    }
    const now = Date.now();
    if (behind || ends.join() !== lastEnds) since = 0;
    else if (since === 0) since = now;
    lastEnds = ends.join();
    if (since > 0 && now - since >= stableMs) return since;
    await sleep(100);
  }
}

async function throughput(report: BenchReport, brokers: string, dir: string): Promise<void> {
  const fleet = planFleet({ seed: 42, apps: options.apps, minutes: options.minutes, scale: options.scale });
  const topics = pipelineTopics(`bench-${Date.now().toString(36)}.`);
  const bus = new KafkaBus({ brokers: [brokers], clientId: 'bench-feeder', logLevel: 'error' });
  const admin = new Kafka({ brokers: [brokers], clientId: 'bench-watcher', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  // Windows open for the whole backlog: a stage reading hours of event time in seconds should handle every record, not reject the late ones.
  const env = {
    TOPOLOGY_KAFKA_BROKERS: brokers,
    TOPOLOGY_TOPIC_PREFIX: topics.metadata.slice(0, topics.metadata.indexOf('metadata')),
    TOPOLOGY_TOPIC_PARTITIONS: String(options.partitions),
    TOPOLOGY_DATA_DIR: path.join(dir, 'throughput'),
    TOPOLOGY_RETENTION_MS: String(20 * 365 * 86_400_000),
    TOPOLOGY_ALLOWED_LATENESS_MS: String(Math.max(600_000, options.minutes * 120_000)),
    TOPOLOGY_KAFKA_LOG_LEVEL: 'error',
  };
  try {
    await bus.ensureTopics(pipelineTopicSpecs(topics, options.partitions));
    let records = 0;
    const t0 = performance.now();
    for (const batch of generateTraffic(fleet)) {
      await publishBatch(bus, topics, batch);
      records += batch.flows.length + batch.natFlowLog.length;
    }
    const published = performance.now() - t0;
    report.note(`throughput: ${count(records)} flow records (${options.apps} apps, ${options.minutes} min, scale ${options.scale}) written to Kafka in ${ms(published)}; ${options.partitions} partitions per topic`);
    const signals = planFleet({ seed: 43, apps: options.apps, minutes: options['signal-minutes'], scale: options.scale });
    let exports = 0;
    for (const batch of generateIpcMetrics(signals, generateTraffic(signals))) {
      // The Collector's exporter writes metrics without a key (round-robin over the partitions).
      await bus.publish(topics.otlpMetrics, batch.requests.map((r) => ({ key: null, value: r.request })));
      exports += batch.requests.length;
    }
    let traces = 0;
    let spans = 0;
    for (const batch of generateTraces(signals, undefined, { sampleRate: options['trace-sample-rate'] })) {
      // ... and spans keyed by trace id (`partition_traces_by_id`), protobuf without a content type.
      await bus.publish(topics.otlpSpans, batch.traces.map((t) => ({ key: t.traceId, value: otlpTraceRequest(t.spans) })));
      traces += batch.traces.length;
      spans += batch.traces.reduce((n, t) => n + t.spans.length, 0);
    }
    report.note(`throughput: ${count(exports)} OTLP metric exports and ${count(traces)} traces (${count(spans)} spans, ${options['trace-sample-rate'] * 100}% of requests) of ${options['signal-minutes']} min of the fleet written to Kafka`);

    const stages: { app: AppName; stage: string; input: string; unit: string; items?: { metric: string; unit: string } }[] = [
      { app: 'flow-ingestor', stage: 'flow_ingestor', input: '', unit: 'flow records' },
      { app: 'intermediary-resolver', stage: 'intermediary_resolver', input: topics.flowsPartial, unit: 'partial snapshots' },
      { app: 'enricher', stage: 'enricher', input: topics.edgesResolved, unit: 'edge contributions' },
      { app: 'ipc-ingestor', stage: 'ipc_ingestor', input: topics.otlpMetrics, unit: 'OTLP exports', items: { metric: 'topology_ipc_ingestor_data_points_accepted_total', unit: 'data points' } },
      { app: 'trace-aggregator', stage: 'trace_aggregator', input: topics.otlpSpans, unit: 'traces', items: { metric: 'topology_span_decoder_spans_decoded_total', unit: 'spans' } },
    ];
    for (const { app, stage, input, unit, items } of stages) {
      const process = new App(app, { ...env, TOPOLOGY_DATA_DIR: path.join(dir, 'throughput', app) }, await freePort(), path.join(dir, `${app}.log`));
      const inputs = input === '' ? [topics.flowsCanonical, topics.flowsVpc] : [input];
      const t = performance.now();
      await process.start();
      const start = Date.now();
      const done = await caughtUp(process, admin, stage, inputs);
      const consumed = input === '' ? records : await process.metric(`topology_${stage}_consumed_records_total`, { topic: input });
      const handled = items === undefined ? 0 : await process.metric(items.metric);
      await process.stop();
      const seconds = (done - start) / 1000;
      report.note(`throughput: ${app} handled ${count(consumed)} ${unit}${items === undefined ? '' : ` (${count(handled)} ${items.unit})`} in ${seconds.toFixed(1)} s after start (${ms(performance.now() - t)} with start and stop)`);
      report.add({ name: `throughput: ${app}, ${unit}/s through Kafka`, value: consumed / seconds, unit: `${unit}/s`, text: `${count(consumed / seconds)} /s` });
      if (items !== undefined) report.add({ name: `throughput: ${app}, ${items.unit}/s through Kafka`, value: handled / seconds, unit: `${items.unit}/s`, text: `${count(handled / seconds)} /s` });
      else if (input !== '') report.add({ name: `throughput: ${app}, flow records/s equivalent`, value: records / seconds, unit: 'records/s', text: `${count(records / seconds)} /s` });
    }
  } finally {
    await admin.disconnect();
    await bus.close();
  }
}

/** The two records both hosts of a brand-new connection report, ending now. */
function probeRecords(i: number, nowMs: number): FlowRecord[] {
  const client = { app: `kprobe${i}c`, cluster: `kprobe${i}c-prod-v001`, region: 'us-east-1' };
  const server = { app: `kprobe${i}s`, cluster: `kprobe${i}s-prod-v001`, region: 'us-east-1' };
  const clientIp = `10.251.${i >> 7}.${(i & 127) * 2 + 1}`;
  const serverIp = `10.251.${i >> 7}.${(i & 127) * 2 + 2}`;
  const common = { protocol: 'tcp', startMs: nowMs - 2_000, endMs: nowMs, retransmits: 0, rttUs: 400, connections: 1 };
  return [
    { ...common, local: { ip: clientIp, port: 40_000 + i }, remote: { ip: serverIp, port: 8080 }, localIdentity: client, role: 'client', bytesSent: 900, bytesReceived: 4_000, packetsSent: 3, packetsReceived: 5 },
    { ...common, local: { ip: serverIp, port: 8080 }, remote: { ip: clientIp, port: 40_000 + i }, localIdentity: server, role: 'server', bytesSent: 4_000, bytesReceived: 900, packetsSent: 5, packetsReceived: 3 },
  ];
}

async function probe(bus: Bus, topics: PipelineTopics, client: TopologyClient, i: number): Promise<number> {
  const t0 = Date.now();
  await bus.publish(topics.flowsCanonical, [{ key: null, value: Buffer.from(probeRecords(i, t0).map(flowRecordJson).join('\n') + '\n'), headers: { [Headers.contentType]: ContentTypes.flowJsonLines } }]);
  const root = `app:kprobe${i}c`;
  while (Date.now() - t0 < PROBE_TIMEOUT_MS) {
    try {
      const page = await client.traverse({ roots: [root], direction: 'DIRECTION_DOWN', depth: 1, granularity: 'GRANULARITY_APP' });
      if (page.edges.some((e) => e.src === root && e.dst === `app:kprobe${i}s`)) return Date.now() - t0;
    } catch {
      // Unknown until its first bucket is written.
    }
    await sleep(20);
  }
  return Number.POSITIVE_INFINITY;
}

async function freshness(report: BenchReport, brokers: string, dir: string): Promise<void> {
  const prefix = `bench-fresh-${Date.now().toString(36)}.`;
  const topics = pipelineTopics(prefix);
  const grpcPort = await freePort();
  // Default settings: only addresses, the data folder and the topic prefix are given.
  const env = { TOPOLOGY_KAFKA_BROKERS: brokers, TOPOLOGY_TOPIC_PREFIX: prefix, TOPOLOGY_DATA_DIR: path.join(dir, 'freshness'), TOPOLOGY_GRPC_ADDRESS: `127.0.0.1:${grpcPort}` };
  const apps = await Promise.all((['enricher', 'intermediary-resolver', 'flow-ingestor', 'query-gateway'] as AppName[]).map(async (a) => new App(a, env, await freePort(), path.join(dir, `fresh-${a}.log`))));
  const bus = new KafkaBus({ brokers: [brokers], clientId: 'bench-fresh', logLevel: 'error' });
  const client = createTopologyClient(`127.0.0.1:${grpcPort}`);
  try {
    for (const app of apps) await app.start();
    const runMs = options.probes * options['probe-gap-ms'];
    const startMs = Math.floor(Date.now() / 10_000) * 10_000;
    const fleet = planFleet({ seed: 42, apps: options['fresh-apps'], startMs, minutes: Math.max(1, Math.ceil(runMs / 60_000)) });
    let fed = 0;
    let stop = false;
    // Agents report an interval when it ends: each batch goes out at its interval's end on the wall clock.
    const feeding = (async () => {
      for (const batch of generateTraffic(fleet)) {
        const due = batch.window.endMs - Date.now();
        if (due > 0) await sleep(due);
        if (stop) return;
        await publishBatch(bus, topics, batch);
        fed += batch.flows.length + batch.natFlowLog.length;
      }
    })();
    const latencies: number[] = [];
    for (let i = 0; i < options.probes; i++) {
      const t = Date.now();
      latencies.push(await probe(bus, topics, client, i));
      await sleep(Math.max(0, options['probe-gap-ms'] - (Date.now() - t)));
    }
    stop = true;
    await feeding;
    const d = distribution(latencies);
    const enricher = apps[0] as App;
    const persisted = await enricher.metric('topology_enricher_freshness_seconds_count');
    report.note(`freshness: ${options.probes} probes over ${(runMs / 1000).toFixed(0)} s while a ${options['fresh-apps']}-app fleet was published in real time (${count(fed)} records); every app at its default settings`);
    addDistribution(report, 'freshness: new edge published to Kafka → seen over gRPC', d);
    for (const le of ['0.5', '1', '2', '3', '5']) {
      const within = await enricher.metric('topology_enricher_freshness_seconds_bucket', { le });
      report.note(`freshness: ${((100 * within) / Math.max(1, persisted)).toFixed(1)}% of ${count(persisted)} persisted contributions within ${le} s of their records' publish time (enricher histogram)`);
    }
  } finally {
    client.close();
    await bus.close();
    for (const app of apps.reverse()) await app.stop();
  }
}

function addDistribution(report: BenchReport, name: string, d: Distribution): void {
  report.add({ name: `${name} p50`, value: d.p50, unit: 'ms', text: ms(d.p50) });
  report.add({ name: `${name} p99`, value: d.p99, unit: 'ms', text: ms(d.p99), target: { max: FRESHNESS_TARGET_MS, text: `p99 < ${FRESHNESS_TARGET_MS / 1000} s` } });
  report.add({ name: `${name} max`, value: d.max, unit: 'ms', text: ms(d.max) });
}

async function main(): Promise<void> {
  if (options.only !== '' && options.only !== 'throughput' && options.only !== 'freshness') throw new Error('--only takes throughput or freshness');
  const report = new BenchReport('stages as processes over Kafka', options.json);
  const given = process.env['KAFKA_BROKERS'];
  const port = options['kafka-port'];
  if (given === undefined || given === '') await kafkaSh('start', port);
  const brokers = given !== undefined && given !== '' ? (given.split(',')[0] as string) : `127.0.0.1:${port}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-kafka-bench-'));
  try {
    if (options.only !== 'freshness') await throughput(report, brokers, dir);
    if (options.only !== 'throughput') await freshness(report, brokers, dir);
  } finally {
    if (given === undefined || given === '') await kafkaSh('stop', port);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  report.finish();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
