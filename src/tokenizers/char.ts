// A character-level tokenizer, as nanoGPT's shakespeare_char: the vocabulary is the sorted
// set of Unicode code points of a training text (code points, not UTF-16 units, so an emoji
// is one token), and a token id is a character's index in it. Serialises to a small JSON.
import { TokenError } from '../errors.js';

/** The JSON form of a {@link CharTokenizer}: `vocab[id]` is the character of token `id`. */
export interface CharTokenizerJSON {
  type: 'char';
  vocab: string[];
}

/**
 * Maps each character (Unicode code point) of a fixed vocabulary to a token id and back.
 * @example
 * const tok = CharTokenizer.fromText('hello world');
 * tok.vocabSize;                      // 8: ' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w'
 * tok.decode(tok.encode('hello'));    // 'hello'
 * CharTokenizer.load(tok.save()).encode('low'); // Int32Array [4, 5, 7]
 */
export class CharTokenizer {
  /** The characters, indexed by token id. */
  readonly vocab: readonly string[];
  readonly #ids: Map<number, number>; // code point → id

  /**
   * A tokenizer whose token `i` is `vocab[i]`. Each entry must be exactly one code point and
   * appear once; throws TokenError otherwise. Use {@link CharTokenizer.fromText} to build one.
   */
  constructor(vocab: readonly string[]) {
    const ids = new Map<number, number>();
    for (let i = 0; i < vocab.length; i++) {
      const ch = vocab[i];
      if (typeof ch !== 'string' || ch.length === 0) {
        throw new TokenError(`CharTokenizer: vocabulary entry ${i} is ${ch === '' ? 'empty' : describeValue(ch)}, expected one character`);
      }
      const cp = ch.codePointAt(0)!;
      if (String.fromCodePoint(cp) !== ch) {
        throw new TokenError(`CharTokenizer: vocabulary entry ${i} is ${JSON.stringify(ch)} (${[...ch].length} characters), expected one character`);
      }
      const earlier = ids.get(cp);
      if (earlier !== undefined) {
        throw new TokenError(`CharTokenizer: vocabulary entry ${i} ${JSON.stringify(ch)} (${hex(cp)}) repeats entry ${earlier}`);
      }
      ids.set(cp, i);
    }
    this.vocab = Object.freeze([...vocab]);
    this.#ids = ids;
  }

  /**
   * The tokenizer of `text`'s characters: its unique code points sorted by code point
   * (Python's `sorted(set(text))`, as nanoGPT builds its vocabulary).
   * @example
   * CharTokenizer.fromText('banana').vocab; // ['a', 'b', 'n']
   */
  static fromText(text: string): CharTokenizer {
    const points = new Set<number>();
    for (const ch of text) points.add(ch.codePointAt(0)!);
    if (points.size === 0) throw new TokenError('CharTokenizer.fromText: the text is empty, so the vocabulary would have no characters');
    const sorted = [...points].sort((a, b) => a - b);
    return new CharTokenizer(sorted.map((cp) => String.fromCodePoint(cp)));
  }

  /** The number of tokens (characters) in the vocabulary. */
  get vocabSize(): number {
    return this.vocab.length;
  }

  /**
   * The token ids of `text`, one per code point. A character outside the vocabulary throws
   * TokenError naming it, its code point, and its position (in code points from the start).
   * @example
   * CharTokenizer.fromText('abc').encode('cab'); // Int32Array [2, 0, 1]
   */
  encode(text: string): Int32Array {
    const out = new Int32Array(text.length); // ≥ the number of code points
    let n = 0;
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      const id = this.#ids.get(cp);
      if (id === undefined) {
        throw new TokenError(
          `CharTokenizer.encode: character ${JSON.stringify(ch)} (${hex(cp)}) at position ${n} is not in the vocabulary of ${this.vocab.length} characters`,
        );
      }
      out[n++] = id;
    }
    return n === out.length ? out : out.slice(0, n);
  }

  /**
   * The text of token ids. An id that is not an integer in [0, vocabSize) throws TokenError
   * naming the id and its position.
   * @example
   * CharTokenizer.fromText('abc').decode([2, 0, 1]); // 'cab'
   */
  decode(ids: ArrayLike<number>): string {
    const parts: string[] = new Array(ids.length);
    const size = this.vocab.length;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= size) {
        throw new TokenError(`CharTokenizer.decode: id ${id} at position ${i} is ${Number.isInteger(id) ? 'outside' : 'not an integer in'} [0, ${size})`);
      }
      parts[i] = this.vocab[id]!;
    }
    return parts.join('');
  }

  /** The JSON form: `{ type: 'char', vocab }`. */
  toJSON(): CharTokenizerJSON {
    return { type: 'char', vocab: [...this.vocab] };
  }

  /**
   * The tokenizer of a {@link CharTokenizerJSON}, validated: wrong type, non-string, empty,
   * multi-character or repeated entries throw TokenError.
   * @example
   * CharTokenizer.fromJSON({ type: 'char', vocab: ['a', 'b'] }).vocabSize; // 2
   */
  static fromJSON(obj: unknown): CharTokenizer {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      throw new TokenError(`CharTokenizer.fromJSON: got ${describeValue(obj)}, expected { type: 'char', vocab: [...] }`);
    }
    const { type, vocab } = obj as Record<string, unknown>;
    if (type !== 'char') throw new TokenError(`CharTokenizer.fromJSON: type is ${describeValue(type)}, expected 'char'`);
    if (!Array.isArray(vocab)) throw new TokenError(`CharTokenizer.fromJSON: vocab is ${describeValue(vocab)}, expected an array of characters`);
    return new CharTokenizer(vocab as string[]);
  }

  /** The tokenizer as a JSON string, for {@link CharTokenizer.load}. */
  save(): string {
    return JSON.stringify(this.toJSON());
  }

  /**
   * The tokenizer saved by {@link CharTokenizer.save}.
   * @example
   * const same = CharTokenizer.load(tok.save());
   */
  static load(json: string): CharTokenizer {
    let obj: unknown;
    try {
      obj = JSON.parse(json);
    } catch (err) {
      throw new TokenError(`CharTokenizer.load: not valid JSON (${(err as Error).message}); it starts ${JSON.stringify(String(json).slice(0, 40))}`);
    }
    return CharTokenizer.fromJSON(obj);
  }
}

function hex(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}
