// The attention kernels on strided head views: scores Q·Kᵀ for every sequence and head in one
// batched GEMM, the key padding mask, the (causal) softmax, then the probabilities times V; and
// the backward of all of it. Heads are never copied out: Q, K and V are views into their
// projections (the fused c_attn output, a KV cache), each bounds-checked against its tensor.
import { DTypeError, ShapeError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { GEMM_TRANS_A, GEMM_TRANS_B } from '../wasm/gemm-layout.js';

/**
 * A strided (B, T, NH·hs) matrix inside tensor `t`: element (b, i, h·hs + j) is at float
 * at + b·batchStride + i·ld + h·hs + j of t (batchStride 0: one matrix shared by every sequence).
 */
export interface HeadView {
  t: Tensor;
  /** Floats from the start of `t` to element (0, 0, 0). */
  at: number;
  /** Floats between rows (tokens). */
  ld: number;
  /** Floats between sequences. */
  batchStride: number;
}

/** Sizes of one attention call. Tq queries attend over Tk keys; causal: query r sees keys j ≤ r + Tk − Tq. */
export interface AttentionDims {
  B: number;
  Tq: number;
  Tk: number;
  nHead: number;
  hs: number;
  causal: boolean;
}

/** A key padding mask: i32 rows `ld` apart in `t`, one per sequence (or one for all: shared); 0 hides a key. */
export interface MaskView {
  t: Tensor;
  ld: number;
  shared?: boolean;
}

/** Where a gradient GEMM writes: a head view and whether it adds (beta 1) or overwrites (0). */
export interface GradView extends HeadView {
  beta: number;
}

/** Byte address of `v`'s first element, after checking that B sequences of T rows × C floats lie inside its tensor. */
function headPtr(op: string, name: string, v: HeadView, B: number, T: number, C: number): number {
  if (v.t.dtype !== 'f32') throw new DTypeError(`${op}: ${name} is ${v.t.describe()}, expected dtype f32`);
  const last = v.at + (B - 1) * v.batchStride + (T - 1) * v.ld + C;
  if (!Number.isInteger(v.at) || v.at < 0 || v.ld < C || v.batchStride < 0 || last > v.t.size) {
    throw new ShapeError(`${op}: ${name} view (${B} × ${T} rows of ${C} floats at ${v.at}, rows ${v.ld} apart, sequences ${v.batchStride} apart) ends at ${last}, outside ${v.t.describe()}`);
  }
  return v.t.ptr + 4 * v.at;
}

const isCount = (x: number) => Number.isInteger(x) && x >= 1;

/** Checks the sizes and the probabilities tensor (B, NH, Tq, Tk); returns its address. */
function checkDims(op: string, d: AttentionDims, att: Tensor): number {
  const { B, Tq, Tk, nHead, hs } = d;
  if (!(isCount(B) && isCount(Tq) && isCount(Tk) && isCount(nHead) && isCount(hs))) {
    throw new ShapeError(`${op}: sizes B ${B}, Tq ${Tq}, Tk ${Tk}, nHead ${nHead}, hs ${hs}; expected integers ≥ 1`);
  }
  if (att.dtype !== 'f32' || att.size < B * nHead * Tq * Tk) {
    throw new ShapeError(`${op}: the probabilities need ${B}·${nHead}·${Tq}·${Tk} floats, ${att.describe()} holds ${att.size}`);
  }
  return att.ptr;
}

/**
 * att (B, NH, Tq, Tk) ← softmax(Q·Kᵀ/√hs) with the causal rule and the key mask, y ← att·V.
 * Shared by training (Q, K, V inside qkv) and incremental decoding (K, V in a cache).
 * @example
 * ```ts
 * const v = (col: number): HeadView => ({ t: qkv, at: col, ld: 3 * C, batchStride: T * 3 * C });
 * attendForward(rt, { t: y, at: 0, ld: C, batchStride: T * C }, probs, v(0), v(C), v(2 * C),
 *   { B, Tq: T, Tk: T, nHead, hs: C / nHead, causal: true });
 * ```
 */
export function attendForward(rt: Runtime, y: HeadView, att: Tensor, q: HeadView, k: HeadView, v: HeadView, d: AttentionDims,
  mask: MaskView | null = null): void {
  const op = 'attention';
  const { B, Tq, Tk, nHead, hs } = d;
  const C = nHead * hs;
  const a = checkDims(op, d, att);
  const [py, pq, pk, pv] = [headPtr(op, 'y', y, B, Tq, C), headPtr(op, 'q', q, B, Tq, C), headPtr(op, 'k', k, B, Tk, C), headPtr(op, 'v', v, B, Tk, C)];
  let pm = 0;
  if (mask) {
    if (mask.t.dtype !== 'i32') throw new DTypeError(`${op}: the key mask is ${mask.t.describe()}, expected dtype i32`);
    const rows = mask.shared ? 1 : B;
    if (mask.ld < Tk || (rows - 1) * mask.ld + Tk > mask.t.size) throw new ShapeError(`${op}: the key mask needs ${rows} rows of ${Tk} keys ${mask.ld} apart, ${mask.t.describe()} holds ${mask.t.size}`);
    pm = mask.t.ptr;
  }
  const K = rt.kernels;
  const work = rt.gemmWork;
  const attStride = nHead * Tq * Tk;
  // S (B, NH, Tq, Tk) = Q_h (Tq, hs) · K_hᵀ (hs, Tk), every sequence and head in one call
  K.gemm_batched_f32(a, pq, pk, 0, Tq, Tk, hs, q.ld, k.ld, Tk, GEMM_TRANS_B, 1, 0, work,
    nHead, hs, hs, Tq * Tk, B, q.batchStride, k.batchStride, attStride);
  // padded keys: S = −∞ (probability 0)
  if (mask) K.attention_mask_f32(a, pm, B * nHead * Tq, Tk, mask.shared ? B * nHead * Tq : nHead * Tq, mask.ld);
  // att = softmax(S / √hs) with the causal mask, in place
  K.softmax_forward(a, a, B * nHead * Tq, Tk, Tq, 1 / Math.sqrt(hs), d.causal ? 1 : 0);
  // y_h (Tq, hs) = att_h (Tq, Tk) · V_h (Tk, hs)
  K.gemm_batched_f32(py, a, pv, 0, Tq, hs, Tk, Tk, v.ld, y.ld, 0, 1, 0, work,
    nHead, Tq * Tk, hs, hs, B, attStride, v.batchStride, y.batchStride);
}

/**
 * Backward of `attendForward`: adds (beta 1) or writes (beta 0) dQ, dK, dV given dy and the saved
 * probabilities; a null gradient view is skipped. Masked keys have probability 0, so they get nothing.
 * @example
 * ```ts
 * attendBackward(rt, dyView, { ...qView(dqkv), beta: 0 }, { ...kView(dqkv), beta: 0 }, { ...vView(dqkv), beta: 0 }, probs, q, k, v, d);
 * ```
 */
export function attendBackward(rt: Runtime, dy: HeadView, dq: GradView | null, dk: GradView | null, dv: GradView | null,
  att: Tensor, q: HeadView, k: HeadView, v: HeadView, d: AttentionDims): void {
  const op = 'attention backward';
  const { B, Tq, Tk, nHead, hs } = d;
  const C = nHead * hs;
  const a = checkDims(op, d, att);
  const [pdy, pq, pk, pv] = [headPtr(op, 'dy', dy, B, Tq, C), headPtr(op, 'q', q, B, Tq, C), headPtr(op, 'k', k, B, Tk, C), headPtr(op, 'v', v, B, Tk, C)];
  const pdq = dq ? headPtr(op, 'dq', dq, B, Tq, C) : 0, pdk = dk ? headPtr(op, 'dk', dk, B, Tk, C) : 0, pdv = dv ? headPtr(op, 'dv', dv, B, Tk, C) : 0;
  const K = rt.kernels;
  const work = rt.gemmWork;
  const attStride = nHead * Tq * Tk;
  const n = B * attStride;
  const dAtt = rt.empty([n], { arena: 'step' }).ptr;
  const dS = rt.empty([n], { arena: 'step' }).ptr;
  K.fill_f32(dS, 0, n); // softmax_backward adds into it
  // every sequence and head in one call each:
  // y = att·V  ⇒  dAtt_h (Tq, Tk) = dy_h (Tq, hs) · V_hᵀ
  K.gemm_batched_f32(dAtt, pdy, pv, 0, Tq, Tk, hs, dy.ld, v.ld, Tk, GEMM_TRANS_B, 1, 0, work,
    nHead, hs, hs, Tq * Tk, B, dy.batchStride, v.batchStride, attStride);
  //                 dV_h (Tk, hs) += att_hᵀ (Tk, Tq) · dy_h (Tq, hs)
  if (dv) {
    K.gemm_batched_f32(pdv, a, pdy, 0, Tk, hs, Tq, Tk, dy.ld, dv.ld, GEMM_TRANS_A, 1, dv.beta, work,
      nHead, Tq * Tk, hs, hs, B, attStride, dy.batchStride, dv.batchStride);
  }
  // att = softmax(scale·S)  ⇒  dS = scale · att ⊙ (dAtt − Σ dAtt ⊙ att)   (masked entries: att = 0 ⇒ 0)
  K.softmax_backward(dS, dAtt, a, B * nHead * Tq, Tk, 1 / Math.sqrt(hs));
  // S = Q·Kᵀ  ⇒  dQ_h (Tq, hs) += dS_h (Tq, Tk) · K_h (Tk, hs)
  if (dq) {
    K.gemm_batched_f32(pdq, dS, pk, 0, Tq, hs, Tk, Tk, k.ld, dq.ld, 0, 1, dq.beta, work,
      nHead, Tq * Tk, hs, hs, B, attStride, k.batchStride, dq.batchStride);
  }
  //              dK_h (Tk, hs) += dS_hᵀ (Tk, Tq) · Q_h (Tq, hs)
  if (dk) {
    K.gemm_batched_f32(pdk, dS, pq, 0, Tk, hs, Tq, Tk, q.ld, dk.ld, GEMM_TRANS_A, 1, dk.beta, work,
      nHead, Tq * Tk, hs, hs, B, attStride, q.batchStride, dk.batchStride);
  }
}
