import { parseArgs } from 'util';
import { replayFile, type ReplayOptions } from './lib/replay';

const USAGE = `usage: npm run replay -- <file> [--format canonical|vpc|hubble|metadata] [--vpc-format "<fields>"]
                                [--url http://127.0.0.1:4380] [--lines-per-request 5000]
Streams a file of flow records (or metadata events) to a running all-in-one.`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'canonical' },
      'vpc-format': { type: 'string' },
      url: { type: 'string', default: process.env['TOPOLOGY_URL'] ?? 'http://127.0.0.1:4380' },
      'lines-per-request': { type: 'string', default: '5000' },
      help: { type: 'boolean', default: false },
    },
  });
  const file = positionals[0];
  const format = values.format as ReplayOptions['format'];
  const linesPerRequest = Number(values['lines-per-request']);
  if (values.help || !file || !['canonical', 'vpc', 'hubble', 'metadata'].includes(format) || !(linesPerRequest > 0)) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const result = await replayFile({
    file,
    url: values.url ?? 'http://127.0.0.1:4380',
    format,
    ...(values['vpc-format'] ? { vpcFormat: values['vpc-format'] } : {}),
    linesPerRequest,
    progress: process.stderr,
  });
  console.log(`replayed ${result.lines} lines in ${result.requests} requests, ${result.seconds.toFixed(1)} s`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
