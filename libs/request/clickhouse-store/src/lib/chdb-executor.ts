import { mkdirSync } from 'fs';
import type { Session } from 'chdb';
import { ClickHouseExecutor, QueryParams } from './clickhouse-executor';

type Chdb = typeof import('chdb');

let engine: Promise<Chdb> | undefined;

/**
 * The engine's module, loaded on first use rather than when this library is imported: every app
 * imports the library (for its settings and the server executor), and the images of those that
 * never run the engine leave its 550 MB out.
 */
function loadEngine(): Promise<Chdb> {
  engine ??= import('chdb');
  return engine;
}

/**
 * ClickHouse in this process (chdb): the embedded default. The data lives in `path` and survives
 * restarts. The engine allows one data directory per process at a time: close one executor before
 * opening another at a different path. The directory is opened by the first statement.
 */
export class ChdbExecutor implements ClickHouseExecutor {
  readonly kind = 'chdb';
  private session: Promise<Session> | undefined;
  private closed = false;

  constructor(readonly path: string) {
    mkdirSync(path, { recursive: true });
  }

  async command(sql: string, params: QueryParams = {}): Promise<void> {
    await (await this.open()).queryBindAsync(sql, params);
  }

  async rows<T>(sql: string, params: QueryParams = {}): Promise<T[]> {
    const result = await (await this.open()).queryBindAsync(sql, params, { format: 'JSONEachRow' });
    const text = result.text();
    const rows: T[] = [];
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      if (end > start) rows.push(JSON.parse(text.slice(start, end)) as T);
      start = end + 1;
    }
    return rows;
  }

  async insert(table: string, columns: readonly string[], rows: readonly unknown[][]): Promise<void> {
    if (rows.length === 0) return;
    let payload = '';
    for (const row of rows) payload += JSON.stringify(row) + '\n';
    await (await this.open()).insert({ table, values: Buffer.from(payload), format: 'JSONCompactEachRow', columns });
  }

  /** Releases the data directory; resolves once the engine has let go of it. */
  async close(): Promise<void> {
    this.closed = true;
    const session = this.session;
    this.session = undefined;
    // A directory that never opened has nothing to let go of.
    const opened = await session?.catch(() => undefined);
    if (opened === undefined) return;
    opened.close();
    await (await loadEngine()).drainPending();
  }

  private open(): Promise<Session> {
    if (this.closed) return Promise.reject(new Error(`chdb session at ${this.path} is closed`));
    this.session ??= loadEngine().then((chdb) => new chdb.Session(this.path));
    return this.session;
  }
}
