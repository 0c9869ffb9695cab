import { ClickHouseClient, createClient } from '@clickhouse/client';
import { ClickHouseExecutor, QueryParams } from './clickhouse-executor';

export type ServerExecutorOptions =
  | {
      /** `http://host:8123`; user, password and database may be part of it. */
      url: string;
      database?: string;
      /** Per request, milliseconds. */
      requestTimeoutMs?: number;
    }
  /** A client built by the caller (its own TLS, credentials, or connection). */
  | { client: ClickHouseClient };

/** A ClickHouse server through `@clickhouse/client` (HTTP), for production. */
export class ServerExecutor implements ClickHouseExecutor {
  readonly kind = 'server';
  private readonly client: ClickHouseClient;

  constructor(options: ServerExecutorOptions) {
    this.client =
      'client' in options
        ? options.client
        : createClient({
            url: options.url,
            ...(options.database === undefined ? {} : { database: options.database }),
            request_timeout: options.requestTimeoutMs ?? 30_000,
          });
  }

  async command(sql: string, params: QueryParams = {}): Promise<void> {
    await this.client.command({ query: sql, query_params: params });
  }

  async rows<T>(sql: string, params: QueryParams = {}): Promise<T[]> {
    const result = await this.client.query({ query: sql, query_params: params, format: 'JSONEachRow' });
    return result.json<T>();
  }

  async insert(table: string, columns: readonly string[], rows: readonly unknown[][]): Promise<void> {
    if (rows.length === 0) return;
    await this.client.insert({ table, values: rows as unknown[][], format: 'JSONCompactEachRow', columns: columns as [string, ...string[]] });
  }

  /** Whether the server answers a ping. */
  async ping(): Promise<boolean> {
    const result = await this.client.ping();
    return result.success;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** A server URL fit for logs and banners: the password it may carry masked. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
