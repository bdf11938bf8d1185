// Text generation from a GPT: the prompt is run once through the model filling a KV cache,
// then each new token costs one single-position forward. Once the context reaches blockSize,
// each further token is computed from the last blockSize tokens in full (nanoGPT's cropping;
// learned absolute positions make the old cache unusable then). Sampling and penalties:
// ./sample.ts; many prompts at once: ./batch.ts; text in, text out: ./text.ts.
//
// Every option is checked before any work. The model is in eval mode only while a token is
// being computed, so a generator left unfinished leaves the model as it was; its KV cache goes
// back to the model's pool when the generator ends, is returned, or is garbage-collected.
import { ValueError, preview } from '../errors.js';
import { Rng } from '../random.js';
import type { GPT } from '../models/gpt.js';
import type { Model } from '../models/model.js';
import type { LayerCache } from '../nn/attention.js';
import { checkIds } from '../ops/embedding.js';
import { checkPenalties, checkSamplingOptions, hasPenalties, nextToken, picksInWasm, type PenaltyOptions, type SamplingOptions } from './sample.js';
import type { Tensor } from '../tensor.js';

/** Most new tokens one call may ask for; open-ended generation uses a stop condition, `signal` or `timeLimitMs` within it. */
export const MAX_NEW_TOKENS = 1_000_000;

export interface GenerateOptions extends SamplingOptions, PenaltyOptions {
  /** How many tokens to add at most (an integer in [0, 1,000,000]). */
  maxNewTokens: number;
  /** Seed (or Rng) of the sampling; the same seed gives the same text. Default 0. */
  seed?: number | Rng;
  /** Stop after emitting any of these ids (the stop token is included in the output). */
  stopTokens?: readonly number[];
  /** Use the KV cache (default true); false recomputes the whole context for every token. */
  useCache?: boolean;
  /** Called with each new id; return false to stop. */
  onToken?: (id: number) => boolean | void;
  /** Stops generation before the next token once aborted (an already-aborted signal: no work at all). */
  signal?: AbortSignal;
  /** Stops generation before the next token once this many milliseconds have passed since the call. */
  timeLimitMs?: number;
}

/** Why a generation ended. */
export type StopReason = 'length' | 'stop-token' | 'stop-string' | 'callback' | 'abort' | 'time' | 'context';

/**
 * Checks a prompt and generation options against `model`, before any work.
 * @throws ValueError naming the option, or TokenError naming the prompt id and position.
 */
export function checkGenerate(op: string, model: GPT, prompt: ArrayLike<number>, opts: GenerateOptions): void {
  const { maxNewTokens } = opts;
  if (!Number.isSafeInteger(maxNewTokens) || maxNewTokens < 0 || maxNewTokens > MAX_NEW_TOKENS) {
    throw new ValueError(`${op}: maxNewTokens is ${preview(maxNewTokens)}, expected an integer in [0, ${MAX_NEW_TOKENS}] (for open-ended text use stopTokens, signal or timeLimitMs)`);
  }
  if (prompt.length === 0) throw new ValueError(`${op}: the prompt is empty; give at least one token id`);
  const V = model.config.vocabSize;
  for (let i = 0; i < prompt.length; i++) if (!Number.isInteger(prompt[i])) throw new ValueError(`${op}: prompt id ${preview(prompt[i])} at position ${i} is not an integer`);
  checkIds(op, Int32Array.from(prompt), V);
  checkSamplingOptions(op, opts);
  checkPenalties(op, opts);
  if (opts.stopTokens !== undefined) {
    if (!Array.isArray(opts.stopTokens)) throw new ValueError(`${op}: stopTokens is ${preview(opts.stopTokens)}, expected an array of token ids`);
    checkIds(op, Int32Array.from(opts.stopTokens), V, 'stop token');
  }
  if (opts.timeLimitMs !== undefined && !(opts.timeLimitMs > 0 && Number.isFinite(opts.timeLimitMs))) {
    throw new ValueError(`${op}: timeLimitMs is ${preview(opts.timeLimitMs)}, expected a finite number of milliseconds > 0`);
  }
  if (opts.seed !== undefined && !(opts.seed instanceof Rng) && !Number.isSafeInteger(opts.seed)) {
    throw new ValueError(`${op}: seed is ${preview(opts.seed)}, expected an integer or an Rng`);
  }
  if (opts.signal !== undefined && typeof opts.signal?.aborted !== 'boolean') throw new ValueError(`${op}: signal is ${preview(opts.signal)}, expected an AbortSignal`);
}

/** Caches not in use, per model: a generator takes one and gives it back when it ends (or is collected). */
const pools = new WeakMap<GPT, LayerCache[][]>();
/** Cache lengths are made in multiples of this many positions, so generations of similar length share them. */
const CACHE_GRAIN = 64;

/**
 * A cache of at least `need` positions: the shortest pooled one that is long enough, else a new
 * one of `need` rounded up to CACHE_GRAIN (at most blockSize), the pooled ones too short for it
 * freed — a short generation on GPT-2 small holds 9 MiB of cache for 160 positions, not 72 for 1024.
 */
function takeCache(model: GPT, need: number): LayerCache[] {
  const pool = pools.get(model) ?? [];
  const fits = pool.filter((c) => c[0]!.k.shape[1]! >= need).sort((a, b) => a[0]!.k.shape[1]! - b[0]!.k.shape[1]!)[0];
  if (fits) {
    pool.splice(pool.indexOf(fits), 1);
    return fits;
  }
  for (const c of pool.splice(0)) for (const l of c) { model.rt.free(l.k); model.rt.free(l.v); }
  return model.createCache(1, Math.min(model.config.blockSize, Math.ceil(need / CACHE_GRAIN) * CACHE_GRAIN));
}

function giveBack(model: GPT, cache: LayerCache[]): void {
  let pool = pools.get(model);
  if (!pool) {
    const made: LayerCache[][] = (pool = []);
    pools.set(model, made);
    model.onDispose(() => {
      for (const c of made.splice(0).flat()) { model.rt.free(c.k); model.rt.free(c.v); }
      pools.delete(model);
    });
  }
  pool.push(cache);
}

/** A generator's cache, held where a FinalizationRegistry can return it if the generator is dropped unfinished. */
interface Held {
  model: GPT;
  cache: LayerCache[] | null;
}
const collected = new FinalizationRegistry<Held>((held) => {
  if (held.cache) giveBack(held.model, held.cache);
});

/** `fn` with the model in eval mode, its mode restored after (also on a throw). */
export function inEval<T>(model: Model, fn: () => T): T {
  const was = model.ctx.training;
  model.eval();
  try {
    return fn();
  } finally {
    model.train(was);
  }
}

/** The stop that applies before the next token, if any: an abort or the time limit. */
export function interrupted(opts: { signal?: AbortSignal }, deadline: number): 'abort' | 'time' | null {
  if (opts.signal?.aborted) return 'abort';
  if (now() >= deadline) return 'time';
  return null;
}

export function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/**
 * The new token ids, one at a time (a synchronous iterator: pull as many as you want). The
 * generator's return value says why it ended.
 * @example
 * ```ts
 * for (const id of generateTokens(model, tok.encode('ROMEO:'), { maxNewTokens: 100, temperature: 0.8, topK: 40, seed: 1 })) {
 *   process.stdout.write(tok.decode([id]));
 * }
 * ```
 */
export function generateTokens(model: GPT, prompt: ArrayLike<number>, opts: GenerateOptions): Generator<number, StopReason, unknown> {
  checkGenerate('generate', model, prompt, opts);
  const held: Held = { model, cache: null };
  const gen = tokens(model, Array.from(prompt), opts, held);
  collected.register(gen, held);
  return gen;
}

function* tokens(model: GPT, ids: number[], opts: GenerateOptions, held: Held): Generator<number, StopReason, unknown> {
  const deadline = opts.timeLimitMs === undefined ? Infinity : now() + opts.timeLimitMs;
  const rng = opts.seed instanceof Rng ? opts.seed : new Rng(opts.seed ?? 0);
  const stop = new Set(opts.stopTokens ?? []);
  const useCache = opts.useCache ?? true;
  const penalize = hasPenalties(opts);
  const counts = new Map<number, number>();
  if (penalize) for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  const { blockSize } = model.config;
  const copy = new LogitsCopy();
  // greedy without penalties: the token picked in wasm, the logits never copied out (the same token)
  const inWasm = picksInWasm(opts);
  const pick = (logits: Tensor) => nextToken(model.rt, logits, 0, inWasm ? null : copy.of(logits.f32()), opts, rng, counts);
  try {
    let cached = 0; // positions held in the cache
    for (let n = 0; n < opts.maxNewTokens; n++) {
      const why = interrupted(opts, deadline);
      if (why) return why;
      // positions written: the prompt (cropped to blockSize) and every new token but the last
      if (useCache && !held.cache) held.cache = takeCache(model, Math.min(blockSize, ids.length + opts.maxNewTokens - 1));
      const id = inEval(model, () => {
        if (useCache && cached > 0 && cached < blockSize) return atLast(model, [ids[ids.length - 1]!], held.cache!, cached++, pick);
        const context = ids.slice(-blockSize);
        cached = context.length;
        return atLast(model, context, useCache ? held.cache! : null, 0, pick);
      });
      ids.push(id);
      if (penalize) counts.set(id, (counts.get(id) ?? 0) + 1);
      yield id;
      if (stop.has(id)) return 'stop-token';
      if (opts.onToken?.(id) === false) return 'callback';
    }
    return 'length';
  } finally {
    if (held.cache) giveBack(model, held.cache);
    held.cache = null;
  }
}

/**
 * Prompt + up to maxNewTokens new ids.
 * @example
 * ```ts
 * const out = generate(model, tok.encode('\n'), { maxNewTokens: 500, temperature: 0.8, seed: 1337 });
 * console.log(tok.decode(out));
 * ```
 */
export function generate(model: GPT, prompt: ArrayLike<number>, opts: GenerateOptions): Int32Array {
  const out = Array.from(prompt);
  for (const id of generateTokens(model, prompt, opts)) out.push(id);
  return Int32Array.from(out);
}

/**
 * The new ids as an async iterator that yields to the event loop between tokens (a page or a
 * server stays responsive while it streams, and an abort signal is seen between tokens).
 * @example
 * ```ts
 * for await (const id of generateStream(model, prompt, { maxNewTokens: 200, seed: 7, signal })) res.write(tok.decode([id]));
 * ```
 */
export async function* generateStream(model: GPT, prompt: ArrayLike<number>, opts: GenerateOptions): AsyncGenerator<number, StopReason, unknown> {
  const it = generateTokens(model, prompt, opts);
  try {
    for (let r = it.next(); ; r = it.next()) {
      if (r.done) return r.value;
      yield r.value;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  } finally {
    it.return('abort');
  }
}

/**
 * Logits (V) at the last of `ids`, placed at positions pos …: through the cache when given,
 * else a full no-grad forward. The step arena is released afterwards. `into`: a LogitsCopy to
 * receive them (its array is reused call after call), else a fresh array.
 * @example
 * ```ts
 * const logits = lastLogits(gpt, tok.encode('Hello'), null, 0);   // (vocabSize)
 * ```
 */
export function lastLogits(model: GPT, ids: readonly number[], cache: LayerCache[] | null, pos: number, into?: LogitsCopy): Float32Array {
  return atLast(model, ids, cache, pos, (logits) => (into ? into.of(logits.f32()) : logits.f32().slice()));
}

/** `use` of the logits (1, 1, V) at the last of `ids` (as lastLogits makes them), inside the step scope that holds them. */
function atLast<T>(model: GPT, ids: readonly number[], cache: LayerCache[] | null, pos: number, use: (logits: Tensor) => T): T {
  const rt = model.rt;
  return rt.step.scope(() => {
    const idx = rt.tensor(ids, [1, ids.length], { dtype: 'i32', arena: 'step' });
    // only the last position's logits: the head's product is 1×V, not T×V
    return use(cache ? model.forwardCached(idx, cache, pos, { lastOnly: true }) : rt.tape.noGrad(() => model.forward(idx, undefined, { lastOnly: true }).logits));
  });
}

/**
 * Logits copied out of wasm memory into one array reused step after step: a generation loop's
 * copy, valid until its next `of`. A fresh array per step (GPT-2's vocabulary: 201 KB a row) is
 * fresh memory to map and fault in, and garbage: the baby GPT's shape with GPT-2's vocabulary
 * decodes in 2.8–3.0 ms a token with this, 3.0–3.9 without (alternating processes, this VM); for
 * GPT-2 small, at 20 ms a token, no difference shows.
 * @example
 * ```ts
 * const copy = new LogitsCopy();
 * const row = copy.of(model.forwardCached(idx, caches, pos, { lastOnly: true }).f32());
 * ```
 */
export class LogitsCopy {
  #buf = new Float32Array(0);

  /** `view`'s values in the reused array (grown when `view` is longer), as a subarray of `view`'s length. */
  of(view: Float32Array): Float32Array {
    if (this.#buf.length < view.length) this.#buf = new Float32Array(view.length);
    this.#buf.set(view);
    return this.#buf.length === view.length ? this.#buf : this.#buf.subarray(0, view.length);
  }
}
