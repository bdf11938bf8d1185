// The API every subword tokenizer shares (BPETokenizer, WordPieceTokenizer): encode/decode, token
// ↔ id look-ups, special tokens, pairs, batches with padding and truncation, streaming decode,
// and save/load as JSON.
import type { SpecialMode } from './special.js';
import type { Encoding } from './postprocess.js';
import type { BatchEncoding, BatchOptions } from './batch.js';

/** Options of `encode`. */
export interface EncodeOptions {
  /** What special tokens written in the text become (default 'allow': their ids). See {@link SpecialMode}. */
  special?: SpecialMode;
  /** Add the post-processor's tokens around the text (BERT's [CLS] … [SEP]). Default false. */
  addSpecialTokens?: boolean;
}

/** Options of `decode`. */
export interface DecodeOptions {
  /** Leave special tokens (<|endoftext|>, [CLS], [PAD], …) out of the text. Default false. */
  skipSpecialTokens?: boolean;
}

/**
 * Decodes ids one at a time: `push(id)` returns the text that id completes — for byte-level
 * tokenizers only whole UTF-8 characters, holding back a character whose bytes are split across
 * tokens — and `flush()` whatever is held back (as U+FFFD if unfinished). The pushes and the flush
 * join to exactly `decode(ids)`.
 */
export interface StreamDecoder {
  push(id: number): string;
  flush(): string;
}

/** A subword tokenizer. */
export interface Tokenizer {
  /** The number of ids: every id is in [0, vocabSize). */
  readonly vocabSize: number;
  /** The ids of `text`. */
  encode(text: string, options?: EncodeOptions): Int32Array;
  /** Two texts with the post-processor's tokens and token type ids. */
  encodePair(a: string, b: string, options?: Omit<EncodeOptions, 'addSpecialTokens'>): Encoding;
  /** Texts encoded into one padded (B, T) block. */
  encodeBatch(texts: readonly string[], options?: BatchOptions): BatchEncoding;
  /** The text of `ids`; an id outside [0, vocabSize) throws TokenError naming it and its position. */
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  /** A decoder for ids arriving one at a time. */
  decoder(options?: DecodeOptions): StreamDecoder;
  /** The id of a token string ('Ġthe', '##ing', '[CLS]'). */
  tokenToId(token: string): number | undefined;
  /** The token string of an id. */
  idToToken(id: number): string | undefined;
  /** The id used to pad batches when none is given (the pad token's, else 0). */
  readonly padId: number;
  /** The special tokens' strings and ids. */
  readonly specialTokens: ReadonlyMap<string, number>;
  /** The tokenizer as a JSON string; `loadTokenizer` restores it. */
  save(): string;
}
