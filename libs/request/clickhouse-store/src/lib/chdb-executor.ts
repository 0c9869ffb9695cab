import { mkdirSync } from 'fs';
import { drainPending, Session } from 'chdb';
import { ClickHouseExecutor, QueryParams } from './clickhouse-executor';

/**
 * ClickHouse in this process (chdb): the embedded default. The data lives in `path` and survives
 * restarts. The engine allows one data directory per process at a time: close one executor before
 * opening another at a different path.
 */
export class ChdbExecutor implements ClickHouseExecutor {
  readonly kind = 'chdb';
  private session: Session | undefined;

  constructor(readonly path: string) {
    mkdirSync(path, { recursive: true });
    this.session = new Session(path);
  }

  async command(sql: string, params: QueryParams = {}): Promise<void> {
    await this.open().queryBindAsync(sql, params);
  }

  async rows<T>(sql: string, params: QueryParams = {}): Promise<T[]> {
    const result = await this.open().queryBindAsync(sql, params, { format: 'JSONEachRow' });
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
    await this.open().insert({ table, values: Buffer.from(payload), format: 'JSONCompactEachRow', columns });
  }

  /** Releases the data directory; resolves once the engine has let go of it. */
  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    session?.close();
    await drainPending();
  }

  private open(): Session {
    if (this.session === undefined) throw new Error(`chdb session at ${this.path} is closed`);
    return this.session;
  }
}
