import { readdirSync, readFileSync } from 'fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { AddressInfo } from 'net';
import { join } from 'path';
import { edgeKey, networkBucketMerger } from '@topology/model';
import { app, external, intermediary, NetworkFixture } from '@topology/graph-store-contract';
import { ArangoGraphStore } from './arango-graph-store';

/**
 * ArangoDB refuses a query whose bind parameters do not match the ones its text declares. With no
 * server here, a loopback HTTP endpoint speaking the few REST calls the adapter makes records every
 * query, so each AQL file is checked against what the adapter binds for it.
 */
interface RecordedQuery {
  query: string;
  bindVars: Record<string, unknown>;
}

function declaredParameters(query: string): string[] {
  const code = query
    .split('\n')
    .map((line) => line.replace(/\/\/.*$/, ''))
    .join('\n');
  const names = new Set<string>();
  for (const match of code.matchAll(/@(@?[A-Za-z_][A-Za-z0-9_]*)/g)) names.add(match[1] as string);
  return [...names].sort();
}

function cannedResult(query: string): unknown[] {
  if (query.includes('LET reached')) return [{ cut: false, nodes: [], edges: [] }];
  if (query.includes('RETURN LENGTH(removed)')) return [0];
  return [];
}

describe('AQL bind parameters', () => {
  let server: Server;
  let url: string;
  const recorded: RecordedQuery[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const reply = (status: number, payload: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(payload));
        };
        const path = req.url ?? '';
        if (req.method === 'GET' && path.endsWith('/_api/document/topology_store_meta/network')) {
          return reply(200, { _key: 'network', _id: 'topology_store_meta/network', _rev: '1', bucketMs: 60_000 });
        }
        if (req.method === 'POST' && path.endsWith('/_api/transaction/begin')) return reply(201, { error: false, code: 201, result: { id: '42', status: 'running' } });
        if (req.method === 'PUT' && path.endsWith('/_api/transaction/42')) return reply(200, { error: false, code: 200, result: { id: '42', status: 'committed' } });
        if (req.method === 'POST' && path.endsWith('/_api/cursor')) {
          const { query, bindVars } = JSON.parse(body) as RecordedQuery;
          recorded.push({ query, bindVars });
          return reply(201, { error: false, code: 201, result: cannedResult(query), hasMore: false, cached: false });
        }
        return reply(404, { error: true, code: 404, errorNum: 1203, errorMessage: `not served here: ${req.method} ${path}` });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('match the parameters each AQL file declares, for every file', async () => {
    const store = await ArangoGraphStore.open({ url, databaseName: 'topology', layer: 'network', bucketMs: 60_000, readonly: true }, networkBucketMerger);
    const f = new NetworkFixture(store);
    await store.upsertNodes([f.node(app('a'), { tier: 'tier-1' })]);
    await store.putEdgeBuckets([f.bucket(app('a'), intermediary('lb-1'), 0, 1, { hop: true }), f.bucket(app('a'), app('b'), 0, 1)]);
    await store.getNodes([app('a')]);
    for (const direction of ['down', 'up', 'both'] as const) {
      await store.traverse(f.query([app('a')], { direction, depth: 3, filters: { tiers: ['tier-1'], health: ['healthy'] }, includeHops: direction === 'both' }));
    }
    await store.listEdges({ granularity: 'app', range: f.range(0, 2) });
    await store.listEdges({ granularity: 'app', range: f.range(0, 2), nodes: [app('a')], includeHops: true });
    await store.edgeHistory(edgeKey(app('a'), app('b')), f.range(0, 2));
    await store.edgeHistory(edgeKey(intermediary('lb-1'), external('x')), f.range(0, 2));
    await store.deleteBefore(f.at(1));
    await store.deleteEdgeBuckets([{ src: app('a'), dst: app('b'), granularity: 'app', bucketStartMs: f.at(0) }]);
    await store.close();

    for (const { query, bindVars } of recorded) {
      expect(query).not.toContain('{{');
      expect({ query: query.slice(0, 80), parameters: Object.keys(bindVars).sort() }).toEqual({ query: query.slice(0, 80), parameters: declaredParameters(query) });
    }
    const sent = new Set(recorded.map((r) => r.query));
    for (const file of readdirSync(join(__dirname, 'aql')).filter((name) => name.endsWith('.aql'))) {
      const text = readFileSync(join(__dirname, 'aql', file), 'utf8');
      const variants = ['OUTBOUND', 'INBOUND', 'ANY'].map((keyword) => text.split('{{direction}}').join(keyword));
      expect({ file, sent: variants.some((variant) => sent.has(variant)) }).toEqual({ file, sent: true });
    }
  });
});
