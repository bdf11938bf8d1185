// The kernel ABI as the host sees it: one typed line per wasm export, and one manifest
// row per kernel naming its plain-JS twin (src/ref) and how its arguments map onto it.
// The manifest drives the JS fallback backend, the ABI test and the benchmarks.
import { gemmF32, gemmBlockF32, gemmBatchedF32, gemvChunksF32, gemvSumF32, packWeightF32, gemmPackedF32, gemmGeluF32 } from '../ref/gemm.js';
import { softmaxForward, softmaxBackward, attentionMask } from '../ref/softmax.js';
import { attentionFusedForward, attentionFusedBackward, attentionFusedProbs, attentionRowsSplit } from '../ref/attention.js';
import { layernormForward, layernormBackward, layernormBackwardParams } from '../ref/layernorm.js';
import { geluForward, geluBackward, geluErfForward, geluErfBackward, reluForward, reluBackward, tanhForward, tanhBackward } from '../ref/activation.js';
import { addF32, mulF32, scaleF32, axpyF32, fillF32, copyF32, colsumF32, argmaxF32 } from '../ref/elementwise.js';
import { embeddingForward, embeddingBackward } from '../ref/embedding.js';
import { crossentropyForward, crossentropyBackward } from '../ref/crossentropy.js';
import { adamwF32, sgdF32, sumsqF32 } from '../ref/optim.js';
import { dropoutForward, dropoutBackward } from '../ref/dropout.js';
import { quantPackI8, quantPackF16, quantPackBf16, gemmQ8F32, gemmF16F32, gemmBf16F32, gatherQuant, quantRowsQ8 } from '../ref/quant.js';
import { rmsnormForward, rmsnormBackward, rmsnormBackwardParams } from '../ref/rmsnorm.js';
import { swigluForward, swigluBackward, gegluForward, gegluBackward } from '../ref/swiglu.js';
import { ropeForward, ropeBackward } from '../ref/rope.js';
import { relbiasForward, relbiasBackward } from '../ref/relbias.js';
import { packBf16, unpackBf16 } from '../ref/convert.js';

/** A byte address in the runtime's wasm memory. */
export type Ptr = number;

/** Every kernel export, typed. Pointers are byte addresses; sizes are element counts. */
export interface Kernels {
  gemm_f32(c: Ptr, a: Ptr, b: Ptr, bias: Ptr, m: number, n: number, k: number, lda: number, ldb: number, ldc: number, flags: number, alpha: number, beta: number, work: Ptr): void;
  gemm_block_f32(c: Ptr, a: Ptr, b: Ptr, bias: Ptr, m: number, n: number, k: number, lda: number, ldb: number, ldc: number, flags: number, alpha: number, beta: number, work: Ptr, i0: number, i1: number, j0: number, j1: number): void;
  gemv_chunks_f32(parts: Ptr, a: Ptr, b: Ptr, n: number, k: number, as: number, ldb: number, ldp: number, q0: number, q1: number): void;
  gemv_sum_f32(c: Ptr, parts: Ptr, bias: Ptr, n: number, chunks: number, ldp: number, alpha: number, beta: number): void;
  pack_weight_f32(dst: Ptr, b: Ptr, n: number, k: number, ldb: number, flags: number, s0: number, s1: number): void;
  gemm_packed_f32(c: Ptr, a: Ptr, bp: Ptr, bias: Ptr, m: number, n: number, k: number, lda: number, ldc: number, flags: number, alpha: number, beta: number, work: Ptr, i0: number, i1: number, j0: number, j1: number): void;
  gemm_gelu_f32(c: Ptr, pre: Ptr, a: Ptr, b: Ptr, bias: Ptr, m: number, n: number, k: number, lda: number, ldb: number, ldc: number, flags: number, work: Ptr, i0: number, i1: number, j0: number, j1: number): void;
  gemm_batched_f32(c: Ptr, a: Ptr, b: Ptr, bias: Ptr, m: number, n: number, k: number, lda: number, ldb: number, ldc: number, flags: number, alpha: number, beta: number, work: Ptr, batch: number, strideA: number, strideB: number, strideC: number, outer: number, outerA: number, outerB: number, outerC: number): void;
  softmax_forward(out: Ptr, inp: Ptr, rows: number, cols: number, block: number, scale: number, causal: number): void;
  softmax_backward(dinp: Ptr, dout: Ptr, out: Ptr, rows: number, cols: number, scale: number): void;
  attention_mask_f32(scores: Ptr, mask: Ptr, rows: number, cols: number, group: number, maskLd: number): void;
  attention_fused_forward(y: Ptr, lse: Ptr, q: Ptr, k: Ptr, v: Ptr, mask: Ptr, rel: Ptr, tq: number, tk: number, nHead: number, hs: number,
    ldq: number, ldk: number, ldv: number, ldy: number, bsq: number, bsk: number, bsv: number, bsy: number, maskLd: number,
    scale: number, flags: number, window: number, globals: number, work: Ptr, u0: number, u1: number): void;
  attention_rows_split(stage: number, sh: Ptr, y: Ptr, lse: Ptr, q: Ptr, k: Ptr, v: Ptr, mask: Ptr, rel: Ptr, tq: number, tk: number, nHead: number, hs: number,
    ldq: number, ldk: number, ldv: number, ldy: number, scale: number, flags: number, window: number, globals: number, work: Ptr,
    c0: number, c1: number): void;
  attention_fused_backward(dq: Ptr, dk: Ptr, dv: Ptr, drel: Ptr, dy: Ptr, y: Ptr, lse: Ptr, q: Ptr, k: Ptr, v: Ptr, mask: Ptr, rel: Ptr,
    tq: number, tk: number, nHead: number, hs: number, ldq: number, ldk: number, ldv: number, ldy: number,
    bsq: number, bsk: number, bsv: number, bsy: number, maskLd: number, scale: number, flags: number, window: number, globals: number, work: Ptr, u0: number, u1: number): void;
  attention_fused_probs(p: Ptr, lse: Ptr, q: Ptr, k: Ptr, mask: Ptr, rel: Ptr, tq: number, tk: number, nHead: number, hs: number,
    ldq: number, ldk: number, bsq: number, bsk: number, maskLd: number, scale: number, flags: number, window: number, globals: number, work: Ptr, u0: number, u1: number): void;
  layernorm_forward(out: Ptr, mean: Ptr, rstd: Ptr, inp: Ptr, weight: Ptr, bias: Ptr, n: number, c: number, eps: number): void;
  layernorm_backward(dinp: Ptr, dweight: Ptr, dbias: Ptr, dout: Ptr, inp: Ptr, weight: Ptr, mean: Ptr, rstd: Ptr, n: number, c: number): void;
  layernorm_backward_params(dweight: Ptr, dbias: Ptr, dout: Ptr, inp: Ptr, mean: Ptr, rstd: Ptr, n: number, c: number, ld: number): void;
  gelu_forward(out: Ptr, inp: Ptr, n: number): void;
  gelu_backward(dinp: Ptr, dout: Ptr, inp: Ptr, n: number): void;
  gelu_erf_forward(out: Ptr, inp: Ptr, n: number): void;
  gelu_erf_backward(dinp: Ptr, dout: Ptr, inp: Ptr, n: number): void;
  relu_forward(out: Ptr, inp: Ptr, n: number): void;
  relu_backward(dinp: Ptr, dout: Ptr, out: Ptr, n: number): void;
  tanh_forward(out: Ptr, inp: Ptr, n: number): void;
  tanh_backward(dinp: Ptr, dout: Ptr, out: Ptr, n: number): void;
  add_f32(out: Ptr, a: Ptr, b: Ptr, n: number): void;
  mul_f32(out: Ptr, a: Ptr, b: Ptr, n: number): void;
  scale_f32(out: Ptr, a: Ptr, s: number, n: number): void;
  axpy_f32(y: Ptr, x: Ptr, alpha: number, n: number): void;
  fill_f32(out: Ptr, value: number, n: number): void;
  copy_f32(out: Ptr, src: Ptr, n: number): void;
  colsum_f32(out: Ptr, inp: Ptr, rows: number, cols: number, ld: number): void;
  argmax_f32(out: Ptr, x: Ptr, n: number): void;
  embedding_forward(out: Ptr, ids: Ptr, weight: Ptr, n: number, c: number): void;
  embedding_backward(dweight: Ptr, dout: Ptr, ids: Ptr, n: number, c: number, ld: number): void;
  crossentropy_forward(losses: Ptr, lse: Ptr, logits: Ptr, targets: Ptr, n: number, v: number, smoothing: number, ignoreIndex: number): void;
  crossentropy_backward(dlogits: Ptr, logits: Ptr, lse: Ptr, targets: Ptr, n: number, v: number, smoothing: number, ignoreIndex: number, scale: number): void;
  adamw_f32(param: Ptr, grad: Ptr, m: Ptr, v: Ptr, n: number, lr: number, beta1: number, beta2: number, oneMinusBeta1: number, oneMinusBeta2: number, eps: number, weightDecay: number, biasCorrection1: number, biasCorrection2: number, gradScale: number): void;
  sgd_f32(param: Ptr, grad: Ptr, momentumBuf: Ptr, n: number, lr: number, momentum: number, weightDecay: number, nesterov: number, gradScale: number): void;
  sumsq_f32(out: Ptr, x: Ptr, n: number): void;
  dropout_forward(out: Ptr, inp: Ptr, n: number, seed: number, threshold: number, scale: number): void;
  dropout_backward(dinp: Ptr, dout: Ptr, n: number, seed: number, threshold: number, scale: number): void;
  quant_pack_i8(dst: Ptr, scales: Ptr, w: Ptr, n: number, k: number, ldw: number, flags: number, s0: number, s1: number): void;
  quant_pack_f16(dst: Ptr, w: Ptr, n: number, k: number, ldw: number, flags: number, s0: number, s1: number): void;
  quant_pack_bf16(dst: Ptr, w: Ptr, n: number, k: number, ldw: number, flags: number, s0: number, s1: number): void;
  gather_quant(out: Ptr, ids: Ptr, data: Ptr, scales: Ptr, count: number, k: number, fmt: number): void;
  gemm_q8_f32(y: Ptr, x: Ptr, wq: Ptr, scales: Ptr, bias: Ptr, m: number, n: number, k: number, ldx: number, ldy: number, work: Ptr, i0: number, i1: number, j0: number, j1: number, act: number, pre: Ptr): void;
  quant_rows_q8(pre: Ptr, x: Ptr, m: number, k: number, ldx: number): void;
  gemm_f16_f32(y: Ptr, x: Ptr, wh: Ptr, bias: Ptr, m: number, n: number, k: number, ldx: number, ldy: number, work: Ptr, i0: number, i1: number, j0: number, j1: number, act: number): void;
  gemm_bf16_f32(y: Ptr, x: Ptr, wh: Ptr, bias: Ptr, m: number, n: number, k: number, ldx: number, ldy: number, work: Ptr, i0: number, i1: number, j0: number, j1: number, act: number): void;
  rmsnorm_forward(out: Ptr, rstd: Ptr, inp: Ptr, weight: Ptr, n: number, c: number, eps: number): void;
  rmsnorm_backward(dinp: Ptr, dout: Ptr, inp: Ptr, weight: Ptr, rstd: Ptr, n: number, c: number): void;
  rmsnorm_backward_params(dweight: Ptr, dout: Ptr, inp: Ptr, rstd: Ptr, n: number, c: number, ld: number): void;
  swiglu_forward(out: Ptr, gate: Ptr, up: Ptr, n: number, c: number, ld: number): void;
  swiglu_backward(dgate: Ptr, dup: Ptr, dout: Ptr, gate: Ptr, up: Ptr, n: number, c: number, ld: number): void;
  geglu_forward(out: Ptr, gate: Ptr, up: Ptr, n: number, c: number, ld: number): void;
  geglu_backward(dgate: Ptr, dup: Ptr, dout: Ptr, gate: Ptr, up: Ptr, n: number, c: number, ld: number): void;
  rope_forward(out: Ptr, inp: Ptr, table: Ptr, positions: Ptr, p0: number, n: number, nHead: number, hs: number, rd: number, ld: number): void;
  rope_backward(dinp: Ptr, dout: Ptr, table: Ptr, positions: Ptr, p0: number, n: number, nHead: number, hs: number, rd: number, ld: number): void;
  relbias_forward(out: Ptr, table: Ptr, buckets: Ptr, nHead: number, L: number): void;
  relbias_backward(dtable: Ptr, dout: Ptr, buckets: Ptr, nHead: number, L: number): void;
  pack_bf16(dst: Ptr, src: Ptr, n: number): void;
  unpack_bf16(dst: Ptr, src: Ptr, n: number): void;
}

/** The module-level exports that are not kernels. */
export interface ModuleExports extends Kernels {
  heap_base(): number;
  gemm_workspace_bytes(): number;
  /** 1 if gemm_f32 streams B for this problem (split by columns only), else 0. */
  gemm_small_path(m: number, k: number, flags: number): number;
  /** Bytes quant_rows_q8 writes for m rows of K values. */
  quant_rows_bytes(m: number, k: number): number;
  /** Bytes of attention_rows_split's shared scratch (0: the one-thread forward would not take the decoding path). */
  attention_split_bytes(tq: number, tk: number, nHead: number, hs: number): number;
}

export type KernelName = keyof Kernels;

/**
 * How a kernel's arguments map onto its JS twin, one letter per argument:
 * `f` f32 pointer (→ Float32Array view from that address), `o` optional f32 pointer (0 → null),
 * `n` i32 pointer (→ Int32Array view from that address), `N` optional i32 pointer (0 → null), `u` byte pointer (→ Uint8Array view from
 * that address: packed int8 / f16 / bf16 weights, quantized rows), `U` optional byte pointer (0 → null), `i` integer, `x` f32 scalar,
 * `w` workspace pointer (the twin does not take it).
 */
export interface KernelRow {
  family: 'gemm' | 'softmax' | 'attention' | 'layernorm' | 'activation' | 'elementwise' | 'embedding' | 'crossentropy' | 'optim' | 'dropout' | 'quant'
    | 'rmsnorm' | 'swiglu' | 'rope' | 'relbias' | 'convert';
  args: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ref: (...args: any[]) => void;
}

export const KERNELS: Record<KernelName, KernelRow> = {
  gemm_f32:              { family: 'gemm',         args: 'fffoiiiiiiixxw',     ref: gemmF32 },
  gemm_block_f32:        { family: 'gemm',         args: 'fffoiiiiiiixxwiiii', ref: gemmBlockF32 },
  pack_weight_f32:       { family: 'gemm',         args: 'ffiiiiii',           ref: packWeightF32 },
  gemm_packed_f32:       { family: 'gemm',         args: 'fffoiiiiiixxwiiii',  ref: gemmPackedF32 },
  gemm_gelu_f32:         { family: 'gemm',         args: 'ffffoiiiiiiiwiiii',  ref: gemmGeluF32 },
  gemm_batched_f32:      { family: 'gemm',         args: 'fffoiiiiiiixxwiiiiiiii', ref: gemmBatchedF32 },
  gemv_chunks_f32:       { family: 'gemm',         args: 'fffiiiiiii',         ref: gemvChunksF32 },
  gemv_sum_f32:          { family: 'gemm',         args: 'ffoiiixx',           ref: gemvSumF32 },
  softmax_forward:       { family: 'softmax',      args: 'ffiiixi',            ref: softmaxForward },
  softmax_backward:      { family: 'softmax',      args: 'fffiix',             ref: softmaxBackward },
  attention_mask_f32:    { family: 'softmax',      args: 'fniiii',             ref: attentionMask },
  attention_fused_forward:  { family: 'attention', args: 'fffffNoiiiiiiiiiiiiixiiiwii', ref: attentionFusedForward },
  attention_fused_backward: { family: 'attention', args: 'ooooffffffNoiiiiiiiiiiiiixiiiwii', ref: attentionFusedBackward },
  attention_fused_probs:    { family: 'attention', args: 'ffffNoiiiiiiiiixiiiwii', ref: attentionFusedProbs },
  attention_rows_split:     { family: 'attention', args: 'iffffffNoiiiiiiiixiiiwii', ref: attentionRowsSplit },
  layernorm_forward:     { family: 'layernorm',    args: 'ffffffiix',          ref: layernormForward },
  layernorm_backward:    { family: 'layernorm',    args: 'foofffffii',         ref: layernormBackward },
  layernorm_backward_params: { family: 'layernorm', args: 'ffffffiii',        ref: layernormBackwardParams },
  gelu_forward:          { family: 'activation',   args: 'ffi',                ref: geluForward },
  gelu_backward:         { family: 'activation',   args: 'fffi',               ref: geluBackward },
  gelu_erf_forward:      { family: 'activation',   args: 'ffi',                ref: geluErfForward },
  gelu_erf_backward:     { family: 'activation',   args: 'fffi',               ref: geluErfBackward },
  relu_forward:          { family: 'activation',   args: 'ffi',                ref: reluForward },
  relu_backward:         { family: 'activation',   args: 'fffi',               ref: reluBackward },
  tanh_forward:          { family: 'activation',   args: 'ffi',                ref: tanhForward },
  tanh_backward:         { family: 'activation',   args: 'fffi',               ref: tanhBackward },
  add_f32:               { family: 'elementwise',  args: 'fffi',               ref: addF32 },
  mul_f32:               { family: 'elementwise',  args: 'fffi',               ref: mulF32 },
  scale_f32:             { family: 'elementwise',  args: 'ffxi',               ref: scaleF32 },
  axpy_f32:              { family: 'elementwise',  args: 'ffxi',               ref: axpyF32 },
  fill_f32:              { family: 'elementwise',  args: 'fxi',                ref: fillF32 },
  copy_f32:              { family: 'elementwise',  args: 'ffi',                ref: copyF32 },
  colsum_f32:            { family: 'elementwise',  args: 'ffiii',              ref: colsumF32 },
  argmax_f32:            { family: 'elementwise',  args: 'nfi',                ref: argmaxF32 },
  embedding_forward:     { family: 'embedding',    args: 'fnfii',              ref: embeddingForward },
  embedding_backward:    { family: 'embedding',    args: 'ffniii',             ref: embeddingBackward },
  crossentropy_forward:  { family: 'crossentropy', args: 'fffniixi',           ref: crossentropyForward },
  crossentropy_backward: { family: 'crossentropy', args: 'fffniixix',          ref: crossentropyBackward },
  adamw_f32:             { family: 'optim',        args: 'ffffixxxxxxxxxx',      ref: adamwF32 },
  sgd_f32:               { family: 'optim',        args: 'ffoixxxix',          ref: sgdF32 },
  sumsq_f32:             { family: 'optim',        args: 'ffi',                ref: sumsqF32 },
  dropout_forward:       { family: 'dropout',      args: 'ffiiix',             ref: dropoutForward },
  dropout_backward:      { family: 'dropout',      args: 'ffiiix',             ref: dropoutBackward },
  quant_pack_i8:         { family: 'quant',        args: 'uffiiiiii',          ref: quantPackI8 },
  quant_pack_f16:        { family: 'quant',        args: 'ufiiiiii',           ref: quantPackF16 },
  quant_pack_bf16:       { family: 'quant',        args: 'ufiiiiii',           ref: quantPackBf16 },
  gather_quant:          { family: 'quant',        args: 'fnuoiii',            ref: gatherQuant },
  gemm_q8_f32:           { family: 'quant',        args: 'ffufoiiiiiwiiiiiU',  ref: gemmQ8F32 },
  quant_rows_q8:         { family: 'quant',        args: 'ufiii',              ref: quantRowsQ8 },
  gemm_f16_f32:          { family: 'quant',        args: 'ffuoiiiiiwiiiii',    ref: gemmF16F32 },
  gemm_bf16_f32:         { family: 'quant',        args: 'ffuoiiiiiwiiiii',    ref: gemmBf16F32 },
  rmsnorm_forward:       { family: 'rmsnorm',      args: 'ffffiix',            ref: rmsnormForward },
  rmsnorm_backward:      { family: 'rmsnorm',      args: 'fffffii',            ref: rmsnormBackward },
  rmsnorm_backward_params: { family: 'rmsnorm',    args: 'ffffiii',            ref: rmsnormBackwardParams },
  swiglu_forward:        { family: 'swiglu',       args: 'fffiii',             ref: swigluForward },
  swiglu_backward:       { family: 'swiglu',       args: 'fffffiii',           ref: swigluBackward },
  geglu_forward:         { family: 'swiglu',       args: 'fffiii',             ref: gegluForward },
  geglu_backward:        { family: 'swiglu',       args: 'fffffiii',           ref: gegluBackward },
  rope_forward:          { family: 'rope',         args: 'fffniiiiii',         ref: ropeForward },
  rope_backward:         { family: 'rope',         args: 'fffniiiiii',         ref: ropeBackward },
  relbias_forward:       { family: 'relbias',      args: 'ffnii',              ref: relbiasForward },
  relbias_backward:      { family: 'relbias',      args: 'ffnii',              ref: relbiasBackward },
  pack_bf16:             { family: 'convert',      args: 'ufi',                ref: packBf16 },
  unpack_bf16:           { family: 'convert',      args: 'fui',                ref: unpackBf16 },
};

/**
 * Kernels implemented by the JS twins over the same memory, for runtimes without SIMD.
 * `f32()` must return a view of the whole memory that is current (fresh after growth).
 */
export function jsKernels(f32: () => Float32Array): Kernels {
  const out = {} as Record<KernelName, (...args: number[]) => void>;
  for (const name of Object.keys(KERNELS) as KernelName[]) {
    const { args, ref } = KERNELS[name];
    out[name] = (...values: number[]) => {
      const heap = f32();
      const mapped: unknown[] = [];
      for (let i = 0; i < args.length; i++) {
        const kind = args[i];
        const v = values[i]!;
        if (kind === 'f') mapped.push(heap.subarray(v >>> 2));
        else if (kind === 'o') mapped.push(v === 0 ? null : heap.subarray(v >>> 2));
        else if (kind === 'n' || (kind === 'N' && v !== 0)) mapped.push(new Int32Array(heap.buffer, heap.byteOffset + (v >>> 2) * 4, heap.length - (v >>> 2)));
        else if (kind === 'N') mapped.push(null);
        else if (kind === 'u' || (kind === 'U' && v !== 0)) mapped.push(new Uint8Array(heap.buffer, heap.byteOffset + v, heap.byteLength - v));
        else if (kind === 'U') mapped.push(null);
        else if (kind !== 'w') mapped.push(v);
      }
      ref(...mapped);
    };
  }
  return out as unknown as Kernels;
}
