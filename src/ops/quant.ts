// Quantized and half-precision weights for inference: a weight matrix converted once into int8
// (symmetric, one scale per output column), f16 or bf16 in the layout the kernels stream
// (assembly/quant_pack.ts), then products with f32 activations and outputs
// (assembly/quant_gemm.ts). Every argument is checked — shapes, dtypes, the values a format
// cannot hold — before any memory is taken or any kernel runs.
import { DTypeError, ShapeError, StaleTensorError, ValueError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { GEMM_TRANS_B } from '../wasm/gemm-layout.js';
import { dequantize, quantizedBytes, scalesLength, QUANT_NR, type QuantDType } from '../ref/quant.js';
import { expectF32, expectShape } from './check.js';

export type { QuantDType } from '../ref/quant.js';

/** The largest K the kernels take (their per-thread scratch holds quantized rows of X). */
export const QUANT_MAX_K = 65536;
const DTYPES: readonly QuantDType[] = ['int8', 'f16', 'bf16'];
/** Smallest magnitudes that round to infinity (then saturate) in each 16-bit format. */
const OVERFLOW = { f16: 65520, bf16: 3.3961514283411417e38 } as const;

export interface QuantizeOptions {
  /** 'int8' (symmetric, per output column: scale = max |W[:,n]| / 127), 'f16' or 'bf16' (round to nearest even). */
  dtype: QuantDType;
  /** The weight is stored (N, K) and used transposed (nn.Linear, a tied LM head (V, C)); default: stored (K, N), used as is (GPT-2's Conv1D). */
  transB?: boolean;
}

/**
 * A weight in a quantized or half-precision format, in persistent memory until `dispose()`.
 * `k` inputs, `n` outputs: y (…, n) = x (…, k) · W.
 */
export class QuantizedWeight {
  readonly #rt: Runtime;
  #data: Tensor | null;
  #scales: Tensor | null;

  /** @internal use quantizeWeight */
  constructor(rt: Runtime, readonly dtype: QuantDType, readonly n: number, readonly k: number, readonly transB: boolean, data: Tensor, scales: Tensor | null) {
    this.#rt = rt;
    this.#data = data;
    this.#scales = scales;
  }

  /** The shape of the weight it was made from: (k, n), or (n, k) with transB. */
  get shape(): readonly [number, number] {
    return this.transB ? [this.n, this.k] : [this.k, this.n];
  }

  /** Bytes held: the packed values and (int8) the scales. */
  get bytes(): number {
    return quantizedBytes(this.dtype, this.n, this.k) + (this.dtype === 'int8' ? 4 * scalesLength(this.n) : 0);
  }

  /** Whether dispose() was called. */
  get disposed(): boolean {
    return this.#data === null;
  }

  /** @internal Byte addresses of the packed values and the scales (0 for f16/bf16); throws once disposed. */
  pointers(op: string): { data: number; scales: number } {
    if (!this.#data) throw new StaleTensorError(`${op}: the ${this.describe()} was disposed`);
    return { data: this.#data.ptr, scales: this.#scales ? this.#scales.ptr : 0 };
  }

  /** Frees its memory (idempotent); using it afterwards throws StaleTensorError. */
  dispose(): void {
    if (this.#data) this.#rt.free(this.#data);
    if (this.#scales) this.#rt.free(this.#scales);
    this.#data = this.#scales = null;
  }

  /** e.g. `int8 weight [768, 3072]` */
  describe(): string {
    return `${this.dtype} weight [${this.shape.join(', ')}]${this.transB ? ' (transB)' : ''}`;
  }
}

/**
 * Converts the 2-D f32 weight `w` once into `dtype`, in the kernels' layout; `w` is left as it
 * was. Refuses (ValueError, naming the element) non-finite values, and values f16 or bf16 would
 * round to infinity; K (the input features) at most QUANT_MAX_K.
 * @example
 * ```ts
 * const w = model.params.get('transformer.h.0.mlp.c_fc.weight')!.value;   // (768, 3072), x·W
 * const qw = quantizeWeight(rt, w, { dtype: 'int8' });
 * const head = quantizeWeight(rt, wte, { dtype: 'f16', transB: true });   // (V, C), x·Wᵀ
 * // … matmulQuantized(rt, x, qw, bias) …
 * qw.dispose();
 * ```
 */
export function quantizeWeight(rt: Runtime, w: Tensor, opts: QuantizeOptions): QuantizedWeight {
  const op = 'quantizeWeight';
  const dtype = opts?.dtype;
  if (!DTYPES.includes(dtype)) throw new ValueError(`${op}: dtype ${JSON.stringify(dtype)} is not one of ${DTYPES.join(', ')}`);
  expectF32(op, 'w', w);
  if (w.shape.length !== 2) throw new ShapeError(`${op}: w has shape [${w.shape.join(', ')}], expected 2 dimensions`);
  const transB = opts.transB ?? false;
  const [rows, cols] = w.shape as [number, number];
  const [k, n] = transB ? [cols, rows] : [rows, cols];
  if (k > QUANT_MAX_K) throw new ShapeError(`${op}: w [${rows}, ${cols}]${transB ? ' (transB)' : ''} has K = ${k} input features, at most ${QUANT_MAX_K}`);
  checkValues(op, rt.heap.f32.subarray(w.ptr >>> 2, (w.ptr >>> 2) + w.size), cols, dtype);
  const slivers = Math.ceil(n / QUANT_NR);
  const data = rt.empty([Math.ceil(quantizedBytes(dtype, n, k) / 4)], { dtype: 'i32' });
  let scales: Tensor | null = null;
  try {
    const flags = transB ? GEMM_TRANS_B : 0;
    if (dtype === 'int8') {
      scales = rt.empty([scalesLength(n)]);
      rt.kernels.quant_pack_i8(data.ptr, scales.ptr, w.ptr, n, k, cols, flags, 0, slivers);
    } else if (dtype === 'f16') {
      rt.kernels.quant_pack_f16(data.ptr, w.ptr, n, k, cols, flags, 0, slivers);
    } else {
      rt.kernels.quant_pack_bf16(data.ptr, w.ptr, n, k, cols, flags, 0, slivers);
    }
  } catch (err) {
    rt.free(data);
    if (scales) rt.free(scales);
    throw err;
  }
  return new QuantizedWeight(rt, dtype, n, k, transB, data, scales);
}

/** Throws ValueError at the first value of `v` (a (·, cols) matrix) that is not finite or that `dtype` cannot hold. */
function checkValues(op: string, v: Float32Array, cols: number, dtype: QuantDType): void {
  const limit = dtype === 'int8' ? Infinity : OVERFLOW[dtype];
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (x < limit && x > -limit) continue;    // false for NaN and ±inf too
    const where = `w[${Math.floor(i / cols)}, ${i % cols}] = ${x}`;
    if (!Number.isFinite(x)) throw new ValueError(`${op}: ${where} is not finite`);
    throw new ValueError(`${op}: ${where} overflows ${dtype} (largest finite ${dtype === 'f16' ? 65504 : '3.3895e38'}; values from ${limit} on round to infinity)`);
  }
}

/**
 * out (…, n) = x (…, k) · W + bias, W a quantized weight (`quantizeWeight`); x, bias and out
 * f32. int8 quantizes each row of x to i16 on the fly (relative error ≤ 2^-16 of the row's
 * max |x|; a row with NaN or ±inf gives NaN); f16 / bf16 multiply the exact weight values in f32.
 * @example
 * ```ts
 * const qw = quantizeWeight(rt, cFc.weight, { dtype: 'int8' });       // (C, 4C)
 * const h = matmulQuantized(rt, x, qw, cFc.bias);                     // x (B·T, C) → (B·T, 4C)
 * ```
 */
export function matmulQuantized(rt: Runtime, x: Tensor, qw: QuantizedWeight, bias: Tensor | null = null, out?: Tensor): Tensor {
  const op = 'matmulQuantized';
  if (!(qw instanceof QuantizedWeight)) throw new DTypeError(`${op}: the weight is not a QuantizedWeight (make one with quantizeWeight)`);
  const { data, scales } = qw.pointers(op);
  expectF32(op, 'x', x);
  const k = x.shape[x.shape.length - 1]!, rows = x.size / k;
  if (k !== qw.k) throw new ShapeError(`${op}: x has ${k} features (shape [${x.shape.join(', ')}]) but the ${qw.describe()} takes ${qw.k}`);
  if (bias) {
    expectF32(op, 'bias', bias);
    expectShape(op, 'bias', bias, [qw.n]);
  }
  const shape = [...x.shape.slice(0, -1), qw.n];
  if (out) {
    expectF32(op, 'out', out);
    expectShape(op, 'out', out, shape);
  }
  const y = out ?? rt.empty(shape, { arena: 'step' });
  const b = bias ? bias.ptr : 0, { n } = qw;
  if (qw.dtype === 'int8') rt.kernels.gemm_q8_f32(y.ptr, x.ptr, data, scales, b, rows, n, k, k, n, rt.gemmWork, 0, rows, 0, n);
  else if (qw.dtype === 'f16') rt.kernels.gemm_f16_f32(y.ptr, x.ptr, data, b, rows, n, k, k, n, rt.gemmWork, 0, rows, 0, n);
  else rt.kernels.gemm_bf16_f32(y.ptr, x.ptr, data, b, rows, n, k, k, n, rt.gemmWork, 0, rows, 0, n);
  return y;
}

/**
 * The f32 values a quantized weight holds, in the shape and storage of the weight it was made
 * from (int8: scale·q rounded to f32; f16/bf16: exact), in a new tensor (persistent unless
 * `arena: 'step'`). For checks and for saving.
 * @example
 * ```ts
 * const back = dequantizeWeight(rt, qw);    // same shape as the original weight
 * // |back − w| ≤ scale/2 per element (int8), one f16/bf16 rounding otherwise
 * ```
 */
export function dequantizeWeight(rt: Runtime, qw: QuantizedWeight, opts: { arena?: 'persistent' | 'step' } = {}): Tensor {
  const { data, scales } = qw.pointers('dequantizeWeight');
  const out = rt.empty(qw.shape, { arena: opts.arena });
  const heap = rt.heap.f32;
  const bytes = new Uint8Array(heap.buffer, heap.byteOffset + data, quantizedBytes(qw.dtype, qw.n, qw.k));
  const sc = scales ? heap.subarray(scales >>> 2, (scales >>> 2) + scalesLength(qw.n)) : null;
  dequantize(heap.subarray(out.ptr >>> 2, (out.ptr >>> 2) + out.size), qw.dtype, bytes, sc, qw.n, qw.k, qw.transB ? GEMM_TRANS_B : 0);
  return out;
}
