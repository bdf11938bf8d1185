// Batch encoding: several texts into one (B, T) block of ids with an attention mask (1 = token,
// 0 = padding: the key padding mask the models take), padded to the longest text or to a fixed
// length, on the right or the left, optionally truncated first. Works for any tokenizer with an
// `encode`, CharTokenizer included.
import { TokenError } from '../errors.js';
import type { SpecialMode } from './special.js';

/** Options of `encodeBatch`. */
export interface BatchOptions {
  /** Pad to the longest sequence (default) or to this many tokens (longer ones need `truncate`). */
  padTo?: 'longest' | number;
  /** Cut each sequence to at most this many tokens (special tokens added by `addSpecialTokens` included). */
  truncate?: number;
  /** Where padding goes: 'right' (default) or 'left' (for generation, so prompts end together). */
  side?: 'right' | 'left';
  /** Which end truncation cuts: 'right' (default: keep the start) or 'left' (keep the end). */
  truncateSide?: 'right' | 'left';
  /** The id padding positions hold; default the tokenizer's `padId` (its pad token's id, else 0). */
  padId?: number;
  /** Passed to encode: special tokens written in the texts. */
  special?: SpecialMode;
  /** Add the post-processor's tokens ([CLS] … [SEP]) to each text; truncation keeps them. */
  addSpecialTokens?: boolean;
}

/** A batch: B sequences of T ids, row-major. */
export interface BatchEncoding {
  /** (B·T) ids, padding included. */
  ids: Int32Array;
  /** (B·T): 1 where a token is, 0 at padding. */
  attentionMask: Int32Array;
  /** The number of real tokens in each row (B). */
  lengths: Int32Array;
  /** Rows. */
  B: number;
  /** Columns. */
  T: number;
}

/** What `encodeBatch` needs of a tokenizer. */
export interface BatchSource {
  encode(text: string, options?: { special?: SpecialMode; addSpecialTokens?: boolean }): Int32Array;
  readonly padId?: number;
  /** Wraps already-encoded ids with the post-processor's tokens. */
  postProcess?(ids: Int32Array): Int32Array;
  /** How many ids the post-processor adds around one text. */
  addedTokenCount?(): number;
}

/**
 * `texts` encoded by `tokenizer` into one padded block. Throws TokenError for a bad option, or a
 * text longer than a numeric `padTo` without `truncate`.
 * @example
 * const batch = encodeBatch(tok, ['hello world', 'hi'], { padTo: 'longest' });
 * batch.T;             // the longer text's length
 * batch.attentionMask; // 1 1 … 1 for the first row; 1 … 0 0 for the second
 */
export function encodeBatch(tokenizer: BatchSource, texts: readonly string[], options: BatchOptions = {}): BatchEncoding {
  const { padTo = 'longest', truncate, side = 'right', truncateSide = 'right', special, addSpecialTokens = false } = options;
  const padId = options.padId ?? tokenizer.padId ?? 0;
  if (!Array.isArray(texts)) throw new TokenError(`encodeBatch: texts must be an array of strings, got ${typeof texts}`);
  if (padTo !== 'longest' && !(Number.isInteger(padTo) && padTo >= 0)) throw new TokenError(`encodeBatch: padTo is ${String(padTo)}, expected 'longest' or a non-negative integer`);
  if (truncate !== undefined && !(Number.isInteger(truncate) && truncate >= 0)) throw new TokenError(`encodeBatch: truncate is ${String(truncate)}, expected a non-negative integer`);
  if (side !== 'right' && side !== 'left') throw new TokenError(`encodeBatch: side is ${String(side)}, expected 'right' or 'left'`);
  if (truncateSide !== 'right' && truncateSide !== 'left') throw new TokenError(`encodeBatch: truncateSide is ${String(truncateSide)}, expected 'right' or 'left'`);
  if (!Number.isInteger(padId)) throw new TokenError(`encodeBatch: padId is ${String(padId)}, expected an integer id`);
  const post = addSpecialTokens && tokenizer.postProcess && tokenizer.addedTokenCount ? tokenizer : null;
  const added = post ? post.addedTokenCount!() : 0;
  if (truncate !== undefined && truncate < added) throw new TokenError(`encodeBatch: truncate ${truncate} leaves no room for the ${added} special tokens addSpecialTokens adds`);
  const rows = texts.map((text, i) => {
    if (typeof text !== 'string') throw new TokenError(`encodeBatch: texts[${i}] is ${typeof text}, expected a string`);
    let ids = tokenizer.encode(text, post ? { special } : { special, addSpecialTokens });
    const room = truncate === undefined ? Infinity : truncate - added;
    if (ids.length > room) ids = truncateSide === 'right' ? ids.subarray(0, room) : ids.subarray(ids.length - room);
    return post ? post.postProcess!(ids) : ids;
  });
  let T = 0;
  if (padTo === 'longest') for (const r of rows) T = Math.max(T, r.length);
  else {
    T = padTo;
    rows.forEach((r, i) => {
      if (r.length > T) throw new TokenError(`encodeBatch: texts[${i}] has ${r.length} tokens, more than padTo ${T}; pass truncate: ${T} to cut it`);
    });
  }
  const B = rows.length;
  const ids = new Int32Array(B * T).fill(padId), attentionMask = new Int32Array(B * T), lengths = new Int32Array(B);
  rows.forEach((r, b) => {
    const at = b * T + (side === 'right' ? 0 : T - r.length);
    ids.set(r, at);
    attentionMask.fill(1, at, at + r.length);
    lengths[b] = r.length;
  });
  return { ids, attentionMask, lengths, B, T };
}
