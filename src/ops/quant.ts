// Quantized and half-precision weights for inference: a weight matrix converted once into int8
// (symmetric, one scale per output column), f16 or bf16 in the layout the kernels stream
// (assembly/quant_pack.ts), then products with f32 activations and outputs
// (assembly/quant_gemm.ts). Every argument is checked — shapes, dtypes, the values a format
// cannot hold — before any memory is taken or any kernel runs.
import { DTypeError, ShapeError, StaleTensorError, ValueError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { shapeSize, type Tensor } from '../tensor.js';
import { GEMM_TRANS_B } from '../wasm/gemm-layout.js';
import { dequantize, quantizedBytes, scalesLength, GATHER_FORMATS, QUANT_NR, type QuantDType } from '../ref/quant.js';
import { expectF32, expectShape, storeActivation, type StoreActivation } from './check.js';
import { checkIds } from './embedding.js';

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
  checkK(op, k, w.shape, transB);
  checkValues(op, rt.heap.f32.subarray(w.ptr >>> 2, (w.ptr >>> 2) + w.size), cols, dtype, 0);
  const qw = allocateQuantized(rt, dtype, n, k, transB);
  try {
    packInto(rt, qw, w, 0);
  } catch (err) {
    qw.dispose();
    throw err;
  }
  return qw;
}

/** Throws ShapeError for K above QUANT_MAX_K. */
function checkK(op: string, k: number, shape: readonly number[], transB: boolean): void {
  if (k > QUANT_MAX_K) throw new ShapeError(`${op}: w [${shape.join(', ')}]${transB ? ' (transB)' : ''} has K = ${k} input features, at most ${QUANT_MAX_K}`);
}

/**
 * An empty (zero) quantized weight of op(W) (k, n) in `dtype`, stored (n, k) when `transB`,
 * to be filled with `quantizeInto` — how a loader holds a weight without ever holding its f32 values.
 * @example
 * ```ts
 * const head = allocateQuantized(rt, 'int8', 50257, 768, true);   // a tied (V, C) table
 * ```
 */
export function allocateQuantized(rt: Runtime, dtype: QuantDType, n: number, k: number, transB: boolean): QuantizedWeight {
  const op = 'allocateQuantized';
  if (!DTYPES.includes(dtype)) throw new ValueError(`${op}: dtype ${JSON.stringify(dtype)} is not one of ${DTYPES.join(', ')}`);
  shapeSize([n, k], op);
  checkK(op, k, transB ? [n, k] : [k, n], transB);
  const data = rt.zeros([Math.ceil(quantizedBytes(dtype, n, k) / 4)], { dtype: 'i32' });
  let scales: Tensor | null = null;
  try {
    if (dtype === 'int8') scales = rt.zeros([scalesLength(n)]);
  } catch (err) {
    rt.free(data);
    throw err;
  }
  return new QuantizedWeight(rt, dtype, n, k, transB, data, scales);
}

/** f32 elements a block of a stored (N, K) weight aims at: 4 MiB. */
const BLOCK_ELEMS = 1 << 20;

/**
 * How `quantizeInto` can take `qw` a block at a time, as the weight is stored: `rows` rows of
 * `cols` per block (whole slivers of output channels, ~4 MiB of f32, for a weight stored (N, K);
 * all K rows for one stored (K, N), whose column scales need every row), of `total`.
 * @example
 * ```ts
 * const { rows, cols, total } = quantizeBlocks(qw);   // a (50257, 768) table: blocks of 1360 rows
 * ```
 */
export function quantizeBlocks(qw: QuantizedWeight): { rows: number; cols: number; total: number; elems: number } {
  if (!qw.transB) return { rows: qw.k, cols: qw.n, total: qw.k, elems: qw.k * qw.n };
  const rows = Math.min(qw.n, Math.max(QUANT_NR, Math.floor(BLOCK_ELEMS / qw.k / QUANT_NR) * QUANT_NR));
  return { rows, cols: qw.k, total: qw.n, elems: rows * qw.k };
}

/**
 * Quantizes f32 values into part of `qw` in place: with `transB` (stored (N, K): a row per output
 * channel) `w` holds rows [first, first + rows) of the weight, `first` a multiple of QUANT_NR and
 * the block ending at a multiple of it or at N, so blocks arrive one after another and no more
 * than a block is ever held in f32; otherwise `w` is the whole (K, N) weight (its column scales
 * need every row) and `first` is 0. The values are checked first, as quantizeWeight does.
 * @example
 * ```ts
 * const qw = allocateQuantized(rt, 'int8', V, C, true);
 * quantizeInto(rt, qw, block, 0);           // rows 0 … 1023 of the (V, C) table
 * quantizeInto(rt, qw, nextBlock, 1024);    // and on
 * ```
 */
export function quantizeInto(rt: Runtime, qw: QuantizedWeight, w: Tensor, first = 0): void {
  const op = 'quantizeInto';
  qw.pointers(op);
  expectF32(op, 'w', w);
  const rows = w.size / qw.k;
  if (qw.transB) {
    const end = first + rows;
    if (!Number.isInteger(rows) || first % QUANT_NR !== 0 || first < 0 || end > qw.n || (end % QUANT_NR !== 0 && end !== qw.n)) {
      throw new ShapeError(`${op}: ${w.describe()} at row ${first} is not a block of whole rows of the ${qw.describe()} starting and ending at multiples of ${QUANT_NR} (or at row ${qw.n})`);
    }
  } else if (first !== 0 || w.size !== qw.k * qw.n) {
    throw new ShapeError(`${op}: ${w.describe()} at row ${first} is not the whole ${qw.describe()} (a (K, N) weight quantizes whole: its column scales need every row)`);
  }
  checkValues(op, rt.heap.f32.subarray(w.ptr >>> 2, (w.ptr >>> 2) + w.size), qw.transB ? qw.k : qw.n, qw.dtype, first);
  packInto(rt, qw, w, first);
}

/** The kernel call of quantizeInto, arguments checked. */
function packInto(rt: Runtime, qw: QuantizedWeight, w: Tensor, first: number): void {
  const { data, scales } = qw.pointers('quantizeInto');
  const { k, dtype } = qw;
  const n = qw.transB ? w.size / k : qw.n;
  const s0 = first / QUANT_NR, slivers = Math.ceil(n / QUANT_NR);
  const at = data + s0 * quantizedBytes(dtype, QUANT_NR, k), ld = qw.transB ? k : qw.n;
  const flags = qw.transB ? GEMM_TRANS_B : 0;
  if (dtype === 'int8') rt.kernels.quant_pack_i8(at, scales + 4 * first, w.ptr, n, k, ld, flags, 0, slivers);
  else if (dtype === 'f16') rt.kernels.quant_pack_f16(at, w.ptr, n, k, ld, flags, 0, slivers);
  else rt.kernels.quant_pack_bf16(at, w.ptr, n, k, ld, flags, 0, slivers);
}

/** Throws ValueError at the first value of `v` (rows from `first` of a (·, cols) matrix) that is not finite or that `dtype` cannot hold. */
function checkValues(op: string, v: Float32Array, cols: number, dtype: QuantDType, first: number): void {
  const limit = dtype === 'int8' ? Infinity : OVERFLOW[dtype];
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (x < limit && x > -limit) continue;    // false for NaN and ±inf too
    const where = `w[${first + Math.floor(i / cols)}, ${i % cols}] = ${x}`;
    if (!Number.isFinite(x)) throw new ValueError(`${op}: ${where} is not finite`);
    throw new ValueError(`${op}: ${where} overflows ${dtype} (largest finite ${dtype === 'f16' ? 65504 : '3.3895e38'}; values from ${limit} on round to infinity)`);
  }
}

/**
 * out (…, n) = x (…, k) · W + bias, W a quantized weight (`quantizeWeight`); x, bias and out
 * f32. int8 quantizes each row of x to i16 on the fly (relative error ≤ 2^-16 of the row's
 * max |x|; a row with NaN or ±inf gives NaN); f16 / bf16 multiply the exact weight values in f32.
 * `activation` 'gelu': out = gelu(…), applied by each thread to its block of the output as it
 * finishes it (the bits of the product followed by `gelu`, one kernel call instead of two).
 * @example
 * ```ts
 * const qw = quantizeWeight(rt, cFc.weight, { dtype: 'int8' });       // (C, 4C)
 * const h = matmulQuantized(rt, x, qw, cFc.bias);                     // x (B·T, C) → (B·T, 4C)
 * const g = matmulQuantized(rt, x, qw, cFc.bias, undefined, 'gelu');  // gelu(h)
 * ```
 */
export function matmulQuantized(rt: Runtime, x: Tensor, qw: QuantizedWeight, bias: Tensor | null = null, out?: Tensor, activation: StoreActivation = 'none'): Tensor {
  const op = 'matmulQuantized';
  if (!(qw instanceof QuantizedWeight)) throw new DTypeError(`${op}: the weight is not a QuantizedWeight (make one with quantizeWeight)`);
  const act = storeActivation(op, activation);
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
  if (qw.dtype === 'int8') rt.kernels.gemm_q8_f32(y.ptr, x.ptr, data, scales, b, rows, n, k, k, n, rt.gemmWork, 0, rows, 0, n, act, 0);
  else if (qw.dtype === 'f16') rt.kernels.gemm_f16_f32(y.ptr, x.ptr, data, b, rows, n, k, k, n, rt.gemmWork, 0, rows, 0, n, act);
  else rt.kernels.gemm_bf16_f32(y.ptr, x.ptr, data, b, rows, n, k, k, n, rt.gemmWork, 0, rows, 0, n, act);
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

/**
 * rows (…ids, K) = rows `ids` (i32, any shape) of a table held as `qw` — a (V, K) table quantized
 * with transB, one scale per row — dequantized as dequantizeWeight does (the embedding lookup of
 * a model that holds its tied embedding only quantized). Ids are checked against V first.
 * @example
 * ```ts
 * const x = gatherQuantized(rt, rt.empty([B, T, C], { arena: 'step' }), idx, wte);   // wte: int8 (V, C), transB
 * ```
 */
export function gatherQuantized(rt: Runtime, rows: Tensor, ids: Tensor, qw: QuantizedWeight, op = 'gatherQuantized'): Tensor {
  const { data, scales } = qw.pointers(op);
  if (!qw.transB) throw new ShapeError(`${op}: the ${qw.describe()} is not a table of rows (quantize it with transB)`);
  if (ids.dtype !== 'i32') throw new DTypeError(`${op}: ids is ${ids.describe()}, expected dtype i32`);
  expectF32(op, 'rows', rows);
  expectShape(op, 'rows', rows, [...ids.shape, qw.k]);
  checkIds(op, ids.i32(), qw.n);
  rt.kernels.gather_quant(rows.ptr, ids.ptr, data, scales, ids.size, qw.k, GATHER_FORMATS.indexOf(qw.dtype));
  return rows;
}

/**
 * Multiplies an int8 weight's scales by `factors` (one per output channel, or one for all): a
 * file's int8 values quantized as they are (scale 1 when a channel's largest |q| is 127) take
 * the file's own scales once those have arrived.
 * @example
 * ```ts
 * rescaleChannels(rt, qw, fileScales);   // Float32Array(n)
 * ```
 */
export function rescaleChannels(rt: Runtime, qw: QuantizedWeight, factors: Float32Array): void {
  const { scales } = qw.pointers('rescaleChannels');
  if (qw.dtype !== 'int8') throw new DTypeError(`rescaleChannels: the ${qw.describe()} has no scales`);
  if (factors.length !== 1 && factors.length !== qw.n) throw new ShapeError(`rescaleChannels: ${factors.length} factors for the ${qw.n} channels of the ${qw.describe()}`);
  const s = rt.heap.f32.subarray(scales >>> 2, (scales >>> 2) + qw.n);
  for (let j = 0; j < qw.n; j++) s[j] = Math.fround(s[j]! * factors[factors.length === 1 ? 0 : j]!);
}

/**
 * An int8 weight's integers in the layout of the weight it was made from ((k, n), or (n, k) with
 * transB) and its n scales, copied out: what a file stores for it, exactly.
 * @example
 * ```ts
 * const { q, scales } = int8Values(rt, qw);   // q[i] · scales[channel of i] = dequantizeWeight's values
 * ```
 */
export function int8Values(rt: Runtime, qw: QuantizedWeight): { q: Int8Array; scales: Float32Array } {
  const { data, scales } = qw.pointers('int8Values');
  if (qw.dtype !== 'int8') throw new DTypeError(`int8Values: the weight is ${qw.describe()}, not int8`);
  const heap = rt.heap.f32;
  const bytes = new Uint8Array(heap.buffer, heap.byteOffset + data, quantizedBytes('int8', qw.n, qw.k));
  const values = new Float32Array(qw.n * qw.k);
  dequantize(values, 'int8', bytes, new Float32Array(qw.n).fill(1), qw.n, qw.k, qw.transB ? GEMM_TRANS_B : 0);
  return { q: Int8Array.from(values), scales: heap.slice(scales >>> 2, (scales >>> 2) + qw.n) };
}
