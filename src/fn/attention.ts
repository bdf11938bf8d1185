// Multi-head scaled dot-product attention, softmax(Q·Kᵀ/√hs)·V, with its backward. Heads are
// never copied out: Q, K and V are strided views into the fused c_attn output (B, T, 3C), and
// each batched GEMM covers all heads of one sequence (stride hs between heads). The (B, NH,
// Tq, Tk) probabilities are kept for the backward and can be read for visualisation.
import { ShapeError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { GEMM_TRANS_A, GEMM_TRANS_B } from '../ref/gemm.js';
import { expectF32 } from '../ops/check.js';
import { gradSlot } from '../autograd/tape.js';

/** A strided matrix in wasm memory: element (b, t, j) of head h is at ptr + 4·(b·batchStride + t·ld + h·hs + j). */
export interface HeadView {
  ptr: number;
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

/**
 * The forward kernels: att (B, NH, Tq, Tk) ← softmax(scale·Q·Kᵀ) (masked), y (B, Tq, NH·hs) ← att·V.
 * Shared by training (Q, K, V inside qkv) and incremental decoding (K, V in a cache).
 */
export function attendForward(rt: Runtime, y: HeadView, att: number, q: HeadView, k: HeadView, v: HeadView, d: AttentionDims): void {
  const { B, Tq, Tk, nHead, hs } = d;
  const K = rt.kernels;
  const work = rt.gemmWork;
  const attStride = nHead * Tq * Tk;
  for (let b = 0; b < B; b++) {
    const attB = att + 4 * b * attStride;
    // S (NH, Tq, Tk) = Q_h (Tq, hs) · K_hᵀ (hs, Tk), every head in one batched call
    K.gemm_batched_f32(attB, q.ptr + 4 * b * q.batchStride, k.ptr + 4 * b * k.batchStride, 0, Tq, Tk, hs, q.ld, k.ld, Tk,
      GEMM_TRANS_B, 1, 0, work, nHead, hs, hs, Tq * Tk);
  }
  // att = softmax(S / √hs) with the causal mask, in place
  K.softmax_forward(att, att, B * nHead * Tq, Tk, Tq, 1 / Math.sqrt(hs), d.causal ? 1 : 0);
  for (let b = 0; b < B; b++) {
    // y_h (Tq, hs) = att_h (Tq, Tk) · V_h (Tk, hs)
    K.gemm_batched_f32(y.ptr + 4 * b * y.batchStride, att + 4 * b * attStride, v.ptr + 4 * b * v.batchStride, 0, Tq, hs, Tk, Tk, v.ld, y.ld,
      0, 1, 0, work, nHead, Tq * Tk, hs, hs);
  }
}

/** What `attention` returns. */
export interface AttentionResult {
  /** (B, T, C): the heads' outputs side by side, ready for the output projection. */
  y: Tensor;
  /** (B, NH, T, T): attention probabilities (step arena; copy them to keep them). */
  probs: Tensor;
}

/**
 * Causal (or bidirectional) multi-head self-attention over qkv (B, T, 3C) = [Q | K | V], the
 * fused projection GPT-2's c_attn produces; head h uses columns h·hs … (h+1)·hs of each part.
 * @example
 * ```ts
 * const qkv = linear(rt, x, cAttn.weight, cAttn.bias);           // (B, T, 3C)
 * const { y, probs } = attention(rt, qkv, 4, { causal: true });  // y (B, T, C), probs (B, 4, T, T)
 * ```
 */
export function attention(rt: Runtime, qkv: Tensor, nHead: number, opts: { causal?: boolean } = {}): AttentionResult {
  const op = 'attention';
  expectF32(op, 'qkv', qkv);
  if (qkv.shape.length !== 3 || qkv.shape[2]! % 3 !== 0) throw new ShapeError(`${op}: qkv has shape [${qkv.shape.join(', ')}], expected (B, T, 3C)`);
  const [B, T, C3] = qkv.shape as [number, number, number];
  const C = C3 / 3;
  if (!Number.isInteger(nHead) || nHead < 1 || C % nHead !== 0) throw new ShapeError(`${op}: C = ${C} is not divisible by nHead = ${nHead}`);
  const hs = C / nHead;
  const d: AttentionDims = { B, Tq: T, Tk: T, nHead, hs, causal: opts.causal ?? true };
  const y = rt.empty([B, T, C], { arena: 'step' });
  const probs = rt.empty([B, nHead, T, T], { arena: 'step' });
  const part = (t: Tensor, i: number): HeadView => ({ ptr: t.ptr + 4 * i * C, ld: C3, batchStride: T * C3 });
  const yv: HeadView = { ptr: y.ptr, ld: C, batchStride: T * C };
  attendForward(rt, yv, probs.ptr, part(qkv, 0), part(qkv, 1), part(qkv, 2), d);
  if (rt.tape.needsGrad(qkv)) {
    rt.tape.record(op, y, () => {
      if (!y.grad) return;
      // dQ, dK, dV tile dqkv exactly, so a fresh dqkv needs no zero fill (beta 0)
      const [dqkv, beta] = gradSlot(rt, qkv);
      attendBackward(rt, { ptr: y.grad.ptr, ld: C, batchStride: T * C }, part(dqkv, 0), part(dqkv, 1), part(dqkv, 2), beta,
        probs.ptr, part(qkv, 0), part(qkv, 1), part(qkv, 2), d);
    });
  }
  return { y, probs };
}

/**
 * Backward of `attendForward`: adds (beta = 1) or writes (beta = 0) dQ, dK, dV given dy and the
 * saved probabilities.
 */
export function attendBackward(rt: Runtime, dy: HeadView, dq: HeadView, dk: HeadView, dv: HeadView, beta: number,
  att: number, q: HeadView, k: HeadView, v: HeadView, d: AttentionDims): void {
  const { B, Tq, Tk, nHead, hs } = d;
  const K = rt.kernels;
  const work = rt.gemmWork;
  const attStride = nHead * Tq * Tk;
  const n = B * attStride;
  const dAtt = rt.empty([n], { arena: 'step' }).ptr;
  const dS = rt.empty([n], { arena: 'step' }).ptr;
  K.fill_f32(dS, 0, n); // softmax_backward adds into it
  for (let b = 0; b < B; b++) {
    const attB = att + 4 * b * attStride;
    const dAttB = dAtt + 4 * b * attStride;
    const dyB = dy.ptr + 4 * b * dy.batchStride;
    // y = att·V  ⇒  dAtt_h (Tq, Tk) = dy_h (Tq, hs) · V_hᵀ
    K.gemm_batched_f32(dAttB, dyB, v.ptr + 4 * b * v.batchStride, 0, Tq, Tk, hs, dy.ld, v.ld, Tk, GEMM_TRANS_B, 1, 0, work, nHead, hs, hs, Tq * Tk);
    //                 dV_h (Tk, hs) += att_hᵀ (Tk, Tq) · dy_h (Tq, hs)
    K.gemm_batched_f32(dv.ptr + 4 * b * dv.batchStride, attB, dyB, 0, Tk, hs, Tq, Tk, dy.ld, dv.ld, GEMM_TRANS_A, 1, beta, work, nHead, Tq * Tk, hs, hs);
  }
  // att = softmax(scale·S)  ⇒  dS = scale · att ⊙ (dAtt − Σ dAtt ⊙ att)   (masked entries: att = 0 ⇒ 0)
  K.softmax_backward(dS, dAtt, att, B * nHead * Tq, Tk, 1 / Math.sqrt(hs));
  for (let b = 0; b < B; b++) {
    const dSB = dS + 4 * b * attStride;
    // S = Q·Kᵀ  ⇒  dQ_h (Tq, hs) += dS_h (Tq, Tk) · K_h (Tk, hs)
    K.gemm_batched_f32(dq.ptr + 4 * b * dq.batchStride, dSB, k.ptr + 4 * b * k.batchStride, 0, Tq, hs, Tk, Tk, k.ld, dq.ld, 0, 1, beta, work, nHead, Tq * Tk, hs, hs);
    //              dK_h (Tk, hs) += dS_hᵀ (Tk, Tq) · Q_h (Tq, hs)
    K.gemm_batched_f32(dk.ptr + 4 * b * dk.batchStride, dSB, q.ptr + 4 * b * q.batchStride, 0, Tk, hs, Tq, Tk, q.ld, dk.ld, GEMM_TRANS_A, 1, beta, work, nHead, Tq * Tk, hs, hs);
  }
}
