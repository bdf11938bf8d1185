// Plain-JS twin of assembly/quant_pack.ts and assembly/quant_gemm.ts: the oracle of their tests,
// the fallback where a runtime has no wasm SIMD, and the dequantizer. Same layout, same rounding:
//   layout: op(W) (K,N) in slivers of 8 columns over K padded to even; element (p, r) of sliver s at
//     s·8·Kp + ⌊p/2⌋·16 + ⌊r/4⌋·8 + (r mod 4)·2 + (p mod 2), 1-byte (int8) or 2-byte little-endian
//     (f16, bf16) elements, zero past N and at the padding row p = K.
//   int8: scale_n = amax_n/127, q = clamp(roundeven(W·(127/amax_n)), ±127) in f32 arithmetic;
//     amax_n < 2^-121 → scale 0, q 0. The product quantizes each row of X to i16 (sx = amax/32767,
//     xq = roundeven(x·(32767/amax))), sums xq·q exactly per block of 512 k, adds the blocks in f32
//     in order, and returns fl(fl(sum · fl(sx·scale_n)) + bias): the kernel's bits exactly.
//   f16 / bf16: IEEE round to nearest even, subnormals kept; NaN → quiet NaN, overflow and ±inf
//     saturate to ±max finite. The products sum w·x exactly (f64) and round once.
import { GEMM_TRANS_B } from '../wasm/gemm-layout.js';
import { geluBlock } from './gemm.js';
import { roundEven } from '../math.js';

/** Output columns per sliver. */
export const QUANT_NR = 8;
/** Rows of k per exact int8 block sum (assembly QUANT_KB; checked equal by the kernel test). */
export const QUANT_KB = 512;
/** The quantized products' `act` argument for GELU in the store (assembly/gemm.ts ACT_GELU): y = gelu(x · W + bias). */
export const QUANT_GELU = 1;
/** Weight storage formats. */
export type QuantDType = 'int8' | 'f16' | 'bf16';

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
const bitsOf = (x: number) => ((F32[0] = x), U32[0]!);
const fromBits = (b: number) => ((U32[0] = b >>> 0), F32[0]!);
const fr = Math.fround;

/** Elements of one sliver: 8 columns × K padded to even. */
export const sliverElems = (k: number) => ((k + 1) & ~1) * QUANT_NR;
/** Bytes of a packed weight of op(W) (K,N). */
export function quantizedBytes(dtype: QuantDType, n: number, k: number): number {
  return Math.ceil(n / QUANT_NR) * sliverElems(k) * (dtype === 'int8' ? 1 : 2);
}
/** Floats of the int8 scales: N padded to a whole sliver. */
export const scalesLength = (n: number) => Math.ceil(n / QUANT_NR) * QUANT_NR;
/** Element index of (p, r) inside a sliver. */
export const slot = (p: number, r: number) => (p >> 1) * 16 + (r >> 2) * 8 + (r & 3) * 2 + (p & 1);


/**
 * f32 → f16 bits, round to nearest even; NaN → quiet NaN, overflow and ±inf → ±65504.
 * @example
 * f32ToF16(1);        // 0x3c00
 * f32ToF16(65520);    // 0x7bff (saturated)
 * f32ToF16(2 ** -25); // 0 (a tie, rounded to even)
 */
export function f32ToF16(x: number): number {
  const b = bitsOf(x), sign = (b >>> 16) & 0x8000, a = b & 0x7fffffff;
  if (a > 0x7f800000) return sign | 0x7e00;
  if (a >= 0x477ff000) return sign | 0x7bff;
  if (a >= 0x38800000) {
    const r = a - 0x38000000;
    return sign | ((r + 0xfff + ((r >>> 13) & 1)) >>> 13);
  }
  return sign | roundEven(fr(fromBits(a) * 16777216));
}

/**
 * f16 bits → the f32 value (exact).
 * @example
 * f16ToF32(0x3c00); // 1
 * f16ToF32(0x0001); // 2^-24
 */
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1024 + m) * 2 ** (e - 25);
}

/**
 * f32 → bf16 bits, round to nearest even; NaN → quiet NaN, overflow and ±inf → ±max finite.
 * @example
 * f32ToBf16(1);               // 0x3f80
 * f32ToBf16(1 + 2 ** -8);     // 0x3f80 (a tie, rounded to even)
 */
export function f32ToBf16(x: number): number {
  const b = bitsOf(x), a = b & 0x7fffffff;
  if (a > 0x7f800000) return (b >>> 16) | 0x40;
  if (a >= 0x7f7f8000) return ((b >>> 16) & 0x8000) | 0x7f7f;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * bf16 bits → the f32 value (exact).
 * @example
 * bf16ToF32(0x3f80); // 1
 */
export const bf16ToF32 = (h: number) => fromBits(h << 16);

/** W(p, j) of op(W) in a weight stored (K,N), or transposed (N,K), row stride ld. */
const weightAt = (w: Float32Array, ld: number, trans: boolean, p: number, j: number) => w[trans ? j * ld + p : p * ld + j]!;

/**
 * Packs the slivers [s0, s1) of op(W) (K,N) as int8 with per-column scales (flags bit 1: W stored (N,K)).
 * @example
 * // W (2,3) → one sliver of 8·2 bytes, scales [1/127, 2/127, 3/127, 0, …]
 * const dst = new Uint8Array(quantizedBytes('int8', 3, 2)), scales = new Float32Array(scalesLength(3));
 * quantPackI8(dst, scales, new Float32Array([1, 2, 3, -1, 0, 1.5]), 3, 2, 3, 0, 0, 1);
 */
export function quantPackI8(dst: Uint8Array, scales: Float32Array, w: Float32Array, n: number, k: number, ldw: number, flags: number, s0: number, s1: number): void {
  const trans = (flags & GEMM_TRANS_B) !== 0, kp = (k + 1) & ~1;
  for (let s = s0; s < s1; s++) {
    const d = s * sliverElems(k);
    for (let r = 0; r < QUANT_NR; r++) {
      const j = s * QUANT_NR + r;
      let amax = 0;
      if (j < n) for (let p = 0; p < k; p++) amax = Math.max(amax, Math.abs(weightAt(w, ldw, trans, p, j)));
      const zero = !(amax >= 2 ** -121);
      const inv = zero ? 0 : fr(127 / amax);
      scales[j] = zero ? 0 : fr(amax / 127);
      for (let p = 0; p < kp; p++) {
        let q = 0;
        if (j < n && p < k) {
          const v = roundEven(fr(weightAt(w, ldw, trans, p, j) * inv));
          q = Number.isNaN(v) ? 0 : Math.min(127, Math.max(-127, v));
        }
        dst[d + slot(p, r)] = q & 0xff;
      }
    }
  }
}

function packHalf(dst: Uint8Array, w: Float32Array, n: number, k: number, ldw: number, flags: number, s0: number, s1: number, convert: (x: number) => number): void {
  const trans = (flags & GEMM_TRANS_B) !== 0, kp = (k + 1) & ~1;
  for (let s = s0; s < s1; s++) {
    const d = s * sliverElems(k);
    for (let p = 0; p < kp; p++) {
      for (let r = 0; r < QUANT_NR; r++) {
        const j = s * QUANT_NR + r;
        const h = j < n && p < k ? convert(weightAt(w, ldw, trans, p, j)) : 0;
        const e = 2 * (d + slot(p, r));
        dst[e] = h & 0xff;
        dst[e + 1] = h >>> 8;
      }
    }
  }
}

/**
 * Packs the slivers [s0, s1) of op(W) (K,N) as f16.
 * @example
 * const dst = new Uint8Array(quantizedBytes('f16', 3, 2));
 * quantPackF16(dst, new Float32Array([1, 2, 3, -1, 0, 1.5]), 3, 2, 3, 0, 0, 1); // dst[0..1] = 00 3c (1.0)
 */
export function quantPackF16(dst: Uint8Array, w: Float32Array, n: number, k: number, ldw: number, flags: number, s0: number, s1: number): void {
  packHalf(dst, w, n, k, ldw, flags, s0, s1, f32ToF16);
}

/**
 * Packs the slivers [s0, s1) of op(W) (K,N) as bf16.
 * @example
 * const dst = new Uint8Array(quantizedBytes('bf16', 3, 2));
 * quantPackBf16(dst, new Float32Array([1, 2, 3, -1, 0, 1.5]), 3, 2, 3, 0, 0, 1); // dst[0..1] = 80 3f (1.0)
 */
export function quantPackBf16(dst: Uint8Array, w: Float32Array, n: number, k: number, ldw: number, flags: number, s0: number, s1: number): void {
  packHalf(dst, w, n, k, ldw, flags, s0, s1, f32ToBf16);
}

/** Element (p, j) of op(W) as stored in a packed weight (1- or 2-byte elements): the raw integer. */
function packedAt(wp: Uint8Array, k: number, p: number, j: number, bytes: 1 | 2): number {
  const e = Math.floor(j / QUANT_NR) * sliverElems(k) + slot(p, j % QUANT_NR);
  if (bytes === 1) return (wp[e]! << 24) >> 24;
  return wp[2 * e]! | (wp[2 * e + 1]! << 8);
}

/**
 * A row x (k) quantized as gemm_q8_f32 does: xq (i16) and sx; sx = NaN for a row with NaN or
 * ±inf, 0 (xq = 0) for a row whose max |x| is below 2^-96.
 * @example
 * quantizeRow(new Float32Array([0.5, -1]), 2); // { q: [16384, -32767], sx: 1/32767 }
 */
export function quantizeRow(x: Float32Array, k: number): { q: Int16Array; sx: number } {
  let amax = 0;
  for (let p = 0; p < k; p++) amax = Math.max(amax, Math.abs(x[p]!));
  const q = new Int16Array(k);
  if (Number.isNaN(amax) || amax === Infinity) return { q, sx: NaN };
  if (!(amax >= 2 ** -96)) return { q, sx: 0 };
  const inv = fr(32767 / amax);
  for (let p = 0; p < k; p++) q[p] = roundEven(fr(x[p]! * inv));
  return { q, sx: fr(amax / 32767) };
}

/** Bytes of one quantized row in a `pre` buffer (K i16 values in pairs, rounded up to 16), and where its rows begin after m scales. */
const rowBytes = (k: number) => (((k + 1) >> 1) * 4 + 15) & ~15;
const rowsAt = (m: number) => (4 * m + 63) & ~63;

/**
 * Bytes quantRowsQ8 writes for m rows of K values (assembly/quant_q8.ts quant_rows_bytes).
 * @example
 * quantRowsBytes(1, 768);   // 64 + 1536
 */
export function quantRowsBytes(m: number, k: number): number {
  return rowsAt(m) + m * rowBytes(k);
}

/**
 * Rows [0, m) of x (row stride ldx) quantized as gemm_q8_f32 does, into `pre` for its `pre`
 * argument: m f32 scales, then each row's i16 values from byte rowsAt(m), rowBytes(k) apart
 * (little-endian, zero past K).
 * @example
 * const pre = new Uint8Array(quantRowsBytes(2, 3));
 * quantRowsQ8(pre, new Float32Array([1, -2, 0.5, 0, 0, 0]), 2, 3, 3);   // row 0: sx = 2/32767, q = [16384, -32767, 8192]; row 1: sx = 0
 */
export function quantRowsQ8(pre: Uint8Array, x: Float32Array, m: number, k: number, ldx: number): void {
  const view = new DataView(pre.buffer, pre.byteOffset, quantRowsBytes(m, k));
  for (let i = 0; i < m; i++) {
    const { q, sx } = quantizeRow(x.subarray(i * ldx), k);
    view.setFloat32(4 * i, sx, true);
    const at = rowsAt(m) + i * rowBytes(k);
    for (let p = 0; p < rowBytes(k) / 2; p++) view.setInt16(at + 2 * p, p < k ? q[p]! : 0, true);
  }
}

/** Row i of a quantRowsQ8 buffer: its i16 values and sx. */
function preRow(pre: Uint8Array, m: number, k: number, i: number): { q: Int16Array; sx: number } {
  const view = new DataView(pre.buffer, pre.byteOffset);
  const at = rowsAt(m) + i * rowBytes(k), q = new Int16Array(k);
  for (let p = 0; p < k; p++) q[p] = view.getInt16(at + 2 * p, true);
  return { q, sx: view.getFloat32(4 * i, true) };
}

/** K = 0: the block of y is the bias (or zero), as the kernels write it. */
function fillRows(y: Float32Array, bias: Float32Array | null, ldy: number, i0: number, i1: number, j0: number, j1: number): void {
  for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) y[i * ldy + j] = bias ? bias[j]! : 0;
}

/**
 * The block y[i0:i1, j0:j1] of y (m,n) = x (m,k) · Wq + bias, Wq int8 with scales: the kernel's bits;
 * act QUANT_GELU: y = gelu(…) of the same values; `pre`: x's m rows already quantized (quantRowsQ8).
 * @example
 * const wq = new Uint8Array(quantizedBytes('int8', 3, 2)), sc = new Float32Array(scalesLength(3));
 * quantPackI8(wq, sc, new Float32Array([1, 2, 3, -1, 0, 1.5]), 3, 2, 3, 0, 0, 1);
 * const y = new Float32Array(3);
 * gemmQ8F32(y, new Float32Array([1, 1]), wq, sc, null, 1, 3, 2, 2, 3, 0, 1, 0, 3); // ≈ [0, 2, 4.5]
 */
export function gemmQ8F32(y: Float32Array, x: Float32Array, wq: Uint8Array, scales: Float32Array, bias: Float32Array | null,
  m: number, n: number, k: number, ldx: number, ldy: number, i0: number, i1: number, j0: number, j1: number, act = 0, pre: Uint8Array | null = null): void {
  i1 = Math.min(i1, m); j1 = Math.min(j1, n);
  if (k <= 0) fillRows(y, bias, ldy, i0, i1, j0, j1);
  else q8Block(y, x, wq, scales, bias, m, k, ldx, ldy, i0, i1, j0, j1, pre);
  if (act === QUANT_GELU) geluBlock(y, ldy, i0, i1, j0, j1);
}

function q8Block(y: Float32Array, x: Float32Array, wq: Uint8Array, scales: Float32Array, bias: Float32Array | null,
  m: number, k: number, ldx: number, ldy: number, i0: number, i1: number, j0: number, j1: number, pre: Uint8Array | null): void {
  for (let i = i0; i < i1; i++) {
    const { q, sx } = pre ? preRow(pre, m, k, i) : quantizeRow(x.subarray(i * ldx), k);
    for (let j = j0; j < j1; j++) {
      let acc = 0;
      for (let b = 0; b < k; b += QUANT_KB) {
        let sum = 0;
        for (let p = b; p < Math.min(k, b + QUANT_KB); p++) sum += q[p]! * packedAt(wq, k, p, j, 1);
        acc = fr(acc + fr(sum));
      }
      let v = fr(acc * fr(sx * scales[j]!));
      if (bias) v = fr(v + bias[j]!);
      y[i * ldy + j] = v;
    }
  }
}

function gemmHalf(y: Float32Array, x: Float32Array, wh: Uint8Array, bias: Float32Array | null, m: number, n: number, k: number,
  ldx: number, ldy: number, i0: number, i1: number, j0: number, j1: number, value: (h: number) => number, act: number): void {
  i1 = Math.min(i1, m); j1 = Math.min(j1, n);
  if (k <= 0) fillRows(y, bias, ldy, i0, i1, j0, j1);
  else {
    for (let i = i0; i < i1; i++) {
      for (let j = j0; j < j1; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) sum += x[i * ldx + p]! * value(packedAt(wh, k, p, j, 2));
        y[i * ldy + j] = bias ? fr(sum + bias[j]!) : fr(sum);
      }
    }
  }
  if (act === QUANT_GELU) geluBlock(y, ldy, i0, i1, j0, j1);
}

/**
 * The block y[i0:i1, j0:j1] of y = x · Wh + bias, Wh f16 (exact sums, one rounding); act as gemmQ8F32's.
 * @example
 * const wh = new Uint8Array(quantizedBytes('f16', 3, 2));
 * quantPackF16(wh, new Float32Array([1, 2, 3, -1, 0, 1.5]), 3, 2, 3, 0, 0, 1);
 * const y = new Float32Array(3);
 * gemmF16F32(y, new Float32Array([1, 1]), wh, null, 1, 3, 2, 2, 3, 0, 1, 0, 3); // [0, 2, 4.5]
 */
export function gemmF16F32(y: Float32Array, x: Float32Array, wh: Uint8Array, bias: Float32Array | null,
  m: number, n: number, k: number, ldx: number, ldy: number, i0: number, i1: number, j0: number, j1: number, act = 0): void {
  gemmHalf(y, x, wh, bias, m, n, k, ldx, ldy, i0, i1, j0, j1, f16ToF32, act);
}

/**
 * The block y[i0:i1, j0:j1] of y = x · Wh + bias, Wh bf16 (exact sums, one rounding); act as gemmQ8F32's.
 * @example
 * const wh = new Uint8Array(quantizedBytes('bf16', 3, 2));
 * quantPackBf16(wh, new Float32Array([1, 2, 3, -1, 0, 1.5]), 3, 2, 3, 0, 0, 1);
 * const y = new Float32Array(3);
 * gemmBf16F32(y, new Float32Array([1, 1]), wh, null, 1, 3, 2, 2, 3, 0, 1, 0, 3); // [0, 2, 4.5]
 */
export function gemmBf16F32(y: Float32Array, x: Float32Array, wh: Uint8Array, bias: Float32Array | null,
  m: number, n: number, k: number, ldx: number, ldy: number, i0: number, i1: number, j0: number, j1: number, act = 0): void {
  gemmHalf(y, x, wh, bias, m, n, k, ldx, ldy, i0, i1, j0, j1, bf16ToF32, act);
}

/**
 * The f32 values of a packed weight, written in its original storage: (K,N) row-major, or with
 * flags bit 1 (N,K) (`out` holds n·k floats). int8: fl(scale_n · q); f16/bf16: exact.
 * @example
 * const out = new Float32Array(6);
 * dequantize(out, 'f16', wh, null, 3, 2, 0); // back to W (2,3), each value rounded to f16
 */
export function dequantize(out: Float32Array, dtype: QuantDType, wp: Uint8Array, scales: Float32Array | null, n: number, k: number, flags: number): void {
  const trans = (flags & GEMM_TRANS_B) !== 0;
  for (let j = 0; j < n; j++) decodeColumn(out, trans ? j * k : j, trans ? 1 : n, dtype, wp, scales, k, j);
}

/** Column j (K values) of a packed op(W) into dst[at + p·step]: int8 fl(scale_j · q), f16 / bf16 exactly. */
function decodeColumn(dst: Float32Array, at: number, step: number, dtype: QuantDType, wp: Uint8Array, scales: Float32Array | null, k: number, j: number): void {
  // one f32 per f16 / bf16 bit pattern: a table makes a model's worth of weights quick
  const table = dtype === 'int8' ? null : halfTable(dtype);
  const base = Math.floor(j / QUANT_NR) * sliverElems(k) + slot(0, j % QUANT_NR), scale = scales ? scales[j]! : 0;
  for (let p = 0; p < k; p++) {
    const e = base + (p >> 1) * 16 + (p & 1);
    dst[at + p * step] = table ? table[wp[2 * e]! | (wp[2 * e + 1]! << 8)]! : fr(scale * ((wp[e]! << 24) >> 24));
  }
}

/** Table formats by the code gather_quant takes. */
export const GATHER_FORMATS: readonly QuantDType[] = ['int8', 'f16', 'bf16'];

/**
 * out (count, k) = rows ids of a table stored (N, K) and packed transposed (`quantPackI8` … with
 * GEMM_TRANS_B: table row j is column j of op(W)), dequantized as `dequantize` does; `fmt` indexes
 * GATHER_FORMATS. Every id must be in [0, N).
 * @example
 * // a (5, 3) table packed as int8 → rows 4 and 0
 * gatherQuant(out, Int32Array.of(4, 0), packed, scales, 2, 3, 0);
 */
export function gatherQuant(out: Float32Array, ids: Int32Array, wp: Uint8Array, scales: Float32Array | null, count: number, k: number, fmt: number): void {
  const dtype = GATHER_FORMATS[fmt]!;
  for (let i = 0; i < count; i++) decodeColumn(out, i * k, 1, dtype, wp, scales, k, ids[i]!);
}

const TABLES: Partial<Record<'f16' | 'bf16', Float32Array>> = {};
function halfTable(dtype: 'f16' | 'bf16'): Float32Array {
  let t = TABLES[dtype];
  if (!t) {
    t = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) t[h] = dtype === 'f16' ? f16ToF32(h) : bf16ToF32(h);
    TABLES[dtype] = t;
  }
  return t;
}
