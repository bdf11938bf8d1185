// Choosing the next token from one row of logits (V,): greedy, temperature, top-k and top-p
// (nucleus) sampling, in plain JS and f64. Every call draws exactly one rng.uniform(), so a
// generation is reproducible from its seed and resumable from the generator's state, whatever
// the options. Two scratch buffers are kept between calls, so sampling allocates almost nothing.
// Nothing is fully sorted: top-k, the top-p cut and the draw are selections (quickselect, the
// draw's weighed by mass), O(V) on average. On GPT-2's 50,257 tokens, against the full sort it
// replaced (same tokens for the same seeds, one process alternating): temperature 0.8 1.7 vs
// 6.2 ms a token, top-k 40 0.79 vs 4.75, top-p 0.95 1.5 vs 6.3.
import { ShapeError, ValueError } from '../errors.js';
import type { Rng } from '../random.js';
import { scanLogits } from '../math.js';
import { maxIndex } from '../ops/elementwise.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';

export interface SamplingOptions {
  /** Divides the logits before the softmax. Default 1; 0 means greedy (argmax). */
  temperature?: number;
  /** Keep only the k most probable tokens (an integer ≥ 1; k ≥ V keeps all). Default: all. */
  topK?: number;
  /**
   * Nucleus sampling: keep the smallest set of most probable tokens whose probability sum
   * is ≥ p, with 0 < p ≤ 1. Applied after top-k, to the renormalised top-k distribution.
   * Default 1 (keep all).
   */
  topP?: number;
}

// A token's sort key packs (logit descending, id ascending) into one double so that a native
// Float64Array sort puts the most probable token first: the top 32 bits are the logit's f32
// bits mapped to an order-reversing integer, the low 21 bits are the id. 32 + 21 = 53 bits
// fit a double exactly, which caps V at 2^21.
const ID_BITS = 2097152; // 2^21
const MAX_VOCAB = ID_BITS;

let keys = new Float64Array(0); // (V,) sort keys, reused between calls
let weights = new Float64Array(0); // (V,) exp((logit − max) / T), beside their keys
const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/**
 * `sampleToken` at temperature 0 on logits still in wasm memory (all of the tensor's elements, or
 * row `row` of its last dimension): the greedy token picked there (`maxIndex`) instead of in a
 * copy — the same token, checks, errors and one draw from `rng` as
 * `sampleToken(that row's values, { temperature: 0 }, rng)`.
 * @example
 * ```ts
 * const id = greedyToken(rt, model.forwardCached(idx, caches, pos, { lastOnly: true }), rng);
 * const second = greedyToken(rt, batchLogits, rngs[1], 1);   // batchLogits (B, 1, V)
 * ```
 */
export function greedyToken(rt: Runtime, logits: Tensor, rng: Rng, row?: number): number {
  const op = 'sampleToken', V = row === undefined ? logits.size : logits.shape[logits.shape.length - 1] ?? 0;
  if (V > MAX_VOCAB) throw new ShapeError(`${op}: logits has ${V} entries, at most ${MAX_VOCAB} are supported`);
  if (V === 0) throw new ShapeError(`${op}: logits is empty (V = 0)`);
  const { index, value } = maxIndex(rt, logits, { op, item: 'logit', at: (row ?? 0) * V, count: V });
  if (value === -Infinity) throw new ValueError(`${op}: all ${V} logits are -Infinity, nothing can be sampled`);
  rng.uniform();
  return index;
}

/** Whether a token can be picked from logits left in wasm memory: greedy without penalties (`greedyToken`). */
export function picksInWasm(opts: SamplingOptions & PenaltyOptions): boolean {
  return (opts.temperature ?? 1) === 0 && !hasPenalties(opts);
}

/**
 * Row `row`'s next token from logits (B, 1, V) still in wasm memory: picked there when `copied` is
 * null (`picksInWasm`), else sampled from that row of `copied` (the logits' values, copied out)
 * after the penalties of the ids counted in `counts`.
 * @example
 * ```ts
 * const id = nextToken(rt, logits, 0, picksInWasm(opts) ? null : logits.f32().slice(), opts, rng, new Map());
 * ```
 */
export function nextToken(rt: Runtime, logits: Tensor, row: number, copied: Float32Array | null, opts: SamplingOptions & PenaltyOptions,
  rng: Rng, counts: ReadonlyMap<number, number>): number {
  if (!copied) return greedyToken(rt, logits, rng, row);
  const V = logits.shape[logits.shape.length - 1]!, values = copied.subarray(row * V, (row + 1) * V);
  if (hasPenalties(opts)) applyPenalties(values, counts, opts);
  return sampleToken(values, opts, rng);
}

/**
 * Picks the next token id from `logits` (V,).
 *
 * With temperature 0 this is `argmax`. Otherwise the probabilities are
 * softmax(logits / temperature), computed in f64 with the max subtracted; top-k then top-p
 * (the order Hugging Face applies them) cut the candidates, the rest are renormalised, and
 * one uniform u from `rng` picks a token by inverse CDF over the kept tokens ordered by
 * descending logit (so descending probability), ties by lower id. Ordering by the logit
 * rather than the rounded probability makes topK = 1 equal greedy at every temperature.
 *
 * Exactly one `rng.uniform()` is drawn per call, greedy included. Tokens at −Infinity have
 * probability 0 and are never picked; if some logits are +Infinity, those share all the
 * probability equally (the limit of the softmax).
 *
 * @throws ValueError for a temperature that is negative, NaN or infinite, a topK that is not
 *   an integer ≥ 1, a topP outside (0, 1], a NaN logit (naming its index), or all logits −Infinity.
 * @throws ShapeError for an empty row or V > 2^21.
 * @example
 * ```ts
 * const rng = new Rng(1234);
 * const next = sampleToken(logits, { temperature: 0.8, topK: 40, topP: 0.95 }, rng);
 * ```
 */
export function sampleToken(logits: Float32Array, opts: SamplingOptions, rng: Rng): number {
  const op = 'sampleToken';
  checkSamplingOptions(op, opts);
  const temperature = opts.temperature ?? 1;
  const topK = opts.topK ?? Infinity;
  const topP = opts.topP ?? 1;
  const V = logits.length;
  if (V > MAX_VOCAB) throw new ShapeError(`${op}: logits has ${V} entries, at most ${MAX_VOCAB} are supported`);
  const { best, max } = scanLogits(op, logits);
  if (max === -Infinity) throw new ValueError(`${op}: all ${V} logits are -Infinity, nothing can be sampled`);
  const u = rng.uniform(); // the one draw of this token, taken before any branch
  if (temperature === 0) return best;

  // Candidates: every token with a nonzero probability, as sort keys (most probable first) with
  // their weights. No full sort: top-k, top-p and the draw are each a selection, O(V) on average.
  if (keys.length < V) {
    keys = new Float64Array(V);
    weights = new Float64Array(V);
  }
  // Weights exp((logit − max) / T); +Infinity logits, if any, take all the mass equally.
  const weightOf = (x: number) => Math.exp(max === Infinity ? (x === Infinity ? 0 : -Infinity) : (x - max) / temperature);
  const weight = (key: number) => weightOf(logits[keyId(key)]!);
  let n = 0;
  for (let i = 0; i < V; i++) {
    const x = logits[i]!;
    if (x !== -Infinity) keys[n++] = sortKey(x, i);
  }
  let sum = 0;
  if (topK < n) {
    // Top-k: the k smallest keys, in any order; only they are weighed
    selectSmallest(keys, n, topK);
    n = topK;
    for (let j = 0; j < n; j++) sum += weights[j] = weight(keys[j]!);
  } else {
    for (let i = 0, j = 0; i < V; i++) {   // the same candidates in the same places as the keys
      const x = logits[i]!;
      if (x !== -Infinity) sum += weights[j++] = weightOf(x);
    }
  }

  // Top-p: the shortest most-probable prefix whose mass reaches topP of the (top-k) total; the
  // selection leaves that prefix in keys[0, n).
  let total = sum;
  if (topP < 1) {
    const cut = selectByMass(keys, weights, n, topP * sum, false, weight);
    n = cut.rank + 1;
    total = cut.mass;
  }

  // Inverse CDF over the kept tokens in key order: the first whose cumulative mass exceeds
  // u·total. The most probable token has weight exp(0) = 1, so total ≥ 1.
  return keyId(keys[selectByMass(keys, weights, n, u * total, true, weight).rank]!);
}

/**
 * Rearranges a[0, n) so that its k smallest values (0 < k < n; the keys are distinct) come first,
 * in any order: quickselect, O(n) on average.
 */
function selectSmallest(a: Float64Array, n: number, k: number): void {
  const t = k - 1;   // the k-th smallest ends at t, everything before it smaller
  let lo = 0, hi = n - 1;
  for (let rounds = 0; lo < hi; rounds++) {
    if (rounds > 64) {   // a range that keeps failing to shrink: sort it
      a.subarray(lo, hi + 1).sort();
      return;
    }
    const m = partition(a, null, lo, hi);
    if (t < m) hi = m - 1;
    else if (t > m) lo = m + 1;
    else return;
  }
}

/**
 * In the ascending order of the keys a[0, n) (weights w alongside): the first rank r whose
 * cumulative weight exceeds `target` (`strict`) or reaches it, with that cumulative weight. a and
 * w are rearranged so that a[0, r) hold the smaller keys and a[r] the one at rank r (quickselect,
 * each round's partition weighed). Past the end (rounding, when the target is the whole mass)
 * it is the last rank. A strict pick never lands on a zero weight: it then takes the largest key
 * of positive weight before it, as a walk in order would have. `weight` re-derives w for a range
 * that had to be sorted.
 */
function selectByMass(a: Float64Array, w: Float64Array, n: number, target: number, strict: boolean,
  weight: (key: number) => number): { rank: number; mass: number } {
  const reached = (cum: number) => (strict ? cum > target : cum >= target);
  let lo = 0, hi = n - 1, before = 0;   // before: the weight of a[0, lo), every key there smaller than a[lo, hi]
  for (let rounds = 0; lo < hi; rounds++) {
    if (rounds > 64) {   // a range that keeps failing to shrink: sort it and walk
      a.subarray(lo, hi + 1).sort();
      for (let j = lo; j <= hi; j++) w[j] = weight(a[j]!);
      for (; lo < hi && !reached(before + w[lo]!); lo++) before += w[lo]!;
      break;
    }
    const m = partition(a, w, lo, hi);
    let left = 0;
    for (let j = lo; j < m; j++) left += w[j]!;
    if (m > lo && reached(before + left)) hi = m - 1;
    else if (reached(before + left + w[m]!) || m === hi) return settle(a, w, m, before + left + w[m]!, strict);
    else {
      before += left + w[m]!;
      lo = m + 1;
    }
  }
  return settle(a, w, lo, before + w[lo]!, strict);
}

/** selectByMass's answer at rank r: for a strict pick, a zero weight (reached only through rounding) gives way to the largest key of positive weight before it. */
function settle(a: Float64Array, w: Float64Array, r: number, mass: number, strict: boolean): { rank: number; mass: number } {
  if (!strict || w[r]! > 0) return { rank: r, mass };
  let best = -1;
  for (let j = 0; j < r; j++) if (w[j]! > 0 && (best < 0 || a[j]! > a[best]!)) best = j;
  return { rank: best < 0 ? r : best, mass };
}

/** Partitions a[lo, hi] (and w alongside, if given) around a median-of-three pivot: returns its place m, smaller keys in [lo, m), larger in (m, hi]. */
function partition(a: Float64Array, w: Float64Array | null, lo: number, hi: number): number {
  const mid = (lo + hi) >>> 1;
  const x = a[lo]!, y = a[mid]!, z = a[hi]!;
  const pi = x < y ? (y < z ? mid : x < z ? hi : lo) : (x < z ? lo : y < z ? hi : mid);
  swap(a, w, pi, hi);
  const p = a[hi]!;
  let m = lo;
  for (let j = lo; j < hi; j++) if (a[j]! < p) swap(a, w, j, m++);
  swap(a, w, m, hi);
  return m;
}

function swap(a: Float64Array, w: Float64Array | null, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
  if (w) {
    const u = w[i]!;
    w[i] = w[j]!;
    w[j] = u;
  }
}

/**
 * Throws ValueError (naming `op` and the option) unless the sampling options are valid: what
 * `sampleToken` checks, available before any work is done.
 * @example
 * ```ts
 * checkSamplingOptions('generate', { temperature: 0.8, topK: 40 });
 * ```
 */
export function checkSamplingOptions(op: string, opts: SamplingOptions): void {
  const temperature = opts.temperature ?? 1;
  if (!(temperature >= 0) || !Number.isFinite(temperature)) {
    throw new ValueError(`${op}: temperature is ${temperature}, expected a finite number ≥ 0 (0 means greedy)`);
  }
  if (opts.topK !== undefined && !(Number.isInteger(opts.topK) && opts.topK >= 1)) {
    throw new ValueError(`${op}: topK is ${opts.topK}, expected an integer ≥ 1`);
  }
  const topP = opts.topP ?? 1;
  if (!(topP > 0 && topP <= 1)) {
    throw new ValueError(`${op}: topP is ${topP}, expected a number in (0, 1]`);
  }
}

/** Penalties on tokens already seen (the prompt and what was generated), applied to the logits before sampling. */
export interface PenaltyOptions {
  /**
   * CTRL's repetition penalty θ (Keskar et al. 2019, as Hugging Face applies it): a seen token's
   * logit is divided by θ when positive, multiplied by θ when negative. > 0; 1 = off (default).
   */
  repetitionPenalty?: number;
  /** Subtracted from a seen token's logit once per occurrence (OpenAI's frequency_penalty). Default 0. */
  frequencyPenalty?: number;
  /** Subtracted once from the logit of any seen token (OpenAI's presence_penalty). Default 0. */
  presencePenalty?: number;
}

/** Throws ValueError unless the penalties are finite (and the repetition penalty > 0). */
export function checkPenalties(op: string, opts: PenaltyOptions): void {
  const r = opts.repetitionPenalty ?? 1;
  if (!(r > 0) || !Number.isFinite(r)) throw new ValueError(`${op}: repetitionPenalty is ${r}, expected a finite number > 0 (1 = off)`);
  for (const key of ['frequencyPenalty', 'presencePenalty'] as const) {
    const v = opts[key] ?? 0;
    if (!Number.isFinite(v)) throw new ValueError(`${op}: ${key} is ${v}, expected a finite number (0 = off)`);
  }
}

/** Whether any penalty is on. */
export function hasPenalties(opts: PenaltyOptions): boolean {
  return (opts.repetitionPenalty ?? 1) !== 1 || (opts.frequencyPenalty ?? 0) !== 0 || (opts.presencePenalty ?? 0) !== 0;
}

/**
 * Applies the penalties in place to `logits` (V,), given how often each token id was seen
 * (`counts`: id → occurrences, ids outside the row ignored). Repetition first (multiplicative),
 * then frequency and presence (additive), as Hugging Face then OpenAI order them.
 * @example
 * ```ts
 * const counts = new Map([[464, 2], [11, 1]]);
 * applyPenalties(logits, counts, { repetitionPenalty: 1.2, presencePenalty: 0.5 });
 * ```
 */
export function applyPenalties(logits: Float32Array, counts: ReadonlyMap<number, number>, opts: PenaltyOptions): void {
  const r = opts.repetitionPenalty ?? 1, f = opts.frequencyPenalty ?? 0, p = opts.presencePenalty ?? 0;
  for (const [id, n] of counts) {
    if (id < 0 || id >= logits.length || n <= 0) continue;
    let x = logits[id]!;
    if (r !== 1) x = x > 0 ? x / r : x * r;
    logits[id] = x - n * f - p;
  }
}

/** (logit descending, id ascending) as one double: see ID_BITS. */
function sortKey(x: number, id: number): number {
  f32[0] = x === 0 ? 0 : x; // −0 sorts with +0
  const bits = f32Bits[0]!;
  // Order-preserving map of f32 bits to an unsigned integer: negatives flip every bit,
  // positives set the sign bit. Subtracting from 2^32 − 1 reverses the order.
  const ordered = bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
  return (0xffffffff - ordered) * ID_BITS + id;
}

function keyId(key: number): number {
  return key - Math.floor(key / ID_BITS) * ID_BITS;   // key % ID_BITS, without a float remainder
}
