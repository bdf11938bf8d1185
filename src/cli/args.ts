// Command-line arguments for the `wasmformer` command: node:util's parseArgs with the option
// table of each subcommand, and number options checked into one-line UsageErrors that name
// the option, the value and what it should be.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { WasmformerError } from '../errors.js';

/** A mistake on the command line: printed as one line with the fix, exit code 2. */
export class UsageError extends WasmformerError {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parsed options and positionals of one subcommand. */
export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * parseArgs for `command`, turning its errors (unknown option, missing value) into UsageErrors
 * that say how to get help.
 */
export function parse(command: string, args: string[], options: Options): Parsed {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: values as Parsed['values'], positionals };
  } catch (err) {
    const message = (err as Error).message;
    const ambiguous = /^Option '(--[\w-]+)'.*argument is ambiguous/s.exec(message);
    if (ambiguous) throw new UsageError(`the value after ${ambiguous[1]} starts with '-': write it as ${ambiguous[1]}=<value> (e.g. ${ambiguous[1]}=-1)`);
    throw new UsageError(`${message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '')} (see: wasmformer ${command} --help)`);
  }
}

/** A number option: undefined when absent, else a finite number within [min, max] (an integer when `integer`). */
export function num(p: Parsed, name: string, check: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
  const raw = p.values[name];
  if (raw === undefined) return undefined;
  const v = Number(raw);
  const { min = -Infinity, max = Infinity, integer = false } = check;
  const kind = integer ? 'an integer' : 'a number';
  const range = min > -Infinity && max < Infinity ? ` in [${min}, ${max}]` : min > -Infinity ? ` ≥ ${min}` : max < Infinity ? ` ≤ ${max}` : '';
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    throw new UsageError(`--${name} is '${String(raw)}', expected ${kind}${range}`);
  }
  return v;
}

/** A string option among `choices`, or `fallback` when absent. */
export function choice<T extends string>(p: Parsed, name: string, choices: readonly T[], fallback: T): T {
  const raw = p.values[name] ?? fallback;
  if (typeof raw !== 'string' || !choices.includes(raw as T)) throw new UsageError(`--${name} is '${String(raw)}', expected one of ${choices.join(', ')}`);
  return raw as T;
}

/** Exactly `n` positionals, named for the message. */
export function positionals(command: string, p: Parsed, names: string[]): string[] {
  if (p.positionals.length !== names.length) {
    throw new UsageError(`wasmformer ${command} takes ${names.map((n) => `<${n}>`).join(' ')}; got ${p.positionals.length ? p.positionals.map((s) => `'${s}'`).join(' ') : 'nothing'} (see: wasmformer ${command} --help)`);
  }
  return p.positionals;
}
