import { parseArgs } from 'util';

/** A bench option: its default, and what it means (printed by `--help`). */
export interface OptionSpec {
  default: number | string | boolean;
  description: string;
}

export type OptionValues<S extends Record<string, OptionSpec>> = {
  [K in keyof S]: S[K]['default'] extends number ? number : S[K]['default'] extends boolean ? boolean : string;
};

/**
 * Reads `--name value` options (and bare `--flag` for booleans) from argv, typed by their
 * defaults. Unknown options and values that are not numbers where a number is expected stop the
 * bench with a message rather than running with a silent default.
 */
export function readOptions<S extends Record<string, OptionSpec>>(specs: S, argv: string[] = process.argv.slice(2)): OptionValues<S> {
  const config: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const [name, spec] of Object.entries(specs)) config[name] = { type: typeof spec.default === 'boolean' ? 'boolean' : 'string' };
  let parsed: Record<string, string | boolean | undefined>;
  try {
    parsed = parseArgs({ args: argv, options: config, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (e) {
    throw new UsageError(`${e instanceof Error ? e.message : String(e)}\n${usage(specs)}`);
  }
  if (parsed['help'] === true) {
    console.log(usage(specs));
    process.exit(0);
  }
  const values: Record<string, number | string | boolean> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const given = parsed[name];
    if (given === undefined) values[name] = spec.default;
    else if (typeof spec.default === 'number') {
      const n = Number(given);
      if (given === '' || !Number.isFinite(n)) throw new UsageError(`--${name} expects a number, got ${JSON.stringify(given)}\n${usage(specs)}`);
      values[name] = n;
    } else values[name] = given;
  }
  return values as OptionValues<S>;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function usage(specs: Record<string, OptionSpec>): string {
  const lines = Object.entries(specs).map(([name, spec]) => `  --${name.padEnd(22)} ${spec.description} (default ${String(spec.default)})`);
  return `options:\n${lines.join('\n')}`;
}
