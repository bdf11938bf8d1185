// WordPiece (BERT): text → added tokens split out → BERT's normalizer (clean, CJK spacing, strip
// accents, lowercase) → words split at white space and punctuation → each word as the longest
// vocabulary prefix, then '##'-prefixed continuations, greedily; a word with a piece that matches
// nothing, or longer than max_input_chars_per_word, is one [UNK]. Post-processing adds
// [CLS] … [SEP] (and [SEP] B [SEP] for pairs, with token type ids) when asked.
import { TokenError } from '../errors.js';
import { TemplatedTokenizer } from './templated.js';
import { checkAddedTokens, idsError, savedAddedTokens } from './common.js';
import { Fields, formatError, parseJson, type Place } from './json.js';
import { BERT_UNCASED, normalize, normalizerSteps, type NormalizerStep } from './normalize.js';
import { bertTemplate, checkTemplateIds, savedTemplate, type Template } from './postprocess.js';
import { AddedTokens, type AddedToken } from './special.js';
import type { DecodeOptions, EncodeOptions, StreamDecoder, Tokenizer } from './types.js';

/** How text is cut into words before WordPiece: BERT's (white space, and each punctuation character alone), Hugging Face's Whitespace (`\w+|[^\w\s]+`) or WhitespaceSplit. */
export type WordSplit = 'bert' | 'whitespace' | 'whitespaceSplit';

/** Everything a WordPiece tokenizer is made of. */
export interface WordPieceConfig {
  /** The token of each id, 0…n−1 (vocab.txt's lines). */
  vocab: readonly string[];
  /** Default '[UNK]'; must be in the vocabulary. */
  unkToken?: string;
  /** Default '##'. */
  continuingPrefix?: string;
  /** Longer words become [UNK]. Default 100. */
  maxInputCharsPerWord?: number;
  /** Default BERT uncased's normalizer. */
  normalizer?: readonly NormalizerStep[];
  /** Default 'bert'. */
  wordSplit?: WordSplit;
  /** Added tokens (default: [PAD], [UNK], [CLS], [SEP], [MASK] as special, those in the vocabulary). */
  addedTokens?: readonly AddedToken[];
  /** Default [CLS] A [SEP] / [CLS] A [SEP] B [SEP] when both are in the vocabulary. */
  template?: Template | null;
  /** The decoder's cleanup of spaces before punctuation (" ." → "."), per token as Hugging Face's. Default true. */
  cleanup?: boolean;
  /** Default '[PAD]' when in the vocabulary. */
  padToken?: string | null;
}

/** The saved form of a {@link WordPieceTokenizer}. */
export interface WordPieceTokenizerJSON {
  type: 'wordpiece';
  version: 1;
  vocab: string[];
  unkToken: string;
  continuingPrefix: string;
  maxInputCharsPerWord: number;
  normalizer: NormalizerStep[];
  wordSplit: WordSplit;
  addedTokens: Required<AddedToken>[];
  template: Template | null;
  cleanup: boolean;
  padToken: string | null;
}

const PUNCT = '\\p{P}\\x21-\\x2F\\x3A-\\x40\\x5B-\\x60\\x7B-\\x7E';
const WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';
const SPLITS: Record<WordSplit, RegExp> = {
  bert: new RegExp(`[^\\p{White_Space}${PUNCT}]+|[${PUNCT}]`, 'gu'),
  whitespace: new RegExp(`[${WORD}]+|[^${WORD}\\p{White_Space}]+`, 'gu'),
  whitespaceSplit: /[^\p{White_Space}]+/gu,
};
const BERT_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const CACHE_MAX = 1 << 15;

/**
 * A WordPiece tokenizer (BERT's).
 * @example
 * const tok = WordPieceTokenizer.fromVocabTxt(vocabTxt); // bert-base-uncased's vocab.txt
 * tok.encode('Hello, my dog is cute', { addSpecialTokens: true }); // Int32Array [101, 7592, 1010, 2026, 3899, 2003, 10140, 102]
 * tok.decode([7592, 1010, 2026, 3899]);                            // 'hello, my dog'
 */
export class WordPieceTokenizer extends TemplatedTokenizer implements Tokenizer {
  readonly #unk: string;
  readonly #unkId: number;
  readonly #prefix: string;
  readonly #maxChars: number;
  readonly #normalizer: readonly NormalizerStep[];
  readonly #split: WordSplit;
  readonly #cleanup: boolean;
  readonly #padToken: string | null;
  readonly #cache = new Map<string, number[]>();

  /**
   * A tokenizer from its parts, checked (contiguous non-empty tokens without repeats; [UNK],
   * added tokens and template tokens in the vocabulary). Errors name `file` and the entry.
   * @example
   * new WordPieceTokenizer({ vocab: ['[UNK]', 'un', '##able'] }).encode('unable'); // Int32Array [1, 2]
   */
  constructor(config: WordPieceConfig, file = 'WordPiece config') {
    super();
    const vp: Place = { file, path: 'vocab' };
    const ids = this.setVocab(config.vocab, vp), tokens = this.tokens;
    this.#unk = config.unkToken ?? '[UNK]';
    const unkId = ids.get(this.#unk);
    if (unkId === undefined) throw formatError(vp, `the unknown token ${JSON.stringify(this.#unk)} is not in the vocabulary`);
    this.#unkId = unkId;
    this.#prefix = config.continuingPrefix ?? '##';
    this.#maxChars = config.maxInputCharsPerWord ?? 100;
    if (!Number.isInteger(this.#maxChars) || this.#maxChars < 1) throw formatError({ file, path: 'maxInputCharsPerWord' }, `expected a positive integer, got ${this.#maxChars}`);
    this.#normalizer = [...(config.normalizer ?? [BERT_UNCASED])];
    this.#split = config.wordSplit ?? 'bert';
    if (!Object.hasOwn(SPLITS, this.#split)) throw formatError({ file, path: 'wordSplit' }, `unknown word split ${JSON.stringify(this.#split)} (known: ${Object.keys(SPLITS).join(', ')})`);
    const added = config.addedTokens ?? BERT_SPECIALS.filter((t) => ids.has(t)).map((content) => ({ id: ids.get(content)!, content, special: true }));
    checkAddedTokens(added, tokens, vp);
    this.added = new AddedTokens(added);
    this.template = config.template !== undefined ? config.template
      : ids.has('[CLS]') && ids.has('[SEP]') ? bertTemplate(['[CLS]', ids.get('[CLS]')!], ['[SEP]', ids.get('[SEP]')!]) : null;
    checkTemplateIds(this.template, tokens.length, vp);
    this.#cleanup = config.cleanup ?? true;
    this.#padToken = config.padToken !== undefined ? config.padToken : ids.has('[PAD]') ? '[PAD]' : null;
    if (this.#padToken !== null && !ids.has(this.#padToken)) throw formatError(vp, `pad token ${JSON.stringify(this.#padToken)} is not in the vocabulary`);
  }

  /**
   * BERT's vocab.txt: one token per line, the id is the line number − 1. Lowercasing (and accent
   * stripping) defaults to true, as in the uncased models; pass `{ lowercase: false }` for cased ones.
   * A repeated or empty line throws TokenizerFormatError naming the line.
   * @example
   * WordPieceTokenizer.fromVocabTxt('[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n').encode('Hello'); // Int32Array [4]
   */
  static fromVocabTxt(vocabTxt: string, options: { lowercase?: boolean; stripAccents?: boolean | null } = {}): WordPieceTokenizer {
    const file = 'vocab.txt';
    if (typeof vocabTxt !== 'string') throw formatError({ file, path: '' }, 'expected the file\'s text (a string)');
    const lines = vocabTxt.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const seen = new Map<string, number>();
    const vocab = lines.map((line, i) => {
      const t = line.endsWith('\r') ? line.slice(0, -1) : line;
      if (t === '') throw formatError({ file, path: `line ${i + 1}` }, 'empty token');
      const earlier = seen.get(t);
      if (earlier !== undefined) throw formatError({ file, path: `line ${i + 1}` }, `token ${JSON.stringify(t)} repeats line ${earlier + 1}`);
      seen.set(t, i);
      return t;
    });
    const lowercase = options.lowercase ?? true;
    return new WordPieceTokenizer({ vocab, normalizer: [{ ...BERT_UNCASED, lowercase, stripAccents: options.stripAccents ?? null } as NormalizerStep] }, file);
  }

  /**
   * The tokenizer saved by {@link WordPieceTokenizer.save} (the string or the parsed object).
   * @example
   * const same = WordPieceTokenizer.load(tok.save());
   */
  static load(json: string | object): WordPieceTokenizer {
    const file = 'saved tokenizer';
    const f = Fields.of(typeof json === 'string' ? parseJson(json, file) : json, { file, path: '' });
    if (f.raw('type') !== 'wordpiece') throw formatError(f.at('type'), `expected 'wordpiece', got ${JSON.stringify(f.raw('type'))}`);
    if (f.raw('version') !== 1) throw formatError(f.at('version'), `expected 1, got ${JSON.stringify(f.raw('version'))}`);
    f.only(['type', 'version', 'vocab', 'unkToken', 'continuingPrefix', 'maxInputCharsPerWord', 'normalizer', 'wordSplit', 'addedTokens', 'template', 'cleanup', 'padToken']);
    return new WordPieceTokenizer({
      vocab: f.array('vocab').items as string[],
      unkToken: f.string('unkToken'), continuingPrefix: f.string('continuingPrefix'),
      maxInputCharsPerWord: f.index('maxInputCharsPerWord'),
      normalizer: normalizerSteps(f.raw('normalizer'), f.at('normalizer')),
      wordSplit: f.string('wordSplit') as WordSplit,
      addedTokens: savedAddedTokens(f.raw('addedTokens'), f.at('addedTokens')),
      template: savedTemplate(f.raw('template'), f.at('template')),
      cleanup: f.boolean('cleanup', true), padToken: f.stringOrNull('padToken'),
    }, file);
  }


  /** The pad token's id ([PAD]: 0 in BERT), or 0 when there is none. */
  get padId(): number {
    return this.#padToken === null ? 0 : this.ids.get(this.#padToken)!;
  }

  /** The id of [UNK]. */
  get unkId(): number {
    return this.#unkId;
  }




  /**
   * The ids of `text`; `addSpecialTokens` adds [CLS] … [SEP] (the template), `special` says what
   * special tokens written in the text become (default 'allow').
   * @example
   * bert.encode('unaffable'); // Int32Array [14477, 20961, 3468] ('una', '##ffa', '##ble')
   */
  encode(text: string, options: EncodeOptions = {}): Int32Array {
    return this.encodeSegments('WordPieceTokenizer.encode', text, options, (part, out) => this.#encodeText(part, out));
  }

  /**
   * The token strings of `text` (no special tokens added).
   * @example
   * bert.tokenize('unaffable'); // ['una', '##ffa', '##ble']
   */
  tokenize(text: string): string[] {
    return [...this.encode(text)].map((id) => this.tokens[id]!);
  }

  /**
   * The text of `ids`: continuation pieces ('##ing') joined to the piece before, others after a
   * space, then (with `cleanup`) no space before . ? ! , and English contractions — token by token,
   * as Hugging Face's WordPiece decoder. Lowercasing and accent stripping are not undone.
   * @example
   * bert.decode([7592, 1010, 2088, 999]); // 'hello, world!'
   */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const d = this.#decoderFor(options, 'WordPieceTokenizer.decode');
    let s = '';
    for (let i = 0; i < ids.length; i++) s += d.push(ids[i]!);
    return s;
  }

  /**
   * A decoder for ids arriving one at a time; its pushes join to `decode(ids)` exactly.
   * @example
   * const d = bert.decoder();
   * d.push(7592) + d.push(1010); // 'hello,'
   */
  decoder(options: DecodeOptions = {}): StreamDecoder {
    return this.#decoderFor(options, 'WordPieceTokenizer.decoder().push');
  }

  #decoderFor(options: DecodeOptions, what: string): StreamDecoder {
    const skip = options.skipSpecialTokens ?? false;
    const size = this.tokens.length, prefix = this.#prefix;
    let position = 0, first = true;
    return {
      push: (id: number) => {
        if (!(id >= 0 && id < size && Number.isInteger(id))) throw idsError(what, id, position, size);
        position++;
        if (skip && this.added.isSpecial(id)) return '';
        let t = this.tokens[id]!;
        if (!first) t = t.startsWith(prefix) ? t.slice(prefix.length) : ' ' + t;
        first = false;
        return this.#cleanup ? cleanup(t) : t;
      },
      flush: () => '',
    };
  }

  /** The saved form (plain data). */
  toJSON(): WordPieceTokenizerJSON {
    return {
      type: 'wordpiece', version: 1, vocab: [...this.tokens], unkToken: this.#unk, continuingPrefix: this.#prefix,
      maxInputCharsPerWord: this.#maxChars, normalizer: this.#normalizer.map((s) => ({ ...s })), wordSplit: this.#split,
      addedTokens: this.added.list.map((t) => ({ ...t })), template: this.template, cleanup: this.#cleanup, padToken: this.#padToken,
    };
  }

  /**
   * The tokenizer as a JSON string, for {@link WordPieceTokenizer.load}, `loadTokenizer` and checkpoints.
   * @example
   * const json = tok.save(); // '{"type":"wordpiece","version":1,…}'
   */
  save(): string {
    return JSON.stringify(this.toJSON());
  }

  #encodeText(text: string, out: number[]): void {
    text = normalize(text, this.#normalizer);
    const re = SPLITS[this.#split];
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const word = m[0];
      let ids = this.#cache.get(word);
      if (ids === undefined) {
        ids = this.#wordPieces(word);
        if (this.#cache.size >= CACHE_MAX) this.#cache.clear();
        this.#cache.set(word, ids);
      }
      for (const id of ids) out.push(id);
    }
  }

  /** Greedy longest-match-first pieces of one word, or [UNK]. */
  #wordPieces(word: string): number[] {
    const bounds: number[] = [];
    for (let i = 0; i < word.length; i += word.codePointAt(i)! > 0xffff ? 2 : 1) bounds.push(i);
    bounds.push(word.length);
    const chars = bounds.length - 1;
    if (chars > this.#maxChars) return [this.#unkId];
    const out: number[] = [];
    for (let start = 0; start < chars; ) {
      let end = chars, found = -1;
      for (; end > start; end--) {
        const piece = word.slice(bounds[start], bounds[end]);
        const id = this.ids.get(start > 0 ? this.#prefix + piece : piece);
        if (id !== undefined) { found = id; break; }
      }
      if (found < 0) return [this.#unkId];
      out.push(found);
      start = end;
    }
    return out;
  }
}

/** Hugging Face's WordPiece cleanup, applied to one decoded token (with its leading space). */
function cleanup(t: string): string {
  if (!t.includes(' ')) return t;
  return t.replaceAll(' .', '.').replaceAll(' ?', '?').replaceAll(' !', '!').replaceAll(' ,', ',').replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't").replaceAll(" 'm", "'m").replaceAll(' do not', " don't").replaceAll(" 's", "'s").replaceAll(" 've", "'ve").replaceAll(" 're", "'re");
}
