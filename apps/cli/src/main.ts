import { parseArgs } from 'util';
import { createTopologyClient, type DirectionName } from '@topology/runtime-gateway';
import { formatBlastRadius, formatCoverage, formatDiagnosis, formatNode, formatTraceOverlay, formatTraversal } from './lib/format';

const USAGE = `usage: npm run cli -- <command> [<node>] [options]
commands:
  deps <node>      dependencies (--up: dependents, --both) to --depth N (default 1)
  node <node>      a node's details and direct neighbours
  blast <node>     everything that depends on <node>, and the teams to notify
  diagnose <node>  is <node> failing itself, or something it depends on? (--depth N, default the server's)
  coverage         services the network sees that report no application metrics, and the reverse
  trace <trace-id> one request's path over the map, from the span index (hex trace id)
nodes: app:checkout, cluster:checkout-prod-v012, or a bare name (read at --granularity)
options: --granularity app|cluster  --hops  --tier T  --owner O  --domain D  --region R
         --page-size N  --page-token T  --json  --addr host:port (default 127.0.0.1:50051, or TOPOLOGY_GRPC)`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      up: { type: 'boolean', default: false },
      both: { type: 'boolean', default: false },
      depth: { type: 'string' },
      granularity: { type: 'string', default: 'app' },
      hops: { type: 'boolean', default: false },
      tier: { type: 'string', multiple: true },
      owner: { type: 'string', multiple: true },
      domain: { type: 'string', multiple: true },
      region: { type: 'string', multiple: true },
      'page-size': { type: 'string', default: '100' },
      'page-token': { type: 'string', default: '' },
      json: { type: 'boolean', default: false },
      addr: { type: 'string', default: process.env['TOPOLOGY_GRPC'] ?? '127.0.0.1:50051' },
      help: { type: 'boolean', default: false },
    },
  });
  const [command, node = ''] = positionals;
  const needsNode = ['deps', 'node', 'blast', 'diagnose', 'trace'];
  if (values.help || !command || !(needsNode.includes(command) || command === 'coverage') || (needsNode.includes(command) && !node)) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const granularity = values.granularity === 'cluster' ? 'GRANULARITY_CLUSTER' : 'GRANULARITY_APP';
  const client = createTopologyClient(values.addr ?? '127.0.0.1:50051');
  try {
    const print = (value: unknown, text: string) => console.log(values.json ? JSON.stringify(value, null, 2) : text);
    if (command === 'deps') {
      const direction: DirectionName = values.both ? 'DIRECTION_BOTH' : values.up ? 'DIRECTION_UP' : 'DIRECTION_DOWN';
      const r = await client.traverse({
        roots: [node],
        direction,
        depth: Number(values.depth ?? 1),
        granularity,
        includeHops: values.hops,
        filters: { tiers: values.tier ?? [], owners: values.owner ?? [], domains: values.domain ?? [], regions: values.region ?? [] },
        pageSize: Number(values['page-size']),
        pageToken: values['page-token'],
      });
      print(r, formatTraversal(r, values.both ? 'both' : values.up ? 'up' : 'down'));
    } else if (command === 'node') {
      const r = await client.getNode({ id: node, granularity });
      print(r, formatNode(r));
    } else if (command === 'blast') {
      const r = await client.blastRadius({ root: node, depth: Number(values.depth ?? 0), granularity });
      print(r, formatBlastRadius(r));
    } else if (command === 'diagnose') {
      const r = await client.diagnose({ id: node, depth: Number(values.depth ?? 0), granularity });
      print(r, formatDiagnosis(r));
    } else if (command === 'trace') {
      const r = await client.traceOverlay({ traceId: node, granularity });
      print(r, formatTraceOverlay(r));
    } else {
      const r = await client.coverage({ granularity, pageSize: Number(values['page-size']), pageToken: values['page-token'] });
      print(r, formatCoverage(r));
    }
  } finally {
    client.close();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
