import { createHash } from 'crypto';
import { Database } from 'arangojs';
import { GenericContainer, StartedTestContainer, Wait } from 'testcontainers';
import { networkBucketMerger } from '@topology/model';
import { describeGraphLayerStoreContract, findServerUnderTest } from '@topology/graph-store-contract';
import { ArangoGraphStore, ArangoGraphStoreConfig } from './arango-graph-store';

const ARANGO_IMAGE = 'arangodb:3.12';
const BUCKET_MS = 60_000;

const target = findServerUnderTest('ARANGO_URL');

if (target.kind === 'none') {
  console.warn(`ArangoGraphStore contract skipped: ${target.reason}`);
  // Nothing to run against on this machine: declared skipped, the reason in its name, so every run says why.
  describe.skip(`ArangoGraphStore contract — skipped: ${target.reason}`, () => {
    it('passes the GraphLayerStore contract against a real ArangoDB', () => undefined);
  });
} else {
  let url = target.kind === 'url' ? target.url : '';
  let container: StartedTestContainer | undefined;
  const auth = process.env['ARANGO_USERNAME'] ? { username: process.env['ARANGO_USERNAME'], password: process.env['ARANGO_PASSWORD'] ?? '' } : undefined;
  const databases = new Set<string>();

  beforeAll(async () => {
    if (target.kind !== 'container') return;
    container = await new GenericContainer(ARANGO_IMAGE)
      .withEnvironment({ ARANGO_NO_AUTH: '1' })
      .withExposedPorts(8529)
      .withWaitStrategy(Wait.forHttp('/_api/version', 8529).forStatusCode(200))
      .withStartupTimeout(120_000)
      .start();
    url = `http://${container.getHost()}:${container.getMappedPort(8529)}`;
  }, 180_000);

  afterAll(async () => {
    const server = new Database({ url, ...(auth ? { auth } : {}) });
    for (const name of databases) await server.dropDatabase(name).catch(() => undefined);
    server.close();
    await container?.stop();
  }, 60_000);

  // Each test directory of the suite becomes its own database.
  const config = (dir: string, readonly: boolean): ArangoGraphStoreConfig => {
    const databaseName = `topology_contract_${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`;
    databases.add(databaseName);
    return { url, databaseName, ...(auth ? { auth } : {}), layer: 'network', bucketMs: BUCKET_MS, readonly };
  };

  describeGraphLayerStoreContract('ArangoGraphStore', (dir) => ArangoGraphStore.open(config(dir, false), networkBucketMerger), {
    openReader: (dir) => ArangoGraphStore.open(config(dir, true), networkBucketMerger),
    timeoutMs: 60_000,
  });
}
