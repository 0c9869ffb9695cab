/**
 * Reading typed configuration from environment variables. Every reader records what it could not
 * accept, so an app can report all wrong values at boot at once instead of the first one.
 */
export class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  string(name: string, fallback: string): string {
    const v = this.env[name];
    return v === undefined || v === '' ? fallback : v;
  }

  optionalString(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v === '' ? undefined : v;
  }

  /** A non-negative integer (milliseconds, ports, counts). */
  int(name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
    const v = this.env[name];
    if (v === undefined || v === '') return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${name}=${JSON.stringify(v)}: expected an integer in [${min}, ${max}]`);
      return fallback;
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.env[name];
    if (v === undefined || v === '') return fallback;
    if (/^(1|true|yes|on)$/i.test(v)) return true;
    if (/^(0|false|no|off)$/i.test(v)) return false;
    this.problems.push(`${name}=${JSON.stringify(v)}: expected true or false`);
    return fallback;
  }

  list(name: string, fallback: string[]): string[] {
    const v = this.env[name];
    if (v === undefined || v === '') return fallback;
    return v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  }

  /** A comma-separated list of `host:port` (Kafka bootstrap brokers). */
  brokers(name: string, fallback: string[]): string[] {
    const list = this.list(name, fallback);
    if (list.length === 0) this.problems.push(`${name}: expected at least one host:port`);
    for (const broker of list) if (!/^[^\s:,]+:\d{1,5}$/.test(broker)) this.problems.push(`${name}=${JSON.stringify(this.env[name] ?? '')}: ${JSON.stringify(broker)} is not host:port`);
    return list;
  }

  /** One of a fixed set of words. */
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.env[name];
    if (v === undefined || v === '') return fallback;
    const found = allowed.find((a) => a === v);
    if (found === undefined) this.problems.push(`${name}=${JSON.stringify(v)}: expected one of ${allowed.join(', ')}`);
    return found ?? fallback;
  }

  /** A name made of letters, digits, `.`, `_` and `-` (Kafka topic and group names, ids). */
  name(name: string, fallback: string, { allowEmpty = false } = {}): string {
    const v = this.env[name];
    if (v === undefined || (v === '' && !allowEmpty)) return fallback;
    if (!/^[A-Za-z0-9._-]*$/.test(v) || (!allowEmpty && v === '')) this.problems.push(`${name}=${JSON.stringify(v)}: expected letters, digits, '.', '_' or '-'`);
    return v;
  }

  /** `host:port` or `:port`. */
  address(name: string, fallback: string): string {
    const v = this.string(name, fallback);
    if (!/^[^\s:]*:\d{1,5}$/.test(v)) this.problems.push(`${name}=${JSON.stringify(v)}: expected host:port`);
    return v;
  }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}
