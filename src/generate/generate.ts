// Text generation from a GPT: the prompt is run once through the model filling a KV cache,
// then each new token costs one single-position forward. Once the context reaches blockSize,
// each further token is computed from the last blockSize tokens in full (nanoGPT's cropping;
// learned absolute positions make the old cache unusable then). Sampling: ./sample.ts.
import { ValueError } from '../errors.js';
import { Rng } from '../random.js';
import type { GPT } from '../models/gpt.js';
import type { LayerCache } from '../nn/attention.js';
import { sampleToken, type SamplingOptions } from './sample.js';

export interface GenerateOptions extends SamplingOptions {
  /** How many tokens to add at most. */
  maxNewTokens: number;
  /** Seed (or Rng) of the sampling; the same seed gives the same text. Default 0. */
  seed?: number | Rng;
  /** Stop after emitting any of these ids (the stop token is included in the output). */
  stopTokens?: readonly number[];
  /** Use the KV cache (default true); false recomputes the whole context for every token. */
  useCache?: boolean;
  /** Called with each new id; return false to stop. */
  onToken?: (id: number) => boolean | void;
}

/**
 * Per model: KV caches not in use (kept for the next call, so generating allocates nothing
 * after the first time), how many generators are running, and whether the model was in
 * training mode before the first of them put it in eval mode. Generators may interleave (a
 * server streaming to several clients from one model): each holds its own cache while it
 * runs, and the mode is restored when the last one ends.
 */
interface GenerationState {
  free: LayerCache[][];
  active: number;
  wasTraining: boolean;
}
const states = new WeakMap<GPT, GenerationState>();

function begin(model: GPT): GenerationState {
  let state = states.get(model);
  if (!state) states.set(model, (state = { free: [], active: 0, wasTraining: false }));
  if (state.active++ === 0) state.wasTraining = model.ctx.training;
  model.eval();
  return state;
}

function end(model: GPT, state: GenerationState, cache: LayerCache[] | null): void {
  if (cache) state.free.push(cache);
  if (--state.active === 0) model.train(state.wasTraining);
}

/**
 * The new token ids, one at a time (a synchronous iterator: pull as many as you want).
 * @example
 * ```ts
 * for (const id of generateTokens(model, tok.encode('ROMEO:'), { maxNewTokens: 100, temperature: 0.8, topK: 40, seed: 1 })) {
 *   process.stdout.write(tok.decode([id]));
 * }
 * ```
 */
export function* generateTokens(model: GPT, prompt: ArrayLike<number>, opts: GenerateOptions): Generator<number, void, unknown> {
  const { maxNewTokens } = opts;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new ValueError(`generate: maxNewTokens is ${maxNewTokens}, expected an integer ≥ 0`);
  if (prompt.length === 0) throw new ValueError('generate: the prompt is empty; give at least one token id');
  const rng = opts.seed instanceof Rng ? opts.seed : new Rng(opts.seed ?? 0);
  const stop = new Set(opts.stopTokens ?? []);
  const useCache = opts.useCache ?? true;
  const { blockSize } = model.config;
  const ids = Array.from(prompt);
  const state = begin(model);
  let cache: LayerCache[] | null = null;
  try {
    if (useCache) cache = state.free.pop() ?? model.createCache(1);
    let cached = 0; // positions held in the cache
    for (let n = 0; n < maxNewTokens; n++) {
      let logits: Float32Array;
      if (useCache && cached > 0 && cached < blockSize) {
        logits = lastLogits(model, [ids[ids.length - 1]!], cache!, cached);
        cached++;
      } else {
        const context = ids.slice(-blockSize);
        logits = useCache ? lastLogits(model, context, cache!, 0) : lastLogits(model, context, null, 0);
        cached = context.length;
      }
      const id = sampleToken(logits, opts, rng);
      ids.push(id);
      yield id;
      if (opts.onToken?.(id) === false || stop.has(id)) return;
    }
  } finally {
    end(model, state, cache);
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
 * server stays responsive while it streams).
 * @example
 * ```ts
 * for await (const id of generateStream(model, prompt, { maxNewTokens: 200, seed: 7 })) res.write(tok.decode([id]));
 * ```
 */
export async function* generateStream(model: GPT, prompt: ArrayLike<number>, opts: GenerateOptions): AsyncGenerator<number, void, unknown> {
  for (const id of generateTokens(model, prompt, opts)) {
    yield id;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/**
 * Logits (V) at the last of `ids`, placed at positions pos …: through the cache when given,
 * else a full no-grad forward. The step arena is released afterwards.
 */
export function lastLogits(model: GPT, ids: readonly number[], cache: LayerCache[] | null, pos: number): Float32Array {
  const rt = model.rt;
  return rt.step.scope(() => {
    const idx = rt.tensor(ids, [1, ids.length], { dtype: 'i32', arena: 'step' });
    // only the last position's logits: the head's product is 1×V, not T×V
    const logits = cache ? model.forwardCached(idx, cache, pos, { lastOnly: true }) : rt.tape.noGrad(() => model.forward(idx, undefined, { lastOnly: true }).logits);
    return logits.f32().slice();
  });
}
