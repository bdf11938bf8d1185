// Sample calls of every kernel in the ABI manifest: random inputs from a seed, the sample
// integer/scalar arguments below, outputs read back. Runtime-neutral (no Node imports): used
// by the ABI test in Node and by the runtime suite in Deno, Bun, Chromium and workerd.
import { Rng, type Runtime } from '../../src/index.js';
import { KERNELS, type KernelName } from '../../src/wasm/abi.js';

export const BUF = 512; // floats per sample buffer: enough for every sample below
const IDS = 8;   // i32 pointer arguments (`n`: token ids, targets) hold values in [0, IDS): valid rows/classes below

/** Sample integer/scalar arguments per kernel; pointer arguments get their own buffers. */
export const SAMPLES: Record<KernelName, number[]> = {
  gemm_f32:           [5, 9, 7, 7, 9, 9, 0, 1.5, 0.5],           // m n k lda ldb ldc flags alpha beta
  gemm_block_f32:     [20, 9, 7, 7, 7, 9, 2, 1.5, 0.5, 0, 6, 8, 9], // … flags=2 alpha beta i0 i1 j0 j1 (a corner block)
  gemv_chunks_f32:    [3, 150, 1, 3, 3, 0, 2],                   // n k as ldb ldp q0 q1 (chunks of 128 and 22 rows)
  gemv_sum_f32:       [9, 3, 9, 1.5, 0.5],                       // n chunks ldp alpha beta
  pack_weight_f32:    [9, 7, 9, 0, 0, 2],                        // n k ldb flags s0 s1 (both slivers, the second an edge)
  gemm_packed_f32:    [20, 9, 7, 7, 9, 4, 1.5, 0.5, 12, 20, 8, 9], // m n k lda ldc flags(GELU) alpha beta i0 i1 j0 j1 (a corner block)
  gemm_gelu_f32:      [20, 9, 7, 7, 9, 9, 0, 0, 20, 0, 9],            // m n k lda ldb ldc flags(forward) i0 i1 j0 j1
  gemm_batched_f32:   [3, 4, 5, 6, 5, 7, 3, 1, 1, 2, 40, 0, 40, 2, 10, 50, 100], // … flags=3 alpha beta batch sA sB sC outer oA oB oC
  softmax_forward:    [6, 10, 3, 0.5, 1],                        // rows cols block scale causal
  attention_mask_f32: [12, 5, 4, 7],                              // rows cols group mask_ld (ids 0 are masked)
  // tq tk nHead hs ldq ldk ldv ldy bsq bsk bsv bsy maskLd scale flags window globals u0 u1: 2 sequences, strided heads,
  // masked keys, a relative bias; causal, a window of 2 and 1 global token (backward: dq and dv added to, dk written)
  attention_fused_forward:  [5, 6, 2, 3, 7, 8, 6, 9, 40, 50, 40, 50, 6, 0.5, 1, 2, 1, 0, 4],
  attention_fused_backward: [5, 6, 2, 3, 7, 8, 6, 9, 40, 50, 40, 50, 6, 0.5, 11, 2, 1, 0, 4],
  attention_fused_probs:    [5, 6, 2, 3, 7, 8, 40, 50, 6, 0.5, 1, 2, 1, 0, 4],   // tq tk nHead hs ldq ldk bsq bsk maskLd scale flags window globals u0 u1
  // stage tq tk nHead hs ldq ldk ldv ldy scale flags window globals c0 c1: stage 0 over all three key blocks of 16, causal with a
  // window of 2 and 1 global key (the middle block unseen), masked keys, a relative bias
  attention_rows_split:     [0, 2, 40, 2, 3, 7, 8, 6, 9, 0.5, 1, 2, 1, 0, 3],
  softmax_backward:   [6, 10, 0.5],
  layernorm_forward:  [6, 12, 1e-5],
  layernorm_backward: [6, 12],
  layernorm_backward_params: [6, 8, 12],                         // n c ld (a band of 8 columns)
  gelu_forward:       [37],
  gelu_backward:      [37],
  gelu_erf_forward:   [37],
  gelu_erf_backward:  [37],
  relu_forward:       [37],
  relu_backward:      [37],
  tanh_forward:       [37],
  tanh_backward:      [37],
  add_f32:            [37],
  mul_f32:            [37],
  scale_f32:          [-1.25, 37],
  axpy_f32:           [0.75, 37],
  fill_f32:           [3.5, 37],
  copy_f32:           [37],
  colsum_f32:         [6, 10, 12],                               // rows cols ld
  argmax_f32:         [37],                                      // n (four rounds of eight lanes and a tail of 5)
  embedding_forward:  [6, 12],                                   // n c (weight has 512/12 ≥ IDS rows)
  embedding_backward: [6, 10, 12],                               // n c ld
  crossentropy_forward:  [6, 10, 0.1, 3],                        // n v smoothing ignore_index
  crossentropy_backward: [6, 10, 0.1, 3, 0.5],                   // … scale
  adamw_f32:          [37, 1e-3, 0.9, 0.999, 0.1, 0.001, 1e-8, 0.1, 0.1, 0.001, 0.5], // n lr β1 β2 1−β1 1−β2 eps wd bc1 bc2 grad_scale
  sgd_f32:            [37, 0.1, 0.9, 0.01, 1, 0.5],              // n lr momentum wd nesterov grad_scale
  sumsq_f32:          [37],
  dropout_forward:    [37, 0xdeadbeef, 2 ** 31, 2],              // n seed threshold (p = 0.5) scale
  dropout_backward:   [37, 0xdeadbeef, 2 ** 31, 2],
  quant_pack_i8:      [9, 7, 9, 0, 0, 2],                        // n k ldw flags s0 s1 (both slivers, the second an edge)
  quant_pack_f16:     [9, 7, 7, 2, 0, 2],                        // … W stored (N,K)
  quant_pack_bf16:    [9, 7, 9, 0, 1, 2],                        // … the edge sliver only
  gather_quant:       [6, 11, 1],                                // count k fmt (f16, an odd K: the last element alone)
  gemm_q8_f32:        [5, 9, 7, 7, 9, 0, 5, 0, 9, 1, 0],         // m n k ldx ldy i0 i1 j0 j1 act (GELU in the store) pre (none: quantized here)
  quant_rows_q8:      [3, 7, 9],                                 // m k ldx
  gemm_f16_f32:       [6, 9, 7, 7, 9, 0, 6, 8, 9, 0],            // … the edge sliver only, no activation
  gemm_bf16_f32:      [6, 9, 7, 7, 9, 1, 6, 0, 9, 1],
  rmsnorm_forward:    [6, 12, 1e-6],                             // n c eps
  rmsnorm_backward:   [6, 12],
  rmsnorm_backward_params: [6, 8, 12],                           // n c ld (a band of 8 columns)
  swiglu_forward:     [6, 10, 24],                               // n c ld (gate and up rows 24 apart, as in a (6, 24) tensor)
  swiglu_backward:    [6, 10, 24],
  geglu_forward:      [6, 10, 24],
  geglu_backward:     [6, 10, 24],
  rope_forward:       [0, 6, 2, 10, 6, 24],                      // p0 n nHead hs rd ld (partial rotary; positions < 8: table rows of 6)
  rope_backward:      [0, 6, 2, 10, 6, 24],
  relbias_forward:    [3, 20],                                   // nHead L (buckets < 8: table rows of 3)
  relbias_backward:   [3, 20],
  pack_bf16:          [37],                                      // n (the 8-wide loop and a tail of 5)
  unpack_bf16:        [37],
};

export function callSample(rt: Runtime, name: KernelName, seed: number): Float32Array[] {
  rt.step.reset();
  const { args } = KERNELS[name];
  const rng = new Rng(seed);
  const scalars = [...SAMPLES[name]];
  const buffers: { ptr: number; bytes: boolean }[] = [];
  const values: number[] = [];
  for (const kind of args) {
    if (kind === 'f' || kind === 'o') {
      const t = rt.empty([BUF], { arena: 'step' });
      const d = t.f32();
      for (let i = 0; i < BUF; i++) d[i] = 0.5 + rng.uniform();
      buffers.push({ ptr: t.ptr, bytes: false });
      values.push(t.ptr);
    } else if (kind === 'n' || kind === 'N') {
      const t = rt.empty([BUF], { arena: 'step', dtype: 'i32' });
      const d = t.i32();
      for (let i = 0; i < BUF; i++) d[i] = rng.int(IDS);
      buffers.push({ ptr: t.ptr, bytes: false });
      values.push(t.ptr);
    } else if (kind === 'u') {
      // packed int8 / f16 / bf16 weights: bytes ≤ 0x3b, so every f16 and bf16 value is finite and below 1
      const t = rt.empty([BUF], { arena: 'step' });
      const d = new Uint8Array(rt.heap.memory.buffer, t.ptr, 4 * BUF);
      for (let i = 0; i < d.length; i++) d[i] = rng.int(0x3c);
      buffers.push({ ptr: t.ptr, bytes: true });
      values.push(t.ptr);
    } else if (kind === 'w') {
      values.push(rt.gemmWork);
    } else {
      values.push(scalars.shift()!);
    }
  }
  (rt.kernels[name] as (...a: number[]) => void)(...values);
  // byte buffers compare as their first BUF bytes (as floats, their bit patterns could be NaNs)
  return buffers.map(({ ptr, bytes }) => (bytes ? Float32Array.from(new Uint8Array(rt.heap.memory.buffer, ptr, BUF)) : rt.heap.f32.slice(ptr >>> 2, (ptr >>> 2) + BUF)));
}

// This checks argument mapping and that a runtime runs the module correctly, not precision (the
// kernel tests hold each kernel to its own derived bound): a mis-mapped argument or a
// miscompiled kernel gives O(1) differences, so 1e-4 relative separates them from rounding.
export const SAMPLE_RTOL = 1e-4;

/** The first element where two sample outputs (`callSample`) differ by more than SAMPLE_RTOL, described; or null. */
export function sampleMismatch(a: Float32Array[], b: Float32Array[]): string | null {
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < BUF; j++) {
      const x = a[i]![j]!;
      const y = b[i]![j]!;
      if (x !== y && !(Math.abs(x - y) <= SAMPLE_RTOL * Math.max(1, Math.abs(y)))) return `buffer ${i} element ${j}: ${x} vs ${y}`;
    }
  }
  return null;
}
