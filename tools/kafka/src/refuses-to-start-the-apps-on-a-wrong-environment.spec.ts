import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { AppName } from './lib/app-process';
import { builtApps } from './lib/built-apps';

jest.setTimeout(120_000);

/**
 * Makes the in-process ClickHouse engine unresolvable, as it is in the images of every app but the
 * trace-aggregator's (deploy/docker): an app that loaded it at start would die of it there.
 */
const WITHOUT_ENGINE = `const Module = require('module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'chdb' || request.startsWith('@chdb/')) throw Object.assign(new Error("Cannot find module '" + request + "' (left out of this image)"), { code: 'MODULE_NOT_FOUND' });
  return resolve.call(this, request, ...rest);
};
`;

function run(app: AppName, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const main = path.join(builtApps(), 'apps', app, 'src', 'main.js');
  const preload = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'topology-image-')), 'without-engine.js');
  fs.writeFileSync(preload, WITHOUT_ENGINE);
  const args = app === 'trace-aggregator' ? [main] : ['--require', preload, main];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env: { ...process.env, ...env }, timeout: 60_000 }, (error, _stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stderr });
    });
  });
}

describe('the built apps, started with wrong settings (all but the trace-aggregator without the in-process ClickHouse engine, as in their images)', () => {
  it.each<[AppName, Record<string, string>, string[]]>([
    ['flow-ingestor', { TOPOLOGY_REGIONS: 'us-east-1', TOPOLOGY_TOPIC_PARTITIONS: 'many' }, ['TOPOLOGY_TOPIC_PARTITIONS="many"', 'TOPOLOGY_KAFKA_BROKERS_us_east_1 is not set']],
    ['intermediary-resolver', { TOPOLOGY_KAFKA_BROKERS: 'localhost', TOPOLOGY_MAX_CHAIN_DEPTH: '99' }, ['"localhost" is not host:port', 'TOPOLOGY_MAX_CHAIN_DEPTH="99"']],
    ['enricher', { TOPOLOGY_RETENTION_MS: '1000', TOPOLOGY_WINDOW_MS: 'x' }, ['TOPOLOGY_RETENTION_MS="1000"', 'TOPOLOGY_WINDOW_MS="x"']],
    ['query-gateway', { TOPOLOGY_GRPC_ADDRESS: 'grpc', TOPOLOGY_TRACING: 'sometimes' }, ['TOPOLOGY_GRPC_ADDRESS="grpc"', 'TOPOLOGY_TRACING="sometimes"']],
    ['ipc-ingestor', { TOPOLOGY_IPC_INITIAL_CUMULATIVE: 'sometimes', TOPOLOGY_RETENTION_MS: '5' }, ['TOPOLOGY_IPC_INITIAL_CUMULATIVE="sometimes"', 'TOPOLOGY_RETENTION_MS="5"']],
    ['trace-aggregator', { TOPOLOGY_CLICKHOUSE_URL: 'clickhouse', TOPOLOGY_FLUSH_INTERVAL_MS: '0' }, ['TOPOLOGY_CLICKHOUSE_URL="clickhouse"', 'TOPOLOGY_FLUSH_INTERVAL_MS="0"']],
  ])('%s exits 2 and names each wrong value on a line of its own', async (app, env, lines) => {
    const { code, stderr } = await run(app, env);
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe(`${app}: invalid configuration:`);
    for (const line of lines) expect(stderr.split('\n').filter((l) => l.startsWith('  - ') && l.includes(line))).toHaveLength(1);
  });
});
