// What BPE and WordPiece tokenizers share around their own encode: the vocabulary look-ups,
// the added and special tokens, the post-processor's template (BERT's [CLS] … [SEP] and pairs
// with token types; none for GPT-2), and batches.
import { encodeBatch, type BatchEncoding, type BatchOptions } from './batch.js';
import { addedCount, applyTemplate, type Encoding, type Template } from './postprocess.js';
import { checkContiguous, formatError, item, type Place } from './json.js';
import { AddedTokens } from './special.js';
import type { EncodeOptions } from './types.js';
import { TokenError } from '../errors.js';

/** Base of BPETokenizer and WordPieceTokenizer: the fields are set, checked, by the subclass's constructor. */
export abstract class TemplatedTokenizer {
  /** The token string of each id. */
  protected tokens: readonly string[] = [];
  /** Token string → id. */
  protected ids = new Map<string, number>();
  /** The added tokens (special or not), matched in the text before the model's own splitting. */
  protected added = new AddedTokens([]);
  /** The post-processor's template, or null (ids pass through). */
  protected template: Template | null = null;

  abstract encode(text: string, options?: EncodeOptions): Int32Array;

  /**
   * What a list-building `encode` shares: `text` checked, split at added tokens (their ids as they
   * are, the text between through `encodeText`), and the template when `addSpecialTokens`.
   */
  protected encodeSegments(op: string, text: string, options: EncodeOptions, encodeText: (part: string, out: number[]) => void): Int32Array {
    if (typeof text !== 'string') throw new TokenError(`${op}: expected a string, got ${text === null ? 'null' : typeof text}`);
    const out: number[] = [];
    for (const seg of this.added.split(text, options.special ?? 'allow')) {
      if (seg.id >= 0) out.push(seg.id);
      else if (seg.end > seg.start) encodeText(text.slice(seg.start, seg.end), out);
    }
    const ids = Int32Array.from(out);
    return options.addSpecialTokens ? this.postProcess(ids) : ids;
  }

  /**
   * Checks a vocabulary (one non-empty, distinct token string per id, contiguous) and takes it as
   * `tokens` and `ids`; throws TokenizerFormatError naming the entry at fault (`vp`: the file and field).
   */
  protected setVocab(tokens: unknown, vp: Place): Map<string, number> {
    if (!Array.isArray(tokens)) throw formatError(vp, 'expected the token of each id');
    checkContiguous(tokens, vp);
    const ids = new Map<string, number>();
    for (let i = 0; i < tokens.length; i++) {
      const t: unknown = tokens[i];
      if (typeof t !== 'string' || t === '') throw formatError(item(vp, i), `expected a non-empty token string, got ${JSON.stringify(t)}`);
      const earlier = ids.get(t);
      if (earlier !== undefined) throw formatError(item(vp, i), `token ${JSON.stringify(t)} repeats id ${earlier}`);
      ids.set(t, i);
    }
    this.tokens = Object.freeze([...(tokens as string[])]);
    this.ids = ids;
    return ids;
  }

  /** The number of ids: every id is in [0, vocabSize). */
  get vocabSize(): number {
    return this.tokens.length;
  }

  /** The special tokens' strings and ids. */
  get specialTokens(): ReadonlyMap<string, number> {
    return new Map(this.added.list.filter((t) => t.special).map((t) => [t.content, t.id]));
  }

  /**
   * The id of a token string, or undefined.
   * @example
   * gpt2.tokenToId('Ġthe');   // 262
   * bert.tokenToId('##ing');  // 2075
   */
  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** The token string of an id, or undefined outside [0, vocabSize). */
  idToToken(id: number): string | undefined {
    return this.tokens[id];
  }

  /**
   * Two texts with the template's tokens and token type ids (0 for `a`, 1 for `b` without a template).
   * @example
   * const { ids, typeIds } = bert.encodePair('who?', 'me');   // [CLS] who ? [SEP] me [SEP], 0 … 0 1 1
   */
  encodePair(a: string, b: string, options: Omit<EncodeOptions, 'addSpecialTokens'> = {}): Encoding {
    return applyTemplate(this.template, this.encode(a, options), this.encode(b, options));
  }

  /** `ids` wrapped as one text by the template (unchanged without one). */
  postProcess(ids: Int32Array): Int32Array {
    return this.template ? applyTemplate(this.template, ids).ids : ids;
  }

  /** How many ids the template adds around one text (2 for BERT, 0 for GPT-2). */
  addedTokenCount(): number {
    return addedCount(this.template, false);
  }

  /**
   * `texts` in one padded (B, T) block with an attention mask; see {@link encodeBatch}.
   * @example
   * bert.encodeBatch(['a b c', 'a'], { addSpecialTokens: true, truncate: 128 });
   */
  encodeBatch(texts: readonly string[], options: BatchOptions = {}): BatchEncoding {
    return encodeBatch(this, texts, options);
  }
}
