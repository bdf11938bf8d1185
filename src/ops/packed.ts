// Packed weights: a weight matrix copied once into the layout the GEMM kernels read (slivers of
// 8 columns over the whole height, assembly/gemm.ts pack_weight_f32), kept with the parameters
// it came from and rebuilt only when they change (their Tracked version moved). Inference reads
// it instead of the weight: no call packs B again, and a one-row product streams it at memory
// speed. From GEMM_SMALL_M + 1 rows the results are gemm_f32's bits exactly, either storage;
// up to GEMM_SMALL_M rows each row is computed alike whatever the number of rows, within the
// GEMM bound of gemm_f32's product (the sums run in another order).
import { ShapeError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { GEMM_GELU, GEMM_TRANS_B, PACK_NR } from '../wasm/gemm-layout.js';
import { expectF32, expectShape, storeActivation, type StoreActivation } from './check.js';
import { quantizeWeight, type QuantizedWeight } from './quant.js';

/** A weight in the kernels' packed layout: op(W) is (k, n). */
export interface PackedWeight {
  readonly tensor: Tensor;
  readonly n: number;
  readonly k: number;
}

/**
 * The packed copy of the 2-D weight `w` (`transB`: stored (N,K), used as its transpose), built on
 * first use and kept until the parameters it belongs to change; null when `w` is not model
 * parameters (only they track their changes) or their model keeps no packed copies
 * (`packWeights: false`). The copy lives in the persistent store, one per weight and layout, and
 * is refilled in place when stale.
 * @example
 * ```ts
 * const pw = packedWeight(rt, model.params.get('lm_head.weight')!.value, true);  // (V, C) → k = C, n = V
 * ```
 */
export function packedWeight(rt: Runtime, w: Tensor, transB: boolean): PackedWeight | null {
  const tracked = w.tracked;
  if (!tracked || !tracked.pack || tracked.dtype !== 'f32' || w.dtype !== 'f32' || w.shape.length !== 2) return null;
  const [rows, cols] = w.shape as [number, number];
  const [k, n] = transB ? [cols, rows] : [rows, cols];
  const key = keyOf(w, transB);
  const entry = tracked.derived.get(key);
  if (entry?.tensor && entry.version === tracked.version) return entry.packed ??= { tensor: entry.tensor, n, k };
  const slivers = Math.ceil(n / PACK_NR);
  const tensor = entry?.tensor ?? rt.empty([Math.max(1, slivers * PACK_NR * k)]);
  rt.kernels.pack_weight_f32(tensor.ptr, w.ptr, n, k, cols, transB ? GEMM_TRANS_B : 0, 0, slivers);
  const packed = { tensor, n, k };
  tracked.derived.set(key, { version: tracked.version, tensor, packed });
  return packed;
}

/**
 * The quantized or half-precision copy of the 2-D weight `w` (stored (N,K) with `transB`) in the
 * format its parameters' `inferenceDtype` names, built on first use and rebuilt when they change;
 * null when `w` is not model parameters or the format is 'f32'.
 * @example
 * ```ts
 * model.params.inferenceDtype = 'int8';
 * const qw = quantizedCopy(rt, model.params.get('transformer.h.0.mlp.c_fc.weight')!.value, false);
 * ```
 */
export function quantizedCopy(rt: Runtime, w: Tensor, transB: boolean): QuantizedWeight | null {
  const held = HELD.get(w);
  if (held) {
    if (held.transB !== transB) throw new ShapeError(`quantizedCopy: the ${held.describe()} is held for the other layout (stored ${transB ? '(K, N)' : '(N, K)'} was asked for)`);
    return held;
  }
  const tracked = w.tracked;
  if (!tracked || tracked.dtype === 'f32' || w.dtype !== 'f32' || w.shape.length !== 2) return null;
  const key = `${keyOf(w, transB)}:${tracked.dtype}`;
  const entry = tracked.derived.get(key);
  if (entry?.quantized && entry.version === tracked.version) return entry.quantized as QuantizedWeight;
  entry?.quantized?.dispose();
  const quantized = quantizeWeight(rt, w, { dtype: tracked.dtype, transB });
  tracked.derived.set(key, { version: tracked.version, quantized });
  return quantized;
}

/** Weights held only quantized (no f32 memory under their tensors), by the tensor standing for them. */
const HELD = new WeakMap<Tensor, QuantizedWeight>();

/**
 * @internal Makes `qw` the weight behind `w`, a parameter tensor without f32 memory (a model
 * holding its weights only quantized): `quantizedCopy` returns it, `heldWeight` finds it.
 */
export function holdWeight(w: Tensor, qw: QuantizedWeight): void {
  HELD.set(w, qw);
}

/**
 * The quantized weight held in place of `w`'s f32 values, or undefined when `w` has its values.
 * @example
 * ```ts
 * const qw = heldWeight(model.params.get('transformer.wte.weight')!.value);   // after loadPretrained(…, { dtype: 'int8' })
 * ```
 */
export function heldWeight(w: Tensor): QuantizedWeight | undefined {
  return HELD.get(w);
}

/** The cache key of a weight and layout: one copy per memory range, whatever tensor object views it (built once per object). */
function keyOf(w: Tensor, transB: boolean): string {
  let keys = KEYS.get(w);
  if (!keys) KEYS.set(w, (keys = [null, null]));
  const [rows, cols] = w.shape as [number, number];
  return (keys[transB ? 1 : 0] ??= `${w.ptr}:${rows}x${cols}:${transB ? 'N,K' : 'K,N'}`);
}

/** The cache keys of a weight tensor object, per layout ((K,N), (N,K)). */
const KEYS = new WeakMap<Tensor, [string | null, string | null]>();

/**
 * out (rows, n) = x (rows, k) · op(W) + bias, with W packed (`packedWeight`); `activation`
 * 'gelu': out = gelu(…), applied to each block of the output as it is finished (the bits of the
 * product followed by `gelu`, one kernel call instead of two).
 * @example
 * ```ts
 * const pw = packedWeight(rt, cFc.weight, false)!;                // (C, 4C)
 * const h = matmulPacked(rt, x, pw, cFc.bias);                    // x (B·T, C) → (B·T, 4C)
 * const g = matmulPacked(rt, x, pw, cFc.bias, undefined, 'gelu'); // gelu(h)
 * ```
 */
export function matmulPacked(rt: Runtime, x: Tensor, w: PackedWeight, bias: Tensor | null, out?: Tensor, activation: StoreActivation = 'none'): Tensor {
  const op = 'matmulPacked';
  const flags = storeActivation(op, activation) ? GEMM_GELU : 0;
  expectF32(op, 'x', x);
  const k = x.shape[x.shape.length - 1]!, rows = x.size / Math.max(1, k);
  if (k !== w.k) throw new ShapeError(`${op}: x has ${k} features (shape [${x.shape.join(', ')}]) but the packed weight takes ${w.k}`);
  if (bias) {
    expectF32(op, 'bias', bias);
    expectShape(op, 'bias', bias, [w.n]);
  }
  const shape = [...x.shape.slice(0, -1), w.n];
  if (out) {
    expectF32(op, 'out', out);
    expectShape(op, 'out', out, shape);
  }
  const y = out ?? rt.empty(shape, { arena: 'step' });
  rt.kernels.gemm_packed_f32(y.ptr, x.ptr, w.tensor.ptr, bias ? bias.ptr : 0, rows, w.n, k, k, w.n, flags, 1, 0, rt.gemmWork, 0, rows, 0, w.n);
  return y;
}
