import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { createClient } from '@clickhouse/client';
import { drainPending } from 'chdb';
import { createChdbConnection } from 'chdb/connection';
import { ServerExecutor } from './server-executor';
import { describeRequestStore } from './testing/request-store-scenarios';

jest.setTimeout(60_000);

/*
 * The server executor's own code (query parameters, JSON rows with quoted 64-bit integers,
 * JSONEachRow inserts through `@clickhouse/client`) run here without a server: the client talks to
 * the in-process engine through chdb's `Connection`. The integration spec runs the same scenarios
 * against a real server when one is reachable.
 */
const dir = mkdtempSync(join(tmpdir(), 'request-store-client-'));

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

/** chdb types its connection with `@clickhouse/client-common`'s copy of the interface the client bundles itself. */
function chdbConnection(path: string): ClientConnection {
  return createChdbConnection({ path }) as unknown as ClientConnection;
}

afterAll(async () => {
  await drainPending();
});

describeRequestStore('@clickhouse/client over chdb’s connection, reconnected for a restart', async () => {
  await drainPending();
  return new ServerExecutor({ client: createClient({ connection: chdbConnection(dir) }) });
});
