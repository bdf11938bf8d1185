// Text in, text out: a prompt string is encoded, new tokens are decoded as they come (byte-level
// tokenizers emit only whole UTF-8 characters), and generation stops at a stop string seen in
// the decoded text — which the output never contains: text that could be the start of a stop
// string is held back until it is clear that it is not.
import { ValueError, preview } from '../errors.js';
import type { GPT } from '../models/gpt.js';
import { checkGenerate, generateTokens, type GenerateOptions, type StopReason } from './generate.js';
import { decodeTokens, type DecodeStop, type DecodeStreamOptions } from './beam.js';
import type { EncoderDecoder } from '../models/encoder-decoder.js';

/** What text generation needs of a tokenizer (CharTokenizer, BPETokenizer, WordPieceTokenizer). */
export interface TextTokenizer {
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>, options?: { skipSpecialTokens?: boolean }): string;
  /** Streaming decode (tokenizers whose tokens may split a character); without it, each id is decoded alone. */
  decoder?(options?: { skipSpecialTokens?: boolean }): { push(id: number): string; flush(): string };
}

export interface TextOptions extends GenerateOptions {
  /** Stop when the decoded text contains any of these (left out of the output). */
  stopStrings?: readonly string[];
  /** Leave special tokens out of the text. Default true. */
  skipSpecialTokens?: boolean;
}

/** The whole of a text generation. */
export interface TextResult {
  /** The new text (no prompt, no stop string). */
  text: string;
  /** The new token ids (up to and including the one that completed a stop string or was a stop token). */
  tokens: number[];
  reason: StopReason;
}

/**
 * The new text in pieces as it is generated (an async iterator: the event loop runs between
 * tokens); its return value is the whole result.
 * @throws ValueError for an empty or bad stop string, or any bad generation option — before any work.
 * @example
 * ```ts
 * const stream = generateText(model, tokenizer, 'Q: What is the capital of France?\nA:', { maxNewTokens: 50, stopStrings: ['\nQ:'] });
 * for await (const piece of stream) process.stdout.write(piece);
 * ```
 */
export async function* generateText(model: GPT, tokenizer: TextTokenizer, prompt: string, opts: TextOptions): AsyncGenerator<string, TextResult, unknown> {
  const ids = prepare(model, tokenizer, prompt, opts);
  const session = new TextSession(tokenizer, opts);
  const it = generateTokens(model, ids, opts);
  try {
    for (let r = it.next(); ; r = it.next()) {
      const piece = r.done ? '' : session.push(r.value);
      if (r.done || session.stopped) {
        const { result, tail } = session.finish(r.done ? r.value : 'stop-string');
        if (tail) yield tail;
        return result;
      }
      if (piece) yield piece;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  } finally {
    it.return('abort');
  }
}

/**
 * The whole text at once (synchronous).
 * @example
 * ```ts
 * const { text, reason } = completeText(model, tokenizer, 'Once upon a time', { maxNewTokens: 40, temperature: 0.8, seed: 3 });
 * ```
 */
export function completeText(model: GPT, tokenizer: TextTokenizer, prompt: string, opts: TextOptions): TextResult {
  const ids = prepare(model, tokenizer, prompt, opts);
  const session = new TextSession(tokenizer, opts);
  const it = generateTokens(model, ids, opts);
  try {
    for (let r = it.next(); ; r = it.next()) {
      if (r.done) return session.finish(r.value).result;
      session.push(r.value);
      if (session.stopped) return session.finish('stop-string').result;
    }
  } finally {
    it.return('abort');
  }
}

/** What text-to-text decoding needs of a tokenizer: the post-processor's tokens (T5's </s>) and the vocabulary's size. */
export interface TextToTextTokenizer extends TextTokenizer {
  encode(text: string, options?: { addSpecialTokens?: boolean }): Int32Array;
  readonly vocabSize: number;
}

/** The whole of a text-to-text decoding. */
export interface DecodedText {
  text: string;
  tokens: number[];
  reason: DecodeStop;
}

/**
 * Text to text with an encoder–decoder (T5, Flan-T5): `input` encoded with the post-processor's
 * tokens, decoded greedily (`decodeTokens`), the text handed out in pieces as it comes (an async
 * iterator: the event loop runs between tokens); its return value is the whole result. Ids past
 * the tokenizer's vocabulary (T5's padded embedding rows: 32100–32127) have no text and are left out.
 * @example
 * ```ts
 * for await (const piece of decodeText(t5, tok, 'translate English to German: Hello.', { maxLength: 40 })) process.stdout.write(piece);
 * ```
 */
export async function* decodeText(model: EncoderDecoder, tokenizer: TextToTextTokenizer, input: string, opts: DecodeStreamOptions & { skipSpecialTokens?: boolean } = {}): AsyncGenerator<string, DecodedText, unknown> {
  if (typeof input !== 'string' || input.length === 0) throw new ValueError(`decodeText: input is ${preview(input)}, expected a non-empty string`);
  const it = decodeTokens(model, tokenizer.encode(input, { addSpecialTokens: true }), opts);
  const session = new TextSession(tokenizer, { maxNewTokens: 0, skipSpecialTokens: opts.skipSpecialTokens });
  try {
    for (let r = it.next(); ; r = it.next()) {
      if (r.done) {
        const { result, tail } = session.finish('length');
        if (tail) yield tail;
        return { text: result.text, tokens: result.tokens, reason: r.value };
      }
      const piece = r.value < tokenizer.vocabSize ? session.push(r.value) : '';
      if (piece) yield piece;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  } finally {
    it.return('abort');
  }
}

function prepare(model: GPT, tokenizer: TextTokenizer, prompt: string, opts: TextOptions): Int32Array {
  if (typeof prompt !== 'string') throw new ValueError(`generateText: prompt is ${preview(prompt)}, expected a string`);
  const stops = opts.stopStrings ?? [];
  if (!Array.isArray(stops) || stops.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new ValueError(`generateText: stopStrings is ${preview(stops)}, expected an array of non-empty strings`);
  }
  const ids = tokenizer.encode(prompt);
  checkGenerate('generateText', model, ids, opts);
  return ids;
}

/** Decoded text so far, what has been emitted, and the stop-string watch. */
class TextSession {
  readonly #decoder: { push(id: number): string; flush(): string };
  readonly #stops: readonly string[];
  readonly #hold: number;                 // longest stop string − 1: a tail that may still become one
  readonly tokens: number[] = [];
  #text = '';                             // all decoded text
  #emitted = 0;                           // how much of it was handed out
  stopped = false;

  constructor(tokenizer: TextTokenizer, opts: TextOptions) {
    const skip = opts.skipSpecialTokens ?? true;
    this.#decoder = tokenizer.decoder?.({ skipSpecialTokens: skip }) ?? { push: (id) => tokenizer.decode([id], { skipSpecialTokens: skip }), flush: () => '' };
    this.#stops = opts.stopStrings ?? [];
    this.#hold = Math.max(0, ...this.#stops.map((s) => s.length - 1));
  }

  /** Adds a token; returns the text now safe to emit. */
  push(id: number): string {
    this.tokens.push(id);
    const before = this.#text.length;
    this.#text += this.#decoder.push(id);
    // a stop string can only end in the new text: search from where it could begin
    for (const s of this.#stops) {
      const at = this.#text.indexOf(s, Math.max(0, before - s.length + 1));
      if (at >= 0) {
        this.#text = this.#text.slice(0, at);
        this.stopped = true;
        return '';
      }
    }
    return this.#take(this.#text.length - this.#hold);
  }

  /** The whole result, and the text not handed out yet (the held-back tail). */
  finish(reason: StopReason): { result: TextResult; tail: string } {
    if (!this.stopped) this.#text += this.#decoder.flush();
    const tail = this.#take(this.#text.length);
    return { result: { text: this.#text, tokens: this.tokens, reason }, tail };
  }

  #take(upTo: number): string {
    if (upTo <= this.#emitted) return '';
    const piece = this.#text.slice(this.#emitted, upTo);
    this.#emitted = upTo;
    return piece;
  }
}
