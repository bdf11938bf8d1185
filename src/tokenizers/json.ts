// Reading tokenizer files with errors that name the file and the field: JSON parsing and typed
// field access (`object`, `string`, `boolean`, …) over parsed values, vocab.json-style maps and
// vocab.txt/merges.txt lines.
import { TokenizerFormatError, preview } from '../errors.js';

/** Where a value sits: the file's name and the path of the field in it ('model.vocab'). */
export interface Place {
  file: string;
  path: string;
}

const at = (p: Place, key: string | number): Place => ({ file: p.file, path: typeof key === 'number' ? `${p.path}[${key}]` : p.path ? `${p.path}.${key}` : key });

/**
 * A TokenizerFormatError for the value at `p`.
 * @example
 * throw formatError({ file: 'tokenizer.json', path: 'model.type' }, 'not supported'); // "tokenizer.json: model.type: not supported"
 */
export function formatError(p: Place, message: string): TokenizerFormatError {
  return new TokenizerFormatError(p.file, p.path || '(top level)', message);
}

/**
 * `text` parsed as JSON; a syntax error becomes TokenizerFormatError naming `file` and the parser's message.
 * @example
 * parseJson('{"a": 1}', 'tokenizer.json'); // { a: 1 }
 */
export function parseJson(text: string, file: string): unknown {
  if (typeof text !== 'string') throw new TokenizerFormatError(file, '(top level)', `expected the file's text (a string), got ${preview(text)}`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TokenizerFormatError(file, '(top level)', `not valid JSON (${(err as Error).message}); it starts ${JSON.stringify(text.slice(0, 40))}`, { cause: err });
  }
}

/**
 * Typed access to one JSON object's fields, with errors naming the file and field.
 * @example
 * const model = Fields.of(json, { file: 'tokenizer.json', path: '' }).object('model');
 * model.string('type');                  // 'BPE'
 * model.boolean('byte_fallback', false); // false when absent
 */
export class Fields {
  constructor(readonly value: Record<string, unknown>, readonly place: Place) {}

  /**
   * The object `v` (at `p`) wrapped for field access; anything else throws.
   * @example
   * Fields.of({ type: 'BPE' }, { file: 'tokenizer.json', path: 'model' }).string('type'); // 'BPE'
   */
  static of(v: unknown, p: Place): Fields {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw formatError(p, `expected an object, got ${preview(v)}`);
    return new Fields(v as Record<string, unknown>, p);
  }

  /** The place of field `key`. */
  at(key: string): Place {
    return at(this.place, key);
  }

  /** Whether field `key` is present and not null. */
  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  /** The raw value of field `key`. */
  raw(key: string): unknown {
    return this.value[key];
  }

  /** Field `key` as an object; anything else throws. */
  object(key: string): Fields {
    return Fields.of(this.value[key], this.at(key));
  }

  /** Field `key` as a string; absent or null gives `fallback` when one is given. */
  string(key: string, fallback?: string): string {
    const v = this.value[key];
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    if (typeof v !== 'string') throw formatError(this.at(key), `expected a string, got ${preview(v)}`);
    return v;
  }

  /** Field `key` as a string or null (absent → null). */
  stringOrNull(key: string): string | null {
    const v = this.value[key];
    return v === undefined || v === null ? null : this.string(key);
  }

  /** Field `key` as a boolean; absent or null gives `fallback`. */
  boolean(key: string, fallback: boolean): boolean {
    const v = this.value[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw formatError(this.at(key), `expected true or false, got ${preview(v)}`);
    return v;
  }

  /** Field `key` as a boolean or null (absent → null). */
  booleanOrNull(key: string): boolean | null {
    const v = this.value[key];
    return v === undefined || v === null ? null : this.boolean(key, false);
  }

  /** Field `key` as a non-negative integer; absent or null gives `fallback` when one is given. */
  index(key: string, fallback?: number): number {
    const v = this.value[key];
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    return checkIndex(v, this.at(key));
  }

  /** Field `key` as an array. */
  array(key: string): { items: unknown[]; place: Place } {
    const v = this.value[key];
    if (!Array.isArray(v)) throw formatError(this.at(key), `expected an array, got ${preview(v)}`);
    return { items: v, place: this.at(key) };
  }

  /** Throws when the object has a field outside `known` (a typo in a saved tokenizer). */
  only(known: readonly string[]): void {
    for (const k of Object.keys(this.value)) {
      if (!known.includes(k)) throw formatError(this.at(k), `unknown field (known: ${known.join(', ')})`);
    }
  }
}

/**
 * `v` (at `p`) as a non-negative safe integer.
 * @example
 * checkIndex(5, { file: 'vocab.json', path: 'a' }); // 5; -1 or 1.5 throw
 */
export function checkIndex(v: unknown, p: Place): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw formatError(p, `expected a non-negative integer id, got ${preview(v)}`);
  return v;
}

/**
 * The element place `p[i]`.
 * @example
 * item({ file: 'tokenizer.json', path: 'model.merges' }, 3).path; // 'model.merges[3]'
 */
export function item(p: Place, i: number): Place {
  return at(p, i);
}

/**
 * A token → id map (vocab.json, tokenizer.json's model.vocab) turned into the token of each id,
 * checked: ids are non-negative integers, no id is given twice, and — with `contiguous` — they
 * cover 0…n−1. Returns a sparse array when not contiguous.
 * @example
 * vocabArray({ a: 1, b: 0 }, { file: 'vocab.json', path: '' }); // ['b', 'a']
 */
export function vocabArray(v: unknown, p: Place, contiguous = true): string[] {
  const map = Fields.of(v, p).value;
  const keys = Object.keys(map);
  const tokens: string[] = [];
  let max = -1;
  for (const token of keys) {
    const id = map[token];
    if (typeof id !== 'number' || !(id >= 0 && Number.isSafeInteger(id))) checkIndex(id, at(p, token));
    const i = id as number;
    if (i > max) {
      if (i > keys.length * 4 + 1024) return sparse(map, keys, p, contiguous); // far beyond the count: keep a sparse array
      max = i;
    }
    const earlier = tokens[i];
    if (earlier !== undefined) throw formatError(at(p, token), `id ${i} is also given to ${JSON.stringify(earlier)}; each id must name one token`);
    tokens[i] = token;
  }
  if (contiguous) checkContiguous(tokens, p);
  return tokens;
}

function sparse(map: Record<string, unknown>, keys: string[], p: Place, contiguous: boolean): string[] {
  const byId = new Map<number, string>();
  for (const token of keys) {
    const id = checkIndex(map[token], at(p, token));
    const earlier = byId.get(id);
    if (earlier !== undefined) throw formatError(at(p, token), `id ${id} is also given to ${JSON.stringify(earlier)}; each id must name one token`);
    byId.set(id, token);
  }
  const tokens: string[] = [];
  for (const [id, token] of byId) tokens[id] = token;
  if (contiguous) checkContiguous(tokens, p);
  return tokens;
}

/**
 * Throws unless `tokens` (possibly sparse) has an entry at every id 0…length−1.
 * @example
 * checkContiguous(['a', , 'c'], { file: 'vocab.json', path: '' }); // throws: no token has id 1
 */
export function checkContiguous(tokens: readonly (string | undefined)[], p: Place): void {
  let count = 0;
  if (tokens.length <= 1 << 24) {
    for (let i = 0; i < tokens.length; i++) if (tokens[i] !== undefined) count++;
  } else {
    for (const k in tokens) if (tokens[k as unknown as number] !== undefined) count++;
  }
  if (count === tokens.length) return;
  let missing = 0;
  while (tokens[missing] !== undefined) missing++; // < count: a gap lies below the number of tokens
  throw formatError(p, `ids are not contiguous: ${count} tokens, the largest id is ${tokens.length - 1}, and no token has id ${missing}`);
}
