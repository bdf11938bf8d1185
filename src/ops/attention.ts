// The attention kernels on strided head views: scores Q·Kᵀ for every sequence and head in one
// batched GEMM, the key padding mask, the (causal) softmax, then the probabilities times V; and
// the backward of all of it; and the fused kernels that do the same without storing the
// probabilities (key blocks with an online softmax, recomputed in the backward). Heads are never
// copied out: Q, K and V are views into their projections (the fused c_attn output, a KV cache),
// each bounds-checked against its tensor.
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { exact, type Tensor } from '../tensor.js';
import { GEMM_TRANS_A, GEMM_TRANS_B } from '../wasm/gemm-layout.js';
import { ATTN_BQ } from '../ref/attention.js';
import { expectF32, expectShape } from './check.js';

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

/**
 * Sizes and pattern of one attention call. Tq queries attend over Tk keys; query r sits at
 * position a = r + Tk − Tq. causal: it sees keys j ≤ a. window (fused kernels only): also only keys
 * with |a − j| ≤ window; the first `globals` positions then see and are seen by all (Longformer).
 */
export interface AttentionDims {
  B: number;
  Tq: number;
  Tk: number;
  nHead: number;
  hs: number;
  causal: boolean;
  /** Sliding window: keys at most this far from the query (0 or absent: all). */
  window?: number;
  /** With a window: this many leading positions are global. */
  globals?: number;
  /** Multiplies the scores before the softmax (absent: 1/√hs; T5: 1, its init absorbs it). */
  scale?: number;
}

/** What only the fused kernels add: a relative position bias and its gradient. */
export interface FusedExtras {
  /** (NH, Tq + Tk − 1): entry (h, j − r + Tq − 1) is added to the score of query r and key j (ALiBi, T5). */
  rel?: Tensor | null;
  /** Backward: (B·NH, Tq + Tk − 1) ← d loss / d rel per sequence (sum over b for the shared bias). */
  drel?: Tensor | null;
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

/** The scores' multiplier: d.scale, or 1/√hs without one. */
const scoreScale = (d: AttentionDims): number => d.scale ?? 1 / Math.sqrt(d.hs);

function checkScale(op: string, d: AttentionDims): void {
  if (d.scale !== undefined && !(Number.isFinite(d.scale) && d.scale > 0)) throw new ValueError(`${op}: scale is ${d.scale}, expected a finite number > 0`);
}

/** Checks the sizes and the probabilities tensor (B, NH, Tq, Tk); returns its address. */
function checkDims(op: string, d: AttentionDims, att: Tensor): number {
  const { B, Tq, Tk, nHead, hs } = d;
  if (!(isCount(B) && isCount(Tq) && isCount(Tk) && isCount(nHead) && isCount(hs))) {
    throw new ShapeError(`${op}: sizes B ${B}, Tq ${Tq}, Tk ${Tk}, nHead ${nHead}, hs ${hs}; expected integers ≥ 1`);
  }
  if (d.window) throw new ValueError(`${op}: a sliding window (window ${d.window}) runs on the fused kernels only (attendFusedForward)`);
  checkScale(op, d);
  if (att.dtype !== 'f32' || att.size < B * nHead * Tq * Tk) {
    throw new ShapeError(`${op}: the probabilities need ${B}·${nHead}·${Tq}·${Tk} floats, ${att.describe()} holds ${att.size}`);
  }
  return att.ptr;
}

/**
 * att (B, NH, Tq, Tk) ← softmax(Q·Kᵀ/√hs) (or d.scale·Q·Kᵀ) with the causal rule and the key mask, y ← att·V.
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
  const [pm] = maskArgs(op, mask, B, Tk);
  const K = rt.kernels;
  const work = rt.gemmWork;
  const attStride = nHead * Tq * Tk;
  // S (B, NH, Tq, Tk) = Q_h (Tq, hs) · K_hᵀ (hs, Tk), every sequence and head in one call
  K.gemm_batched_f32(a, pq, pk, 0, Tq, Tk, hs, q.ld, k.ld, Tk, GEMM_TRANS_B, 1, 0, work,
    nHead, hs, hs, Tq * Tk, B, q.batchStride, k.batchStride, attStride);
  // padded keys: S = −∞ (probability 0)
  if (mask) K.attention_mask_f32(a, pm, B * nHead * Tq, Tk, mask.shared ? B * nHead * Tq : nHead * Tq, mask.ld);
  // att = softmax(scale·S) (scale 1/√hs unless given) with the causal mask, in place
  K.softmax_forward(a, a, B * nHead * Tq, Tk, Tq, scoreScale(d), d.causal ? 1 : 0);
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
  K.softmax_backward(dS, dAtt, a, B * nHead * Tq, Tk, scoreScale(d));
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

/** Head sizes the fused kernels take (assembly/attention.ts's ATTN_MAX_HS: their scratch fits the GEMM workspace). */
export const FUSED_MAX_HEAD_SIZE = 256;

/** A key mask checked against B sequences of Tk keys: its address and the ints between sequences' rows (0: one shared row); [0, 0] without. */
function maskArgs(op: string, mask: MaskView | null, B: number, Tk: number): [number, number] {
  if (!mask) return [0, 0];
  if (mask.t.dtype !== 'i32') throw new DTypeError(`${op}: the key mask is ${mask.t.describe()}, expected dtype i32`);
  const rows = mask.shared ? 1 : B;
  if (mask.ld < Tk || (rows - 1) * mask.ld + Tk > mask.t.size) throw new ShapeError(`${op}: the key mask needs ${rows} rows of ${Tk} keys ${mask.ld} apart, ${mask.t.describe()} holds ${mask.t.size}`);
  return [mask.t.ptr, mask.shared ? 0 : mask.ld];
}

function checkFusedDims(op: string, d: AttentionDims, lse: Tensor, extras: FusedExtras): [rel: number, drel: number] {
  const { B, Tq, Tk, nHead, hs } = d;
  if (!(isCount(B) && isCount(Tq) && isCount(Tk) && isCount(nHead) && isCount(hs))) {
    throw new ShapeError(`${op}: sizes B ${B}, Tq ${Tq}, Tk ${Tk}, nHead ${nHead}, hs ${hs}; expected integers ≥ 1`);
  }
  if (hs > FUSED_MAX_HEAD_SIZE) throw new ShapeError(`${op}: head size ${hs} is above the fused kernels' ${FUSED_MAX_HEAD_SIZE}; use attendForward`);
  if (Tq > FUSED_MAX_QUERIES) throw new ShapeError(`${op}: ${Tq} queries in one call; the fused backward takes at most ${FUSED_MAX_QUERIES} (split the sequence)`);
  if (lse.dtype !== 'f32' || lse.size < B * nHead * Tq) {
    throw new ShapeError(`${op}: the row statistics need ${B}·${nHead}·${Tq} floats, ${lse.describe()} holds ${lse.size}`);
  }
  const { window = 0, globals = 0 } = d;
  if (!Number.isInteger(window) || window < 0) throw new ValueError(`${op}: window is ${window}, expected an integer ≥ 0 (0: no window)`);
  if (!Number.isInteger(globals) || globals < 0 || globals > Tk) throw new ValueError(`${op}: globals is ${globals}, expected an integer from 0 to Tk = ${Tk}`);
  checkScale(op, d);
  const relLd = Tq + Tk - 1;
  const ptr = (name: string, t: Tensor | null | undefined, rows: number) => {
    if (!t) return 0;
    if (t.dtype !== 'f32' || t.shape.length !== 2 || t.shape[0] !== rows || t.shape[1] !== relLd) {
      throw new ShapeError(`${op}: ${name} is ${t.describe()}, expected f32 [${rows}, ${relLd}] (heads${rows === nHead ? '' : ' of each sequence'}, Tq + Tk − 1 relative positions)`);
    }
    return t.ptr;
  };
  return [ptr('rel', extras.rel, nHead), ptr('drel', extras.drel, B * nHead)];
}

/** Most queries of one fused call: the backward keeps one float per query in the workspace (≥ 512 KiB free). */
export const FUSED_MAX_QUERIES = 65536;

const patternArgs = (d: AttentionDims): [number, number] => [d.window ?? 0, d.window ? d.globals ?? 0 : 0];

/**
 * Fused attention: y ← softmax(Q·Kᵀ/√hs + rel)·V with the causal rule, the key mask and the
 * window pattern, without the (B, NH, Tq, Tk) probabilities: key blocks with an online softmax
 * (assembly/attention.ts); blocks no query of a block sees are skipped (causal: half; a window:
 * all but O(window)). lse (B, NH, Tq) ← each query row's log Σ exp of its scores (+∞ for a row that
 * sees no key, whose output is 0): all the backward needs to recompute the probabilities.
 * hs ≤ FUSED_MAX_HEAD_SIZE.
 * @example
 * ```ts
 * const v = (col: number): HeadView => ({ t: qkv, at: col, ld: 3 * C, batchStride: T * 3 * C });
 * const lse = rt.empty([B, nHead, T], { arena: 'step' });
 * attendFusedForward(rt, { t: y, at: 0, ld: C, batchStride: T * C }, lse, v(0), v(C), v(2 * C),
 *   { B, Tq: T, Tk: T, nHead, hs: C / nHead, causal: true, window: 128 });
 * ```
 */
export function attendFusedForward(rt: Runtime, y: HeadView, lse: Tensor, q: HeadView, k: HeadView, v: HeadView, d: AttentionDims,
  mask: MaskView | null = null, extras: FusedExtras = {}): void {
  const op = 'attention (fused)';
  const [rel] = checkFusedDims(op, d, lse, extras);
  const { B, Tq, Tk, nHead, hs } = d;
  const C = nHead * hs;
  const [py, pq, pk, pv] = [headPtr(op, 'y', y, B, Tq, C), headPtr(op, 'q', q, B, Tq, C), headPtr(op, 'k', k, B, Tk, C), headPtr(op, 'v', v, B, Tk, C)];
  const [pm, maskLd] = maskArgs(op, mask, B, Tk);
  const units = B * nHead * Math.ceil(Tq / ATTN_BQ);
  rt.kernels.attention_fused_forward(py, lse.ptr, pq, pk, pv, pm, rel, Tq, Tk, nHead, hs, q.ld, k.ld, v.ld, y.ld,
    q.batchStride, k.batchStride, v.batchStride, y.batchStride, maskLd, scoreScale(d), d.causal ? 1 : 0, ...patternArgs(d), rt.gemmWork, 0, units);
}

/**
 * `attendFusedForward` into y with a new lse (B, NH, Tq) (step arena; kept f32 under mixed
 * precision), and, when `probs`, the probabilities it used (`attendFusedProbs`, B, NH, Tq, Tk).
 * What a forward that may keep attention maps calls.
 * @example
 * ```ts
 * const { lse, probs } = attendFusedKeeping(rt, yView, q, k, v, d, mask, { rel }, model.keepProbs);
 * ```
 */
export function attendFusedKeeping(rt: Runtime, y: HeadView, q: HeadView, k: HeadView, v: HeadView, d: AttentionDims,
  mask: MaskView | null, extras: FusedExtras, probs: boolean): { lse: Tensor; probs: Tensor | null } {
  const lse = exact(rt.empty([d.B, d.nHead, d.Tq], { arena: 'step' }));
  attendFusedForward(rt, y, lse, q, k, v, d, mask, extras);
  if (!probs) return { lse, probs: null };
  const p = rt.empty([d.B, d.nHead, d.Tq, d.Tk], { arena: 'step' });
  attendFusedProbs(rt, p, lse, q, k, d, mask, extras);
  return { lse, probs: p };
}

/**
 * The probabilities `attendFusedForward` used, from its lse: probs (B, NH, Tq, Tk) ← exp(s − lse)
 * for every key a query saw, each score s made as the forward made it, 0 elsewhere. For attention
 * maps of attention that runs on the fused kernels only (a relative bias, a window).
 * @example
 * ```ts
 * attendFusedForward(rt, yView, lse, q, k, v, d, null, { rel });
 * const probs = rt.empty([B, nHead, T, T], { arena: 'step' });
 * attendFusedProbs(rt, probs, lse, q, k, d, null, { rel });
 * ```
 */
export function attendFusedProbs(rt: Runtime, probs: Tensor, lse: Tensor, q: HeadView, k: HeadView, d: AttentionDims,
  mask: MaskView | null = null, extras: FusedExtras = {}): void {
  const op = 'attention probabilities (fused)';
  const [rel] = checkFusedDims(op, d, lse, extras);
  const { B, Tq, Tk, nHead, hs } = d;
  const C = nHead * hs;
  expectF32(op, 'probs', probs);
  expectShape(op, 'probs', probs, [B, nHead, Tq, Tk]);
  const [pq, pk] = [headPtr(op, 'q', q, B, Tq, C), headPtr(op, 'k', k, B, Tk, C)];
  const [pm, maskLd] = maskArgs(op, mask, B, Tk);
  rt.kernels.attention_fused_probs(probs.ptr, lse.ptr, pq, pk, pm, rel, Tq, Tk, nHead, hs, q.ld, k.ld, q.batchStride, k.batchStride,
    maskLd, scoreScale(d), d.causal ? 1 : 0, ...patternArgs(d), rt.gemmWork, 0, B * nHead * Math.ceil(Tq / ATTN_BQ));
}

/**
 * Backward of `attendFusedForward`, from dy, its output y and lse: dQ, dK, dV written (beta 0) or
 * added (beta 1); a null gradient view is skipped. Each gradient view has its input's strides (a
 * view of the same place in the input's gradient), and dy has y's. The probabilities are
 * recomputed block by block from lse, bit for bit as the forward made them. With `extras.drel`,
 * the relative bias's gradient per sequence is written too.
 * @example
 * ```ts
 * attendFusedBackward(rt, dyView, yView, { ...qView(dqkv), beta: 0 }, { ...kView(dqkv), beta: 0 }, { ...vView(dqkv), beta: 0 }, lse, q, k, v, d);
 * ```
 */
export function attendFusedBackward(rt: Runtime, dy: HeadView, y: HeadView, dq: GradView | null, dk: GradView | null, dv: GradView | null,
  lse: Tensor, q: HeadView, k: HeadView, v: HeadView, d: AttentionDims, mask: MaskView | null = null, extras: FusedExtras = {}): void {
  const op = 'attention backward (fused)';
  const [rel, drel] = checkFusedDims(op, d, lse, extras);
  const { B, Tq, Tk, nHead, hs } = d;
  const C = nHead * hs;
  const [pdy, py, pq, pk, pv] = [headPtr(op, 'dy', dy, B, Tq, C), headPtr(op, 'y', y, B, Tq, C), headPtr(op, 'q', q, B, Tq, C), headPtr(op, 'k', k, B, Tk, C), headPtr(op, 'v', v, B, Tk, C)];
  if (dy.ld !== y.ld || dy.batchStride !== y.batchStride) throw new ShapeError(`${op}: dy (rows ${dy.ld} apart, sequences ${dy.batchStride}) must have y's strides (${y.ld}, ${y.batchStride})`);
  const grads = [[dq, q, 'dq', Tq], [dk, k, 'dk', Tk], [dv, v, 'dv', Tk]] as const;
  let flags = d.causal ? 1 : 0;
  const ptrs = grads.map(([g, x, name, T], i) => {
    if (!g) return 0;
    if (g.ld !== x.ld || g.batchStride !== x.batchStride) throw new ShapeError(`${op}: ${name} (rows ${g.ld} apart, sequences ${g.batchStride}) must have ${name.slice(1)}'s strides (${x.ld}, ${x.batchStride})`);
    if (B > 1 && g.batchStride === 0) throw new ShapeError(`${op}: ${name} is shared by ${B} sequences (batchStride 0); the fused backward writes one per sequence`);
    if (g.beta !== 0 && g.beta !== 1) throw new ShapeError(`${op}: ${name}'s beta is ${g.beta}, expected 0 (write) or 1 (add)`);
    flags |= g.beta << (i + 1);
    return headPtr(op, name, g, B, T, C);
  });
  const [pm, maskLd] = maskArgs(op, mask, B, Tk);
  rt.kernels.attention_fused_backward(ptrs[0]!, ptrs[1]!, ptrs[2]!, drel, pdy, py, lse.ptr, pq, pk, pv, pm, rel, Tq, Tk, nHead, hs,
    q.ld, k.ld, v.ld, y.ld, q.batchStride, k.batchStride, v.batchStride, y.batchStride, maskLd, scoreScale(d), flags, ...patternArgs(d),
    rt.gemmWork, 0, B * nHead);
}
