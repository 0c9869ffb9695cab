import { randomBytes } from 'crypto';
import { GenericContainer, StartedTestContainer, Wait } from 'testcontainers';
import { findServerUnderTest } from '@topology/graph-store-contract';
import { ServerExecutor } from './server-executor';
import { describeRequestStore } from './testing/request-store-scenarios';

const CLICKHOUSE_IMAGE = 'clickhouse/clickhouse-server:25.8';

const target = findServerUnderTest('CLICKHOUSE_URL');

if (target.kind === 'none') {
  console.warn(`ClickHouse server executor tests skipped: ${target.reason}`);
  // Nothing to run against on this machine: declared skipped, the reason in its name, so every run says why.
  describe.skip(`the request store on a ClickHouse server — skipped: ${target.reason}`, () => {
    it('runs the same SQL with the same answers as chdb', () => undefined);
  });
} else {
  let url = target.kind === 'url' ? target.url : '';
  let container: StartedTestContainer | undefined;
  // A database of its own per run, dropped at the end.
  const database = `topology_request_test_${randomBytes(6).toString('hex')}`;
  const executors: ServerExecutor[] = [];

  beforeAll(async () => {
    if (target.kind === 'container') {
      container = await new GenericContainer(CLICKHOUSE_IMAGE)
        .withEnvironment({ CLICKHOUSE_SKIP_USER_SETUP: '1' })
        .withExposedPorts(8123)
        .withWaitStrategy(Wait.forHttp('/ping', 8123).forStatusCode(200))
        .withStartupTimeout(120_000)
        .start();
      url = `http://${container.getHost()}:${container.getMappedPort(8123)}`;
    }
    const admin = new ServerExecutor({ url });
    await admin.command('CREATE DATABASE IF NOT EXISTS {database:Identifier}', { database });
    await admin.close();
  }, 180_000);

  afterAll(async () => {
    const admin = new ServerExecutor({ url });
    await admin.command('DROP DATABASE IF EXISTS {database:Identifier}', { database }).catch(() => undefined);
    await admin.close();
    await Promise.all(executors.map((e) => e.close().catch(() => undefined)));
    await container?.stop();
  }, 60_000);

  describeRequestStore('a ClickHouse server (@clickhouse/client), reconnected for a restart', async () => {
    const executor = new ServerExecutor({ url, database });
    executors.push(executor);
    return executor;
  });
}
