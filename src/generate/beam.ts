// Decoding an encoder–decoder: greedy search over a batch of sources, and beam search with the
// length penalty of Wu et al. (2016), lp(n) = ((5 + n) / 6)^α, which the original Transformer
// used (α = 0.6, beam 4). The source is encoded once; its cross-attention keys and values are
// computed once and shared by every beam (one K|V row, stride 0); the decoder's self-attention
// keeps a KV cache per beam, reordered when beams are pruned. Everything lives in a step-arena
// scope that ends with the call.
import { ShapeError, ValueError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { copyBlock } from '../ops/elementwise.js';
import type { LayerCache } from '../nn/attention.js';
import type { EncoderDecoder } from '../models/encoder-decoder.js';
import type { GPT } from '../models/gpt.js';
import { checkIds } from '../ops/embedding.js';
import { argmax } from '../math.js';
import { inEval, interrupted, LogitsCopy, now } from './generate.js';

export interface DecodeOptions {
  /** Most target tokens to produce, EOS included (default maxPositions). */
  maxLength?: number;
  /** EOS cannot come before this many tokens (default 0). */
  minLength?: number;
}

export interface BeamOptions extends DecodeOptions {
  /** Number of beams k (default 4). */
  beamSize?: number;
  /** α of the length penalty ((5 + n) / 6)^α (default 0.6; 0 = raw log-probability). */
  lengthPenalty?: number;
}

/** One finished hypothesis. */
export interface Hypothesis {
  /** Target ids without BOS and EOS. */
  tokens: number[];
  /** Σ log p of the tokens, EOS included. */
  logProb: number;
  /** logProb / lp(length): what beams are ranked by. */
  score: number;
  /** Whether it ended with EOS (false: stopped at maxLength). */
  finished: boolean;
}

/**
 * Greedy decoding of a batch of sources (Seq2Seq or T5): at every step each unfinished row takes its most
 * likely next token. Returns the target ids of each source without BOS/EOS.
 * @example
 * ```ts
 * const out = greedyDecode(model, [[5, 6, 7], [8, 9]], { maxLength: 12 }); // e.g. [[7, 6, 5], [9, 8]]
 * ```
 */
export function greedyDecode(model: EncoderDecoder, sources: ArrayLike<number>[], opts: DecodeOptions = {}): number[][] {
  const rt = model.rt;
  const { startId, eosId, vocabSize: V } = model.decoding;
  const maxLength = checkMaxLength(model, opts.maxLength);
  const minLength = checkMinLength(opts.minLength, maxLength);
  const B = sources.length;
  if (B === 0) return [];
  const wasTraining = model.ctx.training;
  model.eval();
  try {
    return rt.step.scope(() => {
      const source = model.encodeForDecoding(padSources(model, sources));
      const caches = model.createCache(B, maxLength, 'step');
      const out: number[][] = sources.map(() => []);
      const done = new Array<boolean>(B).fill(false);
      let next = new Array<number>(B).fill(startId);
      const copy = new LogitsCopy();
      for (let pos = 0; pos < maxLength && done.includes(false); pos++) {
        const logits = stepLogits(model, next, caches, pos, source, pos < minLength, copy);
        next = next.map((_, b) => {
          const id = argmax(logits.subarray(b * V, (b + 1) * V));
          if (!done[b]) {
            if (id === eosId) done[b] = true;
            else out[b]!.push(id);
          }
          return id;
        });
      }
      return out;
    });
  } finally {
    model.train(wasTraining);
  }
}

/** Why `decodeTokens` ended. */
export type DecodeStop = 'eos' | 'length' | 'abort' | 'time';

/** Options of `decodeTokens`: greedy decoding's, with a way to stop it from outside. */
export interface DecodeStreamOptions extends DecodeOptions {
  /** Checked before each token: an aborted signal ends the decoding ('abort'). */
  signal?: AbortSignal;
  /** Ends the decoding after this many milliseconds ('time'). */
  timeLimitMs?: number;
}

/**
 * Greedy decoding of one source, a token at a time (a synchronous iterator; EOS ends it and is
 * not yielded): the same tokens as `greedyDecode(model, [source])`, for streaming text and servers.
 * The encoded source and the KV caches live in the persistent store while it runs, so the step
 * arena may be used and reset between tokens; they are freed when it ends, also early. The model
 * is in eval mode only while a token is computed. Options are checked before it returns.
 * @example
 * ```ts
 * const d = tok.decoder({ skipSpecialTokens: true });
 * for (const id of decodeTokens(t5, tok.encode('translate English to German: Hello', { addSpecialTokens: true }), { maxLength: 40 })) {
 *   process.stdout.write(d.push(id));
 * }
 * ```
 */
export function decodeTokens(model: EncoderDecoder, source: ArrayLike<number>, opts: DecodeStreamOptions = {}): Generator<number, DecodeStop, unknown> {
  const maxLength = checkMaxLength(model, opts.maxLength);
  const minLength = checkMinLength(opts.minLength, maxLength);
  if (source.length === 0) throw new ShapeError('decode: the source is empty; give at least one token');
  if (opts.timeLimitMs !== undefined && !(opts.timeLimitMs > 0 && Number.isFinite(opts.timeLimitMs))) {
    throw new ValueError(`decode: timeLimitMs is ${opts.timeLimitMs}, expected a finite number of milliseconds > 0`);
  }
  if (opts.signal !== undefined && typeof opts.signal?.aborted !== 'boolean') throw new ValueError('decode: signal is not an AbortSignal');
  return decoding(model, Array.from(source), maxLength, minLength, opts);
}

function* decoding(model: EncoderDecoder, source: number[], maxLength: number, minLength: number, opts: DecodeStreamOptions): Generator<number, DecodeStop, unknown> {
  const rt = model.rt, { startId, eosId } = model.decoding;
  const deadline = opts.timeLimitMs === undefined ? Infinity : now() + opts.timeLimitMs;
  const held: Tensor[] = [];
  try {
    // the encoder once; its K|V and mask kept outside the step arena
    const encoded = inEval(model, () => rt.step.scope(() => {
      const s = model.encodeForDecoding(padSources(model, [source]));
      const keep = (t: Tensor) => {
        const p = rt.empty(t.shape, { dtype: t.dtype });
        held.push(p);
        p.data().set(t.data());
        return p;
      };
      return { memoryKV: s.memoryKV.map(keep), mask: keep(s.mask) };
    }));
    const caches = model.createCache(1, maxLength, 'persistent');
    for (const c of caches) held.push(c.k, c.v);
    let next = startId;
    const copy = new LogitsCopy();
    for (let pos = 0; pos < maxLength; pos++) {
      const why = interrupted(opts, deadline);
      if (why) return why;
      const logits = inEval(model, () => stepLogits(model, [next], caches, pos, encoded, pos < minLength, copy));
      next = argmax(logits);
      if (next === eosId) return 'eos';
      yield next;
    }
    return 'length';
  } finally {
    for (const t of held) rt.free(t);
  }
}

/**
 * Beam search for one source: keeps the k best partial targets by log-probability. When EOS is
 * among the k best continuations of a step, that hypothesis ends; the k best ended ones (by
 * logProb / ((5 + n) / 6)^α, n = tokens including EOS) are kept. The search stops when k have
 * ended and no live beam can still beat the worst of them — its score can at best be its
 * log-probability so far over lp(maxLength), an exact bound since log-probabilities only fall —
 * or at maxLength (live beams are then returned unfinished). With α = 0 and k = 1 this is
 * exactly greedy decoding; with α > 0 a single beam may look past a greedy EOS for a longer
 * hypothesis with a better normalised score.
 * @example
 * ```ts
 * const [best] = beamSearch(model, [5, 6, 7], { beamSize: 4, lengthPenalty: 0.6 });
 * best.tokens; // e.g. [7, 6, 5]
 * ```
 */
export function beamSearch(model: EncoderDecoder, source: ArrayLike<number>, opts?: BeamOptions): Hypothesis[];
/**
 * Beam search continuing a GPT prompt: as for a Seq2Seq, with the prompt run once and its cache
 * row copied to every beam; `eosId` ends a hypothesis (without one, every beam runs to
 * `maxNewTokens`); tokens are the new ids only.
 * @example
 * ```ts
 * const [best] = beamSearch(gpt, tok.encode('The answer is'), { beamSize: 4, maxNewTokens: 20, eosId: 50256 });
 * ```
 */
export function beamSearch(model: GPT, prompt: ArrayLike<number>, opts: GptBeamOptions): Hypothesis[];
export function beamSearch(model: EncoderDecoder | GPT, input: ArrayLike<number>, opts: BeamOptions & Partial<GptBeamOptions> = {}): Hypothesis[] {
  const k = opts.beamSize ?? 4;
  const alpha = opts.lengthPenalty ?? 0.6;
  if (!Number.isInteger(k) || k < 1) throw new ValueError(`beamSearch: beamSize is ${k}, expected an integer ≥ 1`);
  if (!(alpha >= 0) || !Number.isFinite(alpha)) throw new ValueError(`beamSearch: lengthPenalty α is ${alpha}, expected a finite number ≥ 0`);
  return model.family === 'gpt' ? gptBeams(model as GPT, input, k, alpha, opts) : seq2seqBeams(model as EncoderDecoder, input, k, alpha, opts);
}

/** Beam search options for a GPT. */
export interface GptBeamOptions extends Omit<BeamOptions, 'maxLength'> {
  /** Most new tokens, EOS included (prompt + maxNewTokens ≤ blockSize). */
  maxNewTokens: number;
  /** The id that ends a hypothesis (e.g. GPT-2's <|endoftext|>, 50256); none: beams run to maxNewTokens. */
  eosId?: number;
}

/** A decoder the search drives: logits (rows, V) of one step for the beams' last tokens, and cache rows reordered to follow their parents. */
interface Stepper {
  V: number;
  eosId: number;
  /** Logits of step `pos` (0-based), one row per live beam, given their last tokens (at step 0 the one empty beam: −1). */
  step(last: number[], pos: number): Float32Array;
  /** Cache rows j ← rows parents[j], after step `pos`. */
  reorder(parents: number[], pos: number): void;
}

function seq2seqBeams(model: EncoderDecoder, source: ArrayLike<number>, k: number, alpha: number, opts: BeamOptions): Hypothesis[] {
  const rt = model.rt;
  const { startId, eosId, vocabSize: V } = model.decoding;
  const maxLength = checkMaxLength(model, opts.maxLength);
  const minLength = checkMinLength(opts.minLength, maxLength);
  const wasTraining = model.ctx.training;
  model.eval();
  try {
    return rt.step.scope(() => {
      const shared = model.encodeForDecoding(padSources(model, [source]));  // K|V (1, S, 2C): every beam reads the same rows
      let caches = model.createCache(k, maxLength, 'step');
      let spare = model.createCache(k, maxLength, 'step');
      const copy = new LogitsCopy();
      return search(k, alpha, maxLength, {
        V, eosId,
        step: (last, pos) => stepLogits(model, pos === 0 ? [startId] : last, caches, pos, shared, pos < minLength, copy),
        reorder: (parents, pos) => {
          // rows of the new beams' caches come from their parents' rows (positions 0 … pos)
          for (let l = 0; l < caches.length; l++) reorder(rt, caches[l]!, spare[l]!, parents, (pos + 1) * caches[l]!.k.shape[2]!);
          [caches, spare] = [spare, caches];
        },
      });
    });
  } finally {
    model.train(wasTraining);
  }
}

function gptBeams(model: GPT, prompt: ArrayLike<number>, k: number, alpha: number, opts: Partial<GptBeamOptions>): Hypothesis[] {
  const rt = model.rt;
  const { blockSize, vocabSize: V } = model.config;
  const P = prompt.length;
  const maxNew = opts.maxNewTokens;
  if (P === 0) throw new ValueError('beamSearch: the prompt is empty; give at least one token id');
  checkIds('beamSearch', Int32Array.from(prompt), V);
  if (!Number.isInteger(maxNew) || maxNew! < 1 || P + maxNew! > blockSize) {
    throw new ValueError(`beamSearch: maxNewTokens is ${maxNew}, expected an integer in [1, ${blockSize - P}] (blockSize ${blockSize} − prompt ${P})`);
  }
  const eosId = opts.eosId ?? -1;
  if (opts.eosId !== undefined) checkIds('beamSearch', Int32Array.of(eosId), V, 'eosId');
  const minLength = checkMinLength(opts.minLength, maxNew!);
  const wasTraining = model.ctx.training;
  model.eval();
  let caches = model.createCache(k, P + maxNew!), spare = model.createCache(k, P + maxNew!);
  const copy = new LogitsCopy();
  try {
    return search(k, alpha, maxNew!, {
      V, eosId,
      step: (last, pos) => rt.step.scope(() => {
        // step 0 runs the prompt (one row); step s feeds each beam's last token at position P + s − 1
        const ids = pos === 0 ? [Array.from(prompt)] : last.map((t) => [t]);
        const idx = rt.tensor(ids.flat(), [ids.length, ids[0]!.length], { dtype: 'i32', arena: 'step' });
        const logits = copy.of(model.forwardCached(idx, caches, pos === 0 ? 0 : P + pos - 1, { lastOnly: true }).f32());
        if (pos < minLength && eosId >= 0) for (let r = 0; r < ids.length; r++) logits[r * V + eosId] = -Infinity;
        return logits;
      }),
      reorder: (parents, pos) => {
        for (let l = 0; l < caches.length; l++) reorder(rt, caches[l]!, spare[l]!, parents, (P + pos) * caches[l]!.k.shape[2]!);
        [caches, spare] = [spare, caches];
      },
    });
  } finally {
    for (const c of [...caches, ...spare]) { rt.free(c.k); rt.free(c.v); }
    model.train(wasTraining);
  }
}

/**
 * The search itself: keeps the k best partial hypotheses by log-probability; a continuation by
 * EOS among the k best ends a hypothesis; stops when k have ended and no live beam can beat the
 * worst of them (its best possible score is its log-probability over lp(maxLength)), or at maxLength.
 */
function search(k: number, alpha: number, maxLength: number, d: Stepper): Hypothesis[] {
  const { V, eosId } = d;
  const lp = (n: number) => Math.pow((5 + n) / 6, alpha);
  let beams: { tokens: number[]; logProb: number }[] = [{ tokens: [], logProb: 0 }];
  const ended: Hypothesis[] = [];                                      // the k best ended, best first
  const end = (h: Hypothesis) => {
    if (ended.length === k && !(h.score > ended[k - 1]!.score)) return;
    ended.splice(ended.filter((e) => e.score >= h.score).length, 0, h);
    if (ended.length > k) ended.pop();
  };
  for (let pos = 0; pos < maxLength && beams.length > 0; pos++) {
    const logits = d.step(beams.map((b) => b.tokens[b.tokens.length - 1] ?? -1), pos);
    // the 2k best (beam, token) continuations by total log-probability
    const best = new TopK(2 * k);
    beams.forEach((beam, i) => {
      const row = logits.subarray(i * V, (i + 1) * V);
      const lse = logSumExp(row);
      for (let v = 0; v < V; v++) if (row[v] !== -Infinity) best.offer(beam.logProb + row[v]! - lse, i, v);
    });
    const next: { tokens: number[]; logProb: number }[] = [];
    const parents: number[] = [];
    best.sorted().forEach(({ score, beam, token }, rank) => {
      const tokens = [...beams[beam]!.tokens, token];
      if (token === eosId) {
        if (rank < k) end({ tokens: tokens.slice(0, -1), logProb: score, score: score / lp(tokens.length), finished: true });
      } else if (next.length < k) {
        next.push({ tokens, logProb: score });
        parents.push(beam);
      }
    });
    beams = next;
    // done when no live beam can beat the k-th ended hypothesis
    if (ended.length === k && beams.every((b) => b.logProb / lp(maxLength) <= ended[k - 1]!.score)) beams = [];
    if (beams.length === 0 || pos + 1 === maxLength) break;
    d.reorder(parents, pos);
  }
  for (const b of beams) end({ tokens: b.tokens, logProb: b.logProb, score: b.logProb / lp(b.tokens.length), finished: false });
  return ended;
}

/** Copies row parents[j] of `from` (its first n floats: the positions written so far) into row j of `to`, for k and v. */
function reorder(rt: Runtime, from: LayerCache, to: LayerCache, parents: number[], n: number): void {
  const row = from.k.shape[1]! * from.k.shape[2]!;
  parents.forEach((p, j) => {
    copyBlock(rt, to.k, { at: j * row, ld: n }, from.k, { at: p * row, ld: n }, 1, n);
    copyBlock(rt, to.v, { at: j * row, ld: n }, from.v, { at: p * row, ld: n }, 1, n);
  });
}

/**
 * Logits (rows, V) of one decoding step for the last tokens `ids` (one per row) at position pos.
 * PAD and BOS are never produced (their logits are −∞): a PAD inside a target would be masked
 * out of the decoder's own attention, and BOS only starts one; EOS neither while `noEos`
 * (fewer than minLength tokens so far: every live row has produced exactly pos). In `copy`'s
 * array: valid until the next step.
 */
function stepLogits(model: EncoderDecoder, ids: number[], caches: LayerCache[], pos: number, source: { memoryKV: Tensor[]; mask: Tensor },
  noEos: boolean, copy: LogitsCopy): Float32Array {
  const rt = model.rt;
  const { padId, startId, eosId, vocabSize: V } = model.decoding;
  const logits = rt.step.scope(() => {
    const t = rt.tensor(ids, [ids.length, 1], { dtype: 'i32', arena: 'step' });
    return copy.of(model.decodeStep(t, caches, pos, source).f32());
  });
  for (let r = 0; r < ids.length; r++) {
    logits[r * V + padId] = logits[r * V + startId] = -Infinity;
    if (noEos) logits[r * V + eosId] = -Infinity;
  }
  return logits;
}

/** Sources as one right-padded i32 (B, S) tensor in the step arena. */
function padSources(model: EncoderDecoder, sources: ArrayLike<number>[]): Tensor {
  const S = Math.max(...sources.map((s) => s.length));
  sources.forEach((s, b) => {
    if (s.length === 0) throw new ShapeError(`decode: source ${b} is empty; every source needs at least one token`);
  });
  const data = new Int32Array(sources.length * S).fill(model.decoding.padId);
  sources.forEach((s, b) => data.set(Array.from(s), b * S));
  return model.rt.tensor(data, [sources.length, S], { dtype: 'i32', arena: 'step' });
}

function checkMaxLength(model: EncoderDecoder, n: number | undefined): number {
  const max = model.decoding.maxLength;
  const v = n ?? max;
  if (!Number.isInteger(v) || v < 1 || v > max) throw new ValueError(`decode: maxLength is ${v}, expected an integer in [1, ${max}] (${model.family === 't5' ? 'T5_MAX_DECODE_LENGTH' : 'maxPositions'})`);
  return v;
}

function checkMinLength(n: number | undefined, maxLength: number): number {
  const v = n ?? 0;
  if (!Number.isInteger(v) || v < 0 || v >= maxLength) throw new ValueError(`decode: minLength is ${v}, expected an integer in [0, ${maxLength - 1}] (below maxLength)`);
  return v;
}

function logSumExp(row: Float32Array): number {
  let m = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > m) m = row[i]!;
  let s = 0;
  for (let i = 0; i < row.length; i++) s += Math.exp(row[i]! - m);
  return m + Math.log(s);
}

/** The n largest scores offered, ties broken by the earlier offer (beam, then token order). */
class TopK {
  readonly #items: { score: number; beam: number; token: number }[] = [];
  constructor(readonly n: number) {}

  offer(score: number, beam: number, token: number): void {
    const items = this.#items;
    if (items.length === this.n && !(score > items[items.length - 1]!.score)) return;
    let i = items.length;
    while (i > 0 && items[i - 1]!.score < score) i--;
    items.splice(i, 0, { score, beam, token });
    if (items.length > this.n) items.pop();
  }

  sorted(): readonly { score: number; beam: number; token: number }[] {
    return this.#items;
  }
}
