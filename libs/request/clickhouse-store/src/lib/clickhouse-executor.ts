import { readFileSync } from 'fs';
import { join } from 'path';

/** Values of ClickHouse query parameters (`{name:Type}` in the SQL text); never spliced into the text. */
export type QueryParams = Record<string, string | number | boolean | readonly string[]>;

/**
 * Runs the request store's SQL on one ClickHouse: in process (`ChdbExecutor`) or on a server
 * (`ServerExecutor`). The SQL is the same for both; values only ever travel as query parameters.
 */
export interface ClickHouseExecutor {
  /** `chdb` or `server`, for logs and errors. */
  readonly kind: string;
  /** Runs a statement that returns no rows. */
  command(sql: string, params?: QueryParams): Promise<void>;
  /** Runs a query and returns its rows as objects (64-bit integers may come as strings). */
  rows<T>(sql: string, params?: QueryParams): Promise<T[]>;
  /** Inserts rows (one value per column, in `columns` order) into a table, as JSONCompactEachRow. */
  insert(table: string, columns: readonly string[], rows: readonly unknown[][]): Promise<void>;
  close(): Promise<void>;
}

const cache = new Map<string, string>();

/** The text of `sql/<name>.sql` beside this file (copied to dist by the build). */
export function sqlFile(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(join(__dirname, 'sql', `${name}.sql`), 'utf8');
    cache.set(name, text);
  }
  return text;
}
