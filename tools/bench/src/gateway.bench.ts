import * as fs from 'fs';
import { TopologyQueryService } from '@topology/query';
import { createTopologyClient, type DirectionName, type GranularityName } from '@topology/runtime-gateway';
import { planFleet, Random } from '@topology/sim';
import type { Direction, Granularity, NodeId, TimeRange } from '@topology/model';
import { AllInOne, testConfig } from './lib/all-in-one-under-test';
import { publishInterval, renderFleet } from './lib/fleet-feed';
import { readOptions } from './lib/options';
import { BenchReport } from './lib/report';
import { storeWalk } from './lib/store-walk';
import { count, distribution, ms, median } from './lib/stats';

/**
 * Multi-hop traversal latency against the all-in-one after it has mapped a simulated fleet: over
 * the real gRPC client, then the same queries through the in-process query service and the store
 * alone, to show where the time goes. Run: `npm run bench:gateway -- --queries 2000 --depth 3`.
 */
const options = readOptions({
  scale: { default: 1, description: 'simulated fleet scale' },
  minutes: { default: 10, description: 'minutes of simulated traffic fed before querying' },
  seed: { default: 42, description: 'fleet seed (and of the query mix)' },
  queries: { default: 2000, description: 'timed queries per path' },
  warmup: { default: 200, description: 'untimed queries per path first' },
  depth: { default: 3, description: 'traversal depth, hops' },
  'page-size': { default: 0, description: 'nodes per page; 0 = the gateway default' },
  paths: { default: 'grpc-network,grpc,service,store', description: 'paths to time, of grpc-network, grpc, service, store (one alone suits --cpu-prof)' },
  json: { default: '', description: 'write the result as JSON to this file' },
});

const TARGET_P99_MS = 20;
const DIRECTIONS: readonly Direction[] = ['down', 'up', 'both'];
const GRANULARITIES: readonly Granularity[] = ['app', 'cluster'];
const DIRECTION_NAMES: Record<Direction, DirectionName> = { down: 'DIRECTION_DOWN', up: 'DIRECTION_UP', both: 'DIRECTION_BOTH' };
const GRANULARITY_NAMES: Record<Granularity, GranularityName> = { app: 'GRANULARITY_APP', cluster: 'GRANULARITY_CLUSTER' };

interface Query {
  root: NodeId;
  direction: Direction;
  granularity: Granularity;
}

/**
 * Roots drawn uniformly from the apps and clusters that have at least one edge in the range (a
 * cluster without traffic is rightly `not-found`), alternating granularity and cycling through
 * down, up and both.
 */
function queryMix(roots: Record<Granularity, NodeId[]>, n: number, seed: number): Query[] {
  const random = new Random(seed).fork('gateway-bench');
  const out: Query[] = [];
  for (let i = 0; i < n; i++) {
    const granularity = GRANULARITIES[i % 2] as Granularity;
    const direction = DIRECTIONS[Math.floor(i / 2) % 3] as Direction;
    out.push({ root: random.pick(roots[granularity]), direction, granularity });
  }
  return out;
}

/** Workload nodes that end an edge at a granularity. */
function workloadsWithEdges(edges: readonly { src: NodeId; dst: NodeId }[], kind: 'app' | 'cluster'): NodeId[] {
  const ids = new Set<NodeId>();
  for (const e of edges) for (const id of [e.src, e.dst]) if (id.startsWith(`${kind}:`)) ids.add(id);
  return [...ids].sort();
}

async function timeEach(queries: readonly Query[], run: (q: Query) => Promise<{ nodes: number; edges: number }>): Promise<{ latencies: number[]; nodes: number[]; edges: number[] }> {
  const latencies: number[] = [];
  const nodes: number[] = [];
  const edges: number[] = [];
  for (const q of queries) {
    const t0 = performance.now();
    const r = await run(q);
    latencies.push(performance.now() - t0);
    nodes.push(r.nodes);
    edges.push(r.edges);
  }
  return { latencies, nodes, edges };
}

async function main(): Promise<void> {
  const report = new BenchReport(`gateway: ${options.depth}-hop traversal`, options.json);
  const fleet = planFleet({ seed: options.seed, scale: options.scale, minutes: options.minutes });
  const intervals = renderFleet(fleet);
  const config = testConfig();
  const app = await AllInOne.start(config, { log: (m) => (m.includes('failed') ? console.error(m) : undefined) });
  const client = createTopologyClient(app.grpcAddress);
  try {
    for (const interval of intervals) await publishInterval(app.bus, interval);
    await app.drain();
    const range: TimeRange = { fromMs: fleet.startMs, toMs: fleet.endMs + 60_000 };
    const pageSize = options['page-size'] > 0 ? options['page-size'] : undefined;
    // The gateway's own composition: one network layer read from the all-in-one's store.
    const service = new TopologyQueryService([{ layer: 'network', reader: app.store }], { liveTtlMs: config.liveTtlMs });
    const maxVisited = service.config.maxVisited;

    const allPaths: { id: string; name: string; run: (q: Query) => Promise<{ nodes: number; edges: number }> }[] = [
      {
        id: 'grpc',
        name: 'gRPC client → all-in-one',
        run: async (q) => {
          const r = await client.traverse({
            roots: [q.root],
            direction: DIRECTION_NAMES[q.direction],
            depth: options.depth,
            granularity: GRANULARITY_NAMES[q.granularity],
            range,
            ...(pageSize ? { pageSize } : {}),
          });
          return { nodes: r.nodes.length, edges: r.edges.length };
        },
      },
      {
        id: 'grpc-network',
        name: 'gRPC client → all-in-one, network layer asked for',
        run: async (q) => {
          const r = await client.traverse({
            roots: [q.root],
            direction: DIRECTION_NAMES[q.direction],
            depth: options.depth,
            granularity: GRANULARITY_NAMES[q.granularity],
            layers: ['LAYER_NETWORK'],
            range,
            ...(pageSize ? { pageSize } : {}),
          });
          return { nodes: r.nodes.length, edges: r.edges.length };
        },
      },
      {
        id: 'service',
        name: 'query service in process (no gRPC)',
        run: async (q) => {
          const r = await service.traverse({ roots: [q.root], direction: q.direction, depth: options.depth, granularity: q.granularity, range, ...(pageSize ? { pageSize } : {}) });
          return { nodes: r.nodes.length, edges: r.edges.length };
        },
      },
      {
        id: 'store',
        name: 'store traversal alone (whole result, no paging)',
        run: async (q) => {
          return storeWalk(app.store, { roots: [q.root], direction: q.direction, depth: options.depth, granularity: q.granularity, range, maxVisited });
        },
      },
    ];

    const appEdges = await app.store.listEdges({ granularity: 'app', range });
    const clusterEdges = await app.store.listEdges({ granularity: 'cluster', range });
    const roots = { app: workloadsWithEdges(appEdges, 'app'), cluster: workloadsWithEdges(clusterEdges, 'cluster') };
    const wanted = new Set(options.paths.split(',').map((p) => p.trim()));
    const paths = allPaths.filter((p) => wanted.has(p.id));
    if (paths.length === 0) throw new Error(`--paths names none of ${allPaths.map((p) => p.id).join(', ')}`);
    const warmup = queryMix(roots, options.warmup, options.seed + 1);
    const timed = queryMix(roots, options.queries, options.seed);
    report.note(
      `graph: ${count(appEdges.length)} app edges, ${count(clusterEdges.length)} cluster edges (fleet of ${fleet.apps.length} apps, ${fleet.clusters.length} clusters); ` +
        `${count(timed.length)} queries after ${count(warmup.length)} warm-up, roots over ${roots.app.length} apps and ${roots.cluster.length} clusters with edges, down/up/both`,
    );
    for (const path of paths) {
      await timeEach(warmup, path.run);
      const { latencies, nodes, edges } = await timeEach(timed, path.run);
      const d = distribution(latencies);
      report.note(`${path.name}: median answer ${count(median(nodes))} nodes / ${count(median(edges))} edges (max ${count(Math.max(...nodes))} / ${count(Math.max(...edges))})`);
      report.add({ name: `${path.name}: p50`, value: d.p50, unit: 'ms', text: ms(d.p50) });
      report.add({ name: `${path.name}: p90`, value: d.p90, unit: 'ms', text: ms(d.p90) });
      const isApi = path.id === 'grpc';
      report.add({ name: `${path.name}: p99`, value: d.p99, unit: 'ms', text: ms(d.p99), ...(isApi ? { target: { max: TARGET_P99_MS, text: `p99 < ${TARGET_P99_MS} ms` } } : {}) });
      report.add({ name: `${path.name}: max`, value: d.max, unit: 'ms', text: ms(d.max) });
      for (const direction of DIRECTIONS) {
        for (const granularity of GRANULARITIES) {
          const sub = distribution(latencies.filter((_, i) => timed[i]?.direction === direction && timed[i]?.granularity === granularity));
          report.note(`  ${direction.padEnd(4)} ${granularity.padEnd(7)} p50 ${ms(sub.p50)}  p90 ${ms(sub.p90)}  p99 ${ms(sub.p99)}  (${sub.count})`);
        }
      }
    }
  } finally {
    client.close();
    await app.stop();
    fs.rmSync(config.dataDir, { recursive: true, force: true });
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
