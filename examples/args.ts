// What the examples share on the command line: node:util's parseArgs with one-line answers to
// mistakes — an unknown option, a value that is not a number, or any error the library throws
// (its messages name the value and the fix) — printed without a stack trace, exit code 2 or 1.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { WasmformerError } from '../src/index.js';

/**
 * Parses `config` (strict), printing one line and exiting 2 on a mistake; from then on any
 * library error ends the example with its one-line message (exit 1). Returns the values and a
 * `num(key)` that reads a number option.
 * @example
 * ```ts
 * const { values: opt, num } = exampleArgs('seq2seq', { steps: { type: 'string', default: '3000' } });
 * const steps = num('steps');
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Values<T> = { [K in keyof T]: any };

export function exampleArgs<T extends NonNullable<ParseArgsConfig['options']>>(name: string, options: T, allowPositionals = false): { values: Values<T>; positionals: string[]; num: (key: keyof T & string) => number } {
  const fail = (message: string, code: number): never => {
    console.error(`${name}: ${message}`);
    process.exit(code);
  };
  process.on('uncaughtException', (err) => {
    if (err instanceof WasmformerError) fail(err.message, 1);
    throw err;
  });
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ options, allowPositionals, strict: true }) as typeof parsed;
  } catch (err) {
    return fail(`${(err as Error).message.split('\n')[0]} (--help lists the options)`, 2);
  }
  const values = parsed.values;
  const num = (key: keyof T & string): number => {
    const v = Number(values[key]);
    if (typeof values[key] !== 'string' || values[key] === '' || !Number.isFinite(v)) fail(`--${key} is '${String(values[key])}', expected a number`, 2);
    return v;
  };
  return { values: values as Values<T>, positionals: parsed.positionals, num };
}
