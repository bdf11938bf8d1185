// Multi-head scaled dot-product attention, softmax(Q·Kᵀ/√hs)·V, with its backward: self- or
// cross-attention, causal or not, with key padding masks. Heads are never copied out: Q, K and
// V are strided views into their projections (e.g. the fused c_attn output (B, T, 3C)), and
// each batched GEMM covers all heads of one sequence (stride hs between heads). By default the
// fused kernels run: no (B, NH, Tq, Tk) probabilities are stored, only one log-sum-exp per query
// row, from which the backward recomputes them block by block. Asked for the probabilities (for
// visualisation), or with heads larger than the fused kernels take, the dense path runs and keeps
// them for its backward.
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectF32 } from '../ops/check.js';
import { colsum, fill } from '../ops/elementwise.js';
import {
  attendBackward, attendForward, attendFusedBackward, attendFusedKeeping, FUSED_MAX_HEAD_SIZE,
  type AttentionDims, type GradView, type HeadView, type MaskView,
} from '../ops/attention.js';
import { gradOf, gradSlot } from './grad.js';


/** What `attention` returns. */
export interface AttentionResult {
  /** (B, Tq, C): the heads' outputs side by side, ready for the output projection. */
  y: Tensor;
  /** (B, NH, Tq, Tk): attention probabilities (step arena; copy them to keep them), when asked for with `probs: true`; else null. */
  probs: Tensor | null;
}

/** How attention runs: fused kernels that never store the probabilities, or the dense path that does. */
export type AttentionPath = 'fused' | 'dense';

/** Columns [col, col + width) of a (B, T, W) tensor: Q, K or V inside a fused projection. */
export interface ColumnSlice {
  t: Tensor;
  col: number;
  width: number;
}

/** Options of the attention ops. */
export interface AttentionOptions {
  /** Query r sees keys j ≤ r + Tk − Tq only (decoder self-attention). Default false for `attend`, true for `attention`. */
  causal?: boolean;
  /**
   * Key padding mask, i32 (B, Tk): 0 hides key j of sequence b from every query and head
   * (padding), anything else keeps it. A query that sees no key at all gets a zero output.
   */
  keyMask?: Tensor | null;
  /**
   * Return the (B, NH, Tq, Tk) probabilities (runs the dense path, which stores them; attention that
   * runs on the fused kernels only — a relative bias, a window — makes them from the fused forward's
   * log-sum-exps instead). Default false.
   */
  probs?: boolean;
  /**
   * Force a path: 'fused' (the default: memory O(T), not O(T²)) or 'dense' (scores, softmax and
   * products as whole (Tq, Tk) matrices). Heads larger than 256 always run dense.
   */
  path?: AttentionPath;
  /**
   * Sliding-window attention (Longformer): a query sees only keys at most `window` positions away
   * (causal: behind it). Cost linear in T. Fused path only. 0 or absent: every key.
   */
  window?: number;
  /** With a window: this many leading positions (e.g. [CLS]) see every key and are seen by every query. */
  globals?: number;
  /**
   * A relative position bias (NH, Tq + Tk − 1) added to the scores: entry (h, j − r + Tq − 1) for
   * query r and key j (ALiBi's fixed slopes, T5's learned buckets via `relativeBias`); its gradient
   * flows back when it requires one. Fused path only.
   */
  rel?: Tensor | null;
  /** Multiplies the scores before the softmax. Default 1/√hs; T5 uses 1 (its init absorbs the factor). */
  scale?: number;
}

/**
 * Causal (or bidirectional) multi-head self-attention over qkv (B, T, 3C) = [Q | K | V], the
 * fused projection GPT-2's c_attn produces; head h uses columns h·hs … (h+1)·hs of each part.
 * @example
 * ```ts
 * const qkv = linear(rt, x, cAttn.weight, cAttn.bias);           // (B, T, 3C)
 * const { y } = attention(rt, qkv, 4, { causal: true });                      // y (B, T, C)
 * const { probs } = attention(rt, qkv, 4, { causal: true, probs: true });     // probs (B, 4, T, T)
 * ```
 */
export function attention(rt: Runtime, qkv: Tensor, nHead: number, opts: AttentionOptions = {}): AttentionResult {
  expectF32('attention', 'qkv', qkv);
  if (qkv.shape.length !== 3 || qkv.shape[2]! % 3 !== 0) throw new ShapeError(`attention: qkv has shape [${qkv.shape.join(', ')}], expected (B, T, 3C)`);
  const C = qkv.shape[2]! / 3;
  const part = (i: number): ColumnSlice => ({ t: qkv, col: i * C, width: C });
  return attend(rt, part(0), part(1), part(2), nHead, { causal: true, ...opts });
}

/**
 * Multi-head attention of queries q (B, Tq, C) over keys k and values v (B, Tk, C), each a
 * whole tensor or a column slice of a fused projection: self-attention (q, k, v from one
 * sequence), or cross-attention (q from the decoder, k and v from the encoder output), with an
 * optional causal rule and key padding mask.
 * @example
 * ```ts
 * const q = linear(rt, yDec, wq, bq, 'out,in');                         // (B, Tq, C)
 * const kv = linear(rt, memory, wkv, bkv, 'out,in');                    // (B, Tk, 2C)
 * const { y } = attend(rt, q, { t: kv, col: 0, width: C }, { t: kv, col: C, width: C }, 8,
 *   { keyMask: srcMask });                                              // y (B, Tq, C)
 * ```
 */
export function attend(rt: Runtime, q: Tensor | ColumnSlice, k: Tensor | ColumnSlice, v: Tensor | ColumnSlice,
  nHead: number, opts: AttentionOptions = {}): AttentionResult {
  const op = 'attention';
  const [qs, ks, vs] = [q, k, v].map((s, i) => asSlice(op, 'qkv'[i]!, s)) as [ColumnSlice, ColumnSlice, ColumnSlice];
  const [B, Tq] = qs.t.shape as [number, number];
  const Tk = ks.t.shape[1]!;
  const C = qs.width;
  if (ks.t.shape[0] !== B || vs.t.shape[0] !== B) {
    throw new ShapeError(`${op}: queries come from ${B} sequences but keys/values from ${ks.t.shape[0]}/${vs.t.shape[0]}`);
  }
  if (vs.t.shape[1] !== Tk) throw new ShapeError(`${op}: keys have ${Tk} positions but values ${vs.t.shape[1]}`);
  if (ks.width !== C || vs.width !== C) throw new ShapeError(`${op}: q, k, v widths are ${C}, ${ks.width}, ${vs.width}; they must be equal`);
  if (!Number.isInteger(nHead) || nHead < 1 || C % nHead !== 0) throw new ShapeError(`${op}: C = ${C} is not divisible by nHead = ${nHead}`);
  if (Tq < 1 || Tk < 1) throw new ShapeError(`${op}: empty sequences (Tq = ${Tq}, Tk = ${Tk})`);
  const mask = opts.keyMask ? checkKeyMask(op, opts.keyMask, B, Tk) : null;
  const d: AttentionDims = { B, Tq, Tk, nHead, hs: C / nHead, causal: opts.causal ?? false, window: opts.window ?? 0, globals: opts.globals ?? 0 };
  if (opts.scale !== undefined) d.scale = opts.scale;
  const maskView: MaskView | null = mask ? { t: mask, ld: Tk } : null;
  const [qv, kv, vv] = [view(qs, qs.t), view(ks, ks.t), view(vs, vs.t)];
  const rel = opts.rel ?? null;
  const fusedOnly = d.window ? `a sliding window (window ${d.window})` : rel ? 'a relative position bias' : null;
  const fused = fusedOnly !== null || (!opts.probs && (opts.path ?? 'fused') === 'fused' && d.hs <= FUSED_MAX_HEAD_SIZE);
  if (fusedOnly && (opts.path === 'dense' || d.hs > FUSED_MAX_HEAD_SIZE)) {
    throw new ValueError(`${op}: ${fusedOnly} runs on the fused kernels only: path 'fused', heads ≤ ${FUSED_MAX_HEAD_SIZE} (here: path ${opts.path ?? 'fused'}, hs ${d.hs})`);
  }
  if (rel) expectF32(op, 'rel', rel);
  const y = rt.empty([B, Tq, C], { arena: 'step' });
  const yv: HeadView = { t: y, at: 0, ld: C, batchStride: Tq * C };
  // probabilities: kept by the dense path, or made from the fused forward's lse when asked for
  let probs: Tensor | null = null, lse: Tensor | null = null;
  if (fused) ({ lse, probs } = attendFusedKeeping(rt, yv, qv, kv, vv, d, maskView, { rel }, !!opts.probs));
  else attendForward(rt, yv, (probs = rt.empty([B, nHead, Tq, Tk], { arena: 'step' })), qv, kv, vv, d, maskView);
  if (rt.tape.needsGrad(qs.t, ks.t, vs.t, rel)) {
    rt.tape.record(op, y, () => {
      if (!y.grad) return;
      const betas = gradBetas(rt, [qs, ks, vs]);
      const g = (s: ColumnSlice, i: number): GradView | null => (betas[i] === null ? null : { ...view(s, s.t.grad!), beta: betas[i]! });
      const dy: HeadView = { t: y.grad, at: 0, ld: C, batchStride: Tq * C };
      if (!lse) return attendBackward(rt, dy, g(qs, 0), g(ks, 1), g(vs, 2), probs!, qv, kv, vv, d);
      const drel = rel?.requiresGrad ? rt.empty([B * nHead, Tq + Tk - 1], { arena: 'step' }) : null;
      attendFusedBackward(rt, dy, yv, g(qs, 0), g(ks, 1), g(vs, 2), lse, qv, kv, vv, d, maskView, { rel, drel });
      if (drel) colsum(rt, gradOf(rt, rel!).view([nHead * (Tq + Tk - 1)]), drel.view([B, nHead * (Tq + Tk - 1)]));   // Σ over sequences
    });
  }
  return { y, probs };
}

function asSlice(op: string, what: string, s: Tensor | ColumnSlice): ColumnSlice {
  const slice: ColumnSlice = 't' in s ? s : { t: s, col: 0, width: s.shape[2] ?? 0 };
  expectF32(op, what, slice.t);
  const sh = slice.t.shape;
  if (sh.length !== 3 || !(slice.col >= 0 && slice.width >= 1 && slice.col + slice.width <= sh[2]!)) {
    throw new ShapeError(`${op}: ${what} is columns ${slice.col}…${slice.col + slice.width - 1} of shape [${sh.join(', ')}], expected a (B, T, C) tensor or a column range inside one`);
  }
  return slice;
}

/** A key padding mask checked against (B, Tk). */
export function checkKeyMask(op: string, mask: Tensor, B: number, Tk: number): Tensor {
  if (mask.dtype !== 'i32') throw new DTypeError(`${op}: keyMask is ${mask.describe()}, expected dtype i32 (1 = attend, 0 = padding)`);
  if (mask.shape.length !== 2 || mask.shape[0] !== B || mask.shape[1] !== Tk) {
    throw new ShapeError(`${op}: keyMask has shape [${mask.shape.join(', ')}], expected [${B}, ${Tk}] (batch, key positions)`);
  }
  return mask;
}

/** The head view of slice `s`'s columns inside `t` (the slice's tensor or its gradient). */
function view(s: ColumnSlice, t: Tensor): HeadView {
  const [, T, W] = s.t.shape as [number, number, number];
  return { t, at: s.col, ld: W, batchStride: T * W };
}

/**
 * For each slice, the beta its gradient GEMM uses (null: no gradient wanted). A fresh gradient
 * buffer needs no zero fill (beta 0) when the slices of its tensor tile its columns exactly;
 * otherwise it is zeroed and every slice adds (beta 1).
 */
function gradBetas(rt: Runtime, slices: ColumnSlice[]): (number | null)[] {
  const betas: (number | null)[] = slices.map(() => null);
  for (const t of new Set(slices.map((s) => s.t))) {
    if (!t.requiresGrad) continue;
    const mine = slices.map((s, i) => [s, i] as const).filter(([s]) => s.t === t).sort((a, b) => a[0].col - b[0].col);
    let end = 0;
    for (const [s] of mine) end = s.col === end ? end + s.width : -Infinity;
    let [, beta] = gradSlot(rt, t);
    if (beta === 0 && end !== t.shape[2]) {
      fill(rt, t.grad!, 0);
      beta = 1;
    }
    for (const [, i] of mine) betas[i] = beta;
  }
  return betas;
}
