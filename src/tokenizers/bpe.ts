// Byte-level BPE (GPT-2, GPT-J, RoBERTa, …): text → added tokens split out → normalizer →
// pre-tokenization (GPT-2's regex by default) → UTF-8 bytes as the 256 byte tokens → merges by
// rank → ids. The merge loop works on integer ids with a pair → rank hash table, and a bounded
// cache maps each pre-token string to its ids, so common words cost one Map look-up.
import { TokenError } from '../errors.js';
import { TemplatedTokenizer } from './templated.js';
import { BYTE_TO_CHAR, decodeUtf8, tokenByteTable, Utf8Stream, utf8Symbols } from './bytes.js';
import { MergeTable, mergeSymbols } from './bpe-merge.js';
import { mergesFromList, parseMergesTxt, parseVocabJson, type MergeSource } from './bpe-files.js';
import { Fields, formatError, item, parseJson, type Place } from './json.js';
import { normalize, normalizerSteps, type NormalizerStep } from './normalize.js';
import { checkTemplateIds, savedTemplate, type Template } from './postprocess.js';
import { GPT2_PATTERN, gpt2PieceEnd, PiecePattern } from './pretokenize.js';
import { AddedTokens, type AddedToken } from './special.js';
import type { DecodeOptions, EncodeOptions, StreamDecoder, Tokenizer } from './types.js';
import { checkAddedTokens, idsError, savedAddedTokens } from './common.js';

/** One pre-tokenization step: split every piece with a pattern, or prepend a space to every piece that lacks one. */
export type BPEPreStep = { type: 'split'; pattern: string } | { type: 'prefixSpace' };

/** Everything a byte-level BPE tokenizer is made of. */
export interface BPEConfig {
  /** The token of each id, 0…n−1 (byte-level strings such as 'Ġthe'); added tokens included. */
  vocab: readonly string[];
  /** Merges in rank order; each part, and their concatenation, must be in `vocab`. */
  merges: readonly (readonly [string, string])[];
  /** Added tokens (special or not); each must be in `vocab` at its id. */
  addedTokens?: readonly AddedToken[];
  /** Normalization before pre-tokenization (none for GPT-2). */
  normalizer?: readonly NormalizerStep[];
  /** Default: GPT-2's, `[{ type: 'split', pattern: GPT2_PATTERN }]`; add `{ type: 'prefixSpace' }` first for add_prefix_space. */
  preTokenizer?: readonly BPEPreStep[];
  /** Tokens added around a text when encode is asked to (`addSpecialTokens`); none for GPT-2. */
  template?: Template | null;
  /** Use a pre-token that is itself in the vocabulary as one token without merging (Llama 3's ignore_merges). */
  ignoreMerges?: boolean;
  /** The token that pads batches (default: none, so padId 0). */
  padToken?: string | null;
}

/** Where the config came from, for error messages. */
export interface BPESource {
  file: string;
  /** Place of the vocabulary ('' for vocab.json, 'model.vocab'). */
  vocab: string;
  /** The file and place of merge i. */
  merge?: { file: string; where: (i: number) => string };
}

/** The saved form of a {@link BPETokenizer}. */
export interface BPETokenizerJSON {
  type: 'bpe';
  version: 1;
  vocab: string[];
  /** "left right", or [left, right] when a part holds a space. */
  merges: (string | [string, string])[];
  addedTokens: Required<AddedToken>[];
  normalizer: NormalizerStep[];
  preTokenizer: BPEPreStep[];
  template: Template | null;
  ignoreMerges: boolean;
  padToken: string | null;
}

const CACHE_MAX = 1 << 16;
const CACHE_KEY_MAX = 128;

/**
 * A byte-level BPE tokenizer, GPT-2's kind: every text encodes (nothing is unknown) and decodes
 * back exactly.
 * @example
 * const tok = BPETokenizer.fromVocabAndMerges(vocabJsonText, mergesTxtText); // GPT-2's files
 * tok.encode('Hello world');                 // Int32Array [15496, 995]
 * tok.decode([15496, 995]);                  // 'Hello world'
 * tok.encode('<|endoftext|>');               // Int32Array [50256]
 */
export class BPETokenizer extends TemplatedTokenizer implements Tokenizer {
  readonly #merges: readonly (readonly [string, string])[];
  readonly #table: MergeTable;
  readonly #byteId = new Int32Array(256);
  readonly #normalizer: readonly NormalizerStep[];
  readonly #pre: readonly BPEPreStep[];
  readonly #patterns: (PiecePattern | null)[];
  readonly #fast: 'gpt2' | 'prefix+gpt2' | null;
  readonly #ignoreMerges: boolean;
  readonly #padToken: string | null;
  readonly #bytes: Uint8Array;
  readonly #offsets: Int32Array;
  readonly #cache = new Map<string, Int32Array>();
  #sym = new Int32Array(1024);
  #out = new Int32Array(1024);
  #n = 0;

  /**
   * A tokenizer from its parts, checked: the vocabulary must be contiguous strings without repeats
   * and hold the 256 byte tokens; every merge's parts and result must be in it; added tokens must
   * sit at their ids. Throws TokenizerFormatError naming `source.file` and the entry at fault.
   * @example
   * new BPETokenizer({ vocab: [...byteTokens, 'Ġt'], merges: [['Ġ', 't']] });
   */
  constructor(config: BPEConfig, source: BPESource = { file: 'BPE config', vocab: 'vocab' }) {
    super();
    const vp: Place = { file: source.file, path: source.vocab };
    const ids = this.setVocab(config.vocab, vp), tokens = this.tokens;
    for (let b = 0; b < 256; b++) {
      const id = ids.get(BYTE_TO_CHAR[b]!);
      if (id === undefined) throw formatError(vp, `byte-level BPE needs all 256 byte tokens; ${JSON.stringify(BYTE_TO_CHAR[b])} (byte 0x${b.toString(16).padStart(2, '0')}) is missing`);
      this.#byteId[b] = id;
    }
    const mergeIds: [number, number, number][] = [];
    const where = source.merge ?? { file: source.file, where: (i: number) => `merges[${i}]` };
    config.merges.forEach(([a, b], i) => {
      const ia = ids.get(a), ib = ids.get(b), iab = ids.get(a + b);
      const missing = ia === undefined ? a : ib === undefined ? b : iab === undefined ? a + b : null;
      if (missing !== null) {
        throw formatError({ file: where.file, path: where.where(i) }, `merge "${a} ${b}": ${missing === a + b ? 'the merged token' : 'token'} ${JSON.stringify(missing)} is not in the vocabulary`);
      }
      mergeIds.push([ia!, ib!, iab!]);
    });
    checkAddedTokens(config.addedTokens ?? [], tokens, vp);
    this.#merges = config.merges.map(([a, b]) => [a, b] as const);
    this.#table = new MergeTable(mergeIds);
    this.added = new AddedTokens(config.addedTokens ?? []);
    this.#normalizer = [...(config.normalizer ?? [])];
    this.#pre = [...(config.preTokenizer ?? [{ type: 'split', pattern: GPT2_PATTERN }])];
    this.#patterns = this.#pre.map((s, i) => {
      if (s.type === 'prefixSpace') return null;
      try {
        return new PiecePattern(s.pattern);
      } catch (err) {
        throw formatError({ file: source.file, path: `preTokenizer[${i}]` }, `pattern ${JSON.stringify(s.pattern)} is not a JavaScript regex (u flag): ${(err as Error).message}`);
      }
    });
    const steps = this.#pre.map((s) => (s.type === 'split' ? (s.pattern === GPT2_PATTERN ? 'gpt2' : 'split') : 'prefix')).join('+');
    this.#fast = steps === 'gpt2' ? 'gpt2' : steps === 'prefix+gpt2' ? 'prefix+gpt2' : null;
    this.template = config.template ?? null;
    checkTemplateIds(this.template, tokens.length, vp);
    this.#ignoreMerges = config.ignoreMerges ?? false;
    this.#padToken = config.padToken ?? null;
    if (this.#padToken !== null && !ids.has(this.#padToken)) throw formatError(vp, `pad token ${JSON.stringify(this.#padToken)} is not in the vocabulary`);
    ({ bytes: this.#bytes, offsets: this.#offsets } = tokenByteTable(this.tokens));
  }

  /**
   * GPT-2's format: the text (or parsed object) of vocab.json and the text of merges.txt.
   * `specialTokens` lists the vocabulary's special tokens (default: '<|endoftext|>' when present).
   * @example
   * const tok = BPETokenizer.fromVocabAndMerges(readFileSync('vocab.json', 'utf8'), readFileSync('merges.txt', 'utf8'));
   */
  static fromVocabAndMerges(vocabJson: string | Record<string, number>, mergesTxt: string, options: { specialTokens?: readonly string[]; addPrefixSpace?: boolean } = {}): BPETokenizer {
    const vocab = parseVocabJson(vocabJson);
    const merges: MergeSource = parseMergesTxt(mergesTxt);
    const ids = new Map(vocab.map((t, i) => [t, i]));
    const names = options.specialTokens ?? (ids.has('<|endoftext|>') ? ['<|endoftext|>'] : []);
    const addedTokens = names.map((content) => {
      const id = ids.get(content);
      if (id === undefined) throw formatError({ file: 'vocab.json', path: JSON.stringify(content) }, 'special token is not in the vocabulary');
      return { id, content, special: true };
    });
    const pre: BPEPreStep[] = [{ type: 'split', pattern: GPT2_PATTERN }];
    if (options.addPrefixSpace) pre.unshift({ type: 'prefixSpace' });
    return new BPETokenizer({ vocab, merges: merges.merges, addedTokens, preTokenizer: pre }, { file: 'vocab.json', vocab: '', merge: merges });
  }

  /**
   * The tokenizer saved by {@link BPETokenizer.save} (the string or the parsed object).
   * @example
   * const same = BPETokenizer.load(tok.save());
   */
  static load(json: string | object): BPETokenizer {
    const file = 'saved tokenizer';
    const f = Fields.of(typeof json === 'string' ? parseJson(json, file) : json, { file, path: '' });
    if (f.raw('type') !== 'bpe') throw formatError(f.at('type'), `expected 'bpe', got ${JSON.stringify(f.raw('type'))}`);
    if (f.raw('version') !== 1) throw formatError(f.at('version'), `expected 1, got ${JSON.stringify(f.raw('version'))}`);
    f.only(['type', 'version', 'vocab', 'merges', 'addedTokens', 'normalizer', 'preTokenizer', 'template', 'ignoreMerges', 'padToken']);
    const vocab = f.array('vocab').items as string[];
    const merges = mergesFromList(f.raw('merges'), f.at('merges'));
    const pre = f.array('preTokenizer');
    const preTokenizer = pre.items.map((x, i): BPEPreStep => {
      const s = Fields.of(x, item(pre.place, i));
      const type = s.string('type');
      if (type === 'prefixSpace') return { type };
      if (type === 'split') return { type, pattern: s.string('pattern') };
      throw formatError(s.at('type'), `unknown pre-tokenizer step ${JSON.stringify(type)}`);
    });
    return new BPETokenizer({
      vocab, merges: merges.merges, preTokenizer,
      addedTokens: savedAddedTokens(f.raw('addedTokens'), f.at('addedTokens')),
      normalizer: normalizerSteps(f.raw('normalizer'), f.at('normalizer')),
      template: savedTemplate(f.raw('template'), f.at('template')),
      ignoreMerges: f.boolean('ignoreMerges', false),
      padToken: f.stringOrNull('padToken'),
    }, { file, vocab: 'vocab', merge: merges });
  }


  /** The number of merges. */
  get mergeCount(): number {
    return this.#merges.length;
  }

  /** The pad token's id, or 0 when there is none. */
  get padId(): number {
    return this.#padToken === null ? 0 : this.ids.get(this.#padToken)!;
  }




  /**
   * The ids of `text`. Special tokens written in the text follow `options.special` (default
   * 'allow'); `addSpecialTokens` wraps the ids with the template's tokens, if there is one.
   * @example
   * gpt2.encode("It's 2024!"); // Int32Array [1026, 338, 48609, 0]
   */
  encode(text: string, options: EncodeOptions = {}): Int32Array {
    if (typeof text !== 'string') throw new TokenError(`BPETokenizer.encode: expected a string, got ${text === null ? 'null' : typeof text}`);
    this.#n = 0;
    for (const seg of this.added.split(text, options.special ?? 'allow')) {
      if (seg.id >= 0) this.#push(seg.id);
      else if (seg.end > seg.start) this.#encodeText(text, seg.start, seg.end);
    }
    const ids = this.#out.slice(0, this.#n);
    if (this.#out.length > 1 << 20) this.#out = new Int32Array(1024); // do not keep a huge buffer
    return options.addSpecialTokens ? this.postProcess(ids) : ids;
  }

  /**
   * The text of `ids`: their bytes joined and read as UTF-8 (bytes that do not form a character
   * become U+FFFD, as in Hugging Face and tiktoken). Throws TokenError for an id outside
   * [0, vocabSize), naming it and its position.
   * @example
   * gpt2.decode([15496, 995]); // 'Hello world'
   */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skip = options.skipSpecialTokens ?? false;
    const off = this.#offsets, size = this.tokens.length;
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!(id >= 0 && id < size && Number.isInteger(id))) throw idsError('BPETokenizer.decode', id, i, size);
      if (!(skip && this.added.isSpecial(id))) total += off[id + 1]! - off[id]!;
    }
    const bytes = new Uint8Array(total);
    let o = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (skip && this.added.isSpecial(id)) continue;
      const s = off[id]!, e = off[id + 1]!;
      if (e - s === 1) bytes[o++] = this.#bytes[s]!;
      else { bytes.set(this.#bytes.subarray(s, e), o); o += e - s; }
    }
    return decodeUtf8(bytes);
  }

  /**
   * A decoder for ids that arrive one at a time (generation): `push(id)` returns only complete
   * UTF-8 characters; `flush()` the rest. All pushes and the flush join to `decode(ids)`.
   * @example
   * const d = gpt2.decoder();
   * [...gpt2.encode('日本')].map((id) => d.push(id)).join('') + d.flush(); // '日本'
   */
  decoder(options: DecodeOptions = {}): StreamDecoder {
    const skip = options.skipSpecialTokens ?? false;
    const utf8 = new Utf8Stream();
    let position = 0;
    return {
      push: (id: number) => {
        const size = this.tokens.length;
        if (!(id >= 0 && id < size && Number.isInteger(id))) throw idsError('BPETokenizer.decoder().push', id, position, size);
        position++;
        if (skip && this.added.isSpecial(id)) return '';
        return utf8.push(this.#bytes.subarray(this.#offsets[id]!, this.#offsets[id + 1]!));
      },
      flush: () => utf8.flush(),
    };
  }

  /** The saved form (plain data). */
  toJSON(): BPETokenizerJSON {
    return {
      type: 'bpe', version: 1, vocab: [...this.tokens],
      merges: this.#merges.map(([a, b]) => (a.includes(' ') || b.includes(' ') ? [a, b] : `${a} ${b}`)),
      addedTokens: this.added.list.map((t) => ({ ...t })),
      normalizer: this.#normalizer.map((s) => ({ ...s })),
      preTokenizer: this.#pre.map((s) => ({ ...s })),
      template: this.template, ignoreMerges: this.#ignoreMerges, padToken: this.#padToken,
    };
  }

  /**
   * The tokenizer as a JSON string, for {@link BPETokenizer.load}, `loadTokenizer` and checkpoints.
   * @example
   * const json = tok.save(); // '{"type":"bpe","version":1,"vocab":[…],…}'
   */
  save(): string {
    return JSON.stringify(this.toJSON());
  }

  /**
   * Empties the cache of pre-token → ids (at most 65,536 entries; it refills as text is encoded).
   * For benchmarks of a cold tokenizer, or to free its memory.
   * @example
   * tok.clearCache();
   */
  clearCache(): void {
    this.#cache.clear();
  }

  /** The merges in rank order, as [left, right] token strings. */
  get merges(): readonly (readonly [string, string])[] {
    return this.#merges;
  }

  #push(id: number): void {
    if (this.#n === this.#out.length) this.#grow(1);
    this.#out[this.#n++] = id;
  }

  #grow(more: number): void {
    const bigger = new Int32Array(Math.max(this.#out.length * 2, this.#n + more));
    bigger.set(this.#out.subarray(0, this.#n));
    this.#out = bigger;
  }

  /** Ordinary text `text[start, end)`: normalize, pre-tokenize, merge each piece. */
  #encodeText(text: string, start: number, end: number): void {
    if (this.#normalizer.length) {
      text = normalize(text.slice(start, end), this.#normalizer);
      start = 0;
      end = text.length;
      if (end === 0) return;
    }
    if (this.#fast !== null) {
      if (this.#fast === 'prefix+gpt2' && text.charCodeAt(start) !== 32) {
        text = ' ' + text.slice(start, end);
        start = 0;
        end = text.length;
      }
      for (let i = start; i < end; ) {
        const j = gpt2PieceEnd(text, i, end);
        this.#piece(text, i, j);
        i = j;
      }
      return;
    }
    let pieces = [start === 0 && end === text.length ? text : text.slice(start, end)];
    this.#pre.forEach((step, k) => {
      if (step.type === 'prefixSpace') pieces = pieces.map((p) => (p.startsWith(' ') ? p : ' ' + p));
      else pieces = pieces.flatMap((p) => this.#patterns[k]!.pieces(p));
    });
    for (const p of pieces) this.#piece(p, 0, p.length);
  }

  /** One pre-token `text[i, j)`: cached ids, or its bytes merged. */
  #piece(text: string, i: number, j: number): void {
    if (j - i === 1) {
      const c = text.charCodeAt(i);
      if (c < 0x80 && !this.#ignoreMerges) {
        this.#push(this.#byteId[c]!);
        return;
      }
    }
    const key = text.slice(i, j);
    let ids = this.#cache.get(key);
    if (ids === undefined) {
      if (this.#sym.length < 3 * (j - i)) this.#sym = new Int32Array(3 * (j - i) + 64);
      const sym = this.#sym;
      let n = utf8Symbols(text, i, j, this.#byteId, sym);
      const whole = this.#ignoreMerges ? this.ids.get(wordAsBytes(key)) : undefined;
      if (whole !== undefined) {
        sym[0] = whole;
        n = 1;
      } else {
        n = mergeSymbols(sym, n, this.#table);
      }
      ids = sym.slice(0, n);
      if (key.length <= CACHE_KEY_MAX) {
        if (this.#cache.size >= CACHE_MAX) this.#cache.clear();
        this.#cache.set(key, ids);
      }
    }
    if (this.#n + ids.length > this.#out.length) this.#grow(ids.length);
    if (ids.length === 1) this.#out[this.#n++] = ids[0]!;
    else {
      this.#out.set(ids, this.#n);
      this.#n += ids.length;
    }
  }
}

const enc = new TextEncoder();
function wordAsBytes(word: string): string {
  let s = '';
  for (const b of enc.encode(word)) s += BYTE_TO_CHAR[b]!;
  return s;
}
