// Quantized and half-precision weights (assembly/quant_pack.ts, assembly/quant_gemm.ts) on every
// wasm variant, against their JS twins (src/ref/quant.ts):
// - the f32 → f16 / bf16 conversions against an independent reference (nearest representable
//   value by search, ties to the even code) on the special values — ±0, subnormals, rounding
//   ties, the overflow threshold, ±inf and NaN (saturate / quiet NaN, as stated) — on a random
//   sweep, and every 16-bit code round-tripped; the pack kernels byte for byte = the twins;
// - dequantize(quantize(W)): int8 within scale/2 + 5u·amax per element, f16 / bf16 exact;
// - products: int8 = the twin bit for bit (exact integer sums, same f32 steps); f16 / bf16 within
//   the f32 dot-product bound of the twin's exact sum; every product within the bound that the
//   quantization error model derives from the f32 product (below); any split of Y into blocks =
//   the whole call, bit for bit; GELU in the store (act 1) = the product then gelu_forward, bit for
//   bit (the twin alike); int8 rows quantized once (quant_rows_q8, byte for byte its twin) and read
//   by the product = quantized per block, bit for bit; a row alone = that row in a batch; the threads build split across
//   the pool = the simd build, bit for bit;
// - lookups in a packed table (gather_quant): the rows dequantize gives, bit for bit.
//
// Bounds (u = 2^-24, per output element (i, n), first order):
//   int8: |x − x̂| ≤ ex = sx/2 + 4u·amax_x (x̂ = sx·xq), |W − Ŵ| ≤ ew = s_n/2 + 4u·amax_n
//     (Ŵ = s_n·q; the 4u cover the three f32 roundings of inv, x·inv and the scale), and the
//     kernel's f32 steps on the exact block sums (nb = ⌈K/512⌉ conversions and adds, the scale
//     product, its product, the bias) add ≤ (2nb + 4)·u·(Σ|x̂||Ŵ| + |b|):
//       |y − y_f32| ≤ Σ_k (ex·|W_kn| + (|x_k| + ex)·ew) + (2nb + 4)·u·(Σ_k (|x_k| + ex)(|W_kn| + ew) + |b_n|)
//   f16 / bf16: |W − Ŵ| ≤ ρ|W| + σ (f16 ρ = 2^-11, σ = 2^-25; bf16 ρ = 2^-8, σ = 2^-134), and the
//     f32 dot product of exact products ≤ (K + 3)·u·(Σ|x||Ŵ| + |b|) (+ K·2^-77 for products the
//     f16 path scales below 2^-126):
//       |y − y_twin| ≤ (K + 3)·u·(Σ|x||Ŵ| + |b|) + K·2^-77,   |y − y_f32| ≤ Σ|x|(ρ|W| + σ) + the same
// The bounds are rigorous, not tuned: a wrong index or a lost term misses them by orders of magnitude.
import { describe, it, expect } from 'vitest';
import { harness, VARIANTS, type Harness } from '../helpers/harness';
import { expectClose } from '../helpers/compare';
import { constant, random, cutsOn } from '../helpers/gemm-cases';
import {
  QUANT_NR, QUANT_KB, quantizedBytes, scalesLength, f32ToF16, f16ToF32, f32ToBf16, bf16ToF32,
  quantPackI8, quantPackF16, quantPackBf16, gemmQ8F32, gemmF16F32, gemmBf16F32, dequantize, quantizeRow, gatherQuant, GATHER_FORMATS, QUANT_GELU, quantRowsQ8, quantRowsBytes, type QuantDType,
} from '../../src/ref/quant';
import { GEMM_TRANS_B } from '../../src/ref/gemm';
import { geluForward } from '../../src/ref/activation';

const U = 2 ** -24;
const DTYPES: QuantDType[] = ['int8', 'f16', 'bf16'];
const f32 = Math.fround;

// ---------------------------------------------------------------- reference conversions

/** Every finite non-negative f16 value, by code (0 … 0x7bff), from the format's definition. */
const F16_VALUES = Float64Array.from({ length: 0x7c00 }, (_, h) => {
  const e = h >> 10, m = h & 0x3ff;
  return e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15);
});

/** f32 → f16 by search: the nearest of F16_VALUES, ties to the even code; the stated NaN / overflow policy. */
function refF16(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0, a = Math.abs(x);
  if (a >= 65520) return sign | 0x7bff;
  let lo = 0, hi = 0x7bff;
  while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (F16_VALUES[mid]! <= a) lo = mid; else hi = mid; }
  const dl = a - F16_VALUES[lo]!, dh = F16_VALUES[hi]! - a;
  return sign | (dl < dh ? lo : dh < dl ? hi : (lo & 1 ? hi : lo));
}

/** f32 → bf16 from the two candidates around x (truncated, and one code up), ties to the even code. */
function refBf16(x: number): number {
  const bits = new Uint32Array(new Float32Array([x]).buffer)[0]!;
  if (Number.isNaN(x)) return (bits >>> 16) | 0x40;
  const sign = bits >>> 31 ? 0x8000 : 0, a = Math.abs(x);
  if (a >= 3.3961514283411417e38) return sign | 0x7f7f;     // 0x7f7f8000: from here RNE reaches inf
  const lo = (bits >>> 16) & 0x7fff, hi = lo + 1;
  const dl = a - bf16ToF32(lo), dh = bf16ToF32(hi) - a;
  return sign | (dl < dh ? lo : dh < dl ? hi : (lo & 1 ? hi : lo));
}

const F16_SPECIAL = [0, -0, 2 ** -24, -(2 ** -24), 2 ** -25, f32(2 ** -25 * 1.0000001), 3 * 2 ** -25, 1023 * 2 ** -24, 1023.5 * 2 ** -24,
  2 ** -14, 1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, -(1 + 2 ** -11), 2048 + 1, 2048 + 3, 65504, 65519, 65520, -65520, 1e6, 3.4028234663852886e38,
  Infinity, -Infinity, NaN, 1e-40, -1e-45, 6.1e-5, 0.1, -0.3333333432674408];
const BF16_SPECIAL = [0, -0, 1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8), 2 ** -149, 2 ** -133, 3 * 2 ** -134, 1.1754942106924411e-38,
  3.3895313892515355e38, f32(3.3961514283411417e38 * (1 - 2 ** -24)), 3.4028234663852886e38, Infinity, -Infinity, NaN, -NaN, 0.1, 65504, 1e-40];

/** A stored weight with the given values in its first column(s), random elsewhere. */
function specialWeight(values: number[], n: number): Float32Array {
  const rnd = random('special');
  const w = Float32Array.from({ length: values.length * n }, () => rnd());
  values.forEach((v, p) => { w[p * n] = v; w[p * n + 3] = -v; });
  return w;
}

// ---------------------------------------------------------------- harness helpers

/** Allocates `bytes` bytes (filled with 0xa5: every unwritten byte shows), returns the pointer. */
function allocBytes(h: Harness, bytes: number): number {
  const p = h.alloc(Math.max(1, Math.ceil(bytes / 4)));
  new Uint8Array(h.memory.buffer, p, bytes).fill(0xa5);
  return p;
}
const bytesAt = (h: Harness, p: number, n: number) => new Uint8Array(h.memory.buffer, p, n).slice();

/** Throws unless the `want.length` bytes at pointer p equal `want`, naming the first that differs. */
function expectBytes(h: Harness, p: number, want: Uint8Array, what: string): void {
  const got = new Uint8Array(h.memory.buffer, p, want.length);
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) throw new Error(`${what}: byte ${i} is ${got[i]}, expected ${want[i]}`);
}

/** The pack kernel of `dtype` over slivers [s0, s1). */
function packKernel(h: Harness, dtype: QuantDType, dst: number, scales: number, w: number, n: number, k: number, ldw: number, flags: number, s0: number, s1: number): void {
  if (dtype === 'int8') h.k.quant_pack_i8!(dst, scales, w, n, k, ldw, flags, s0, s1);
  else if (dtype === 'f16') h.k.quant_pack_f16!(dst, w, n, k, ldw, flags, s0, s1);
  else h.k.quant_pack_bf16!(dst, w, n, k, ldw, flags, s0, s1);
}

/** Twin-side results by problem key: they do not depend on the variant, so each is computed once per file. */
const MEMO = new Map<string, unknown>();
function memo<T>(key: string, make: () => T): T {
  if (!MEMO.has(key)) MEMO.set(key, make());
  return MEMO.get(key) as T;
}

/** The twin's packing of op(W) (K,N) in `dtype`: bytes and (int8) scales. */
function packTwin(dtype: QuantDType, w: Float32Array, n: number, k: number, ldw: number, flags: number): { bytes: Uint8Array; scales: Float32Array } {
  const bytes = new Uint8Array(quantizedBytes(dtype, n, k)), scales = new Float32Array(scalesLength(n)), s1 = Math.ceil(n / QUANT_NR);
  if (dtype === 'int8') quantPackI8(bytes, scales, w, n, k, ldw, flags, 0, s1);
  else if (dtype === 'f16') quantPackF16(bytes, w, n, k, ldw, flags, 0, s1);
  else quantPackBf16(bytes, w, n, k, ldw, flags, 0, s1);
  return { bytes, scales };
}

/** The product kernel of `dtype`, block [i0, i1) × [j0, j1). */
function gemmKernel(h: Harness, dtype: QuantDType, y: number, x: number, w: number, scales: number, bias: number,
  m: number, n: number, k: number, ldx: number, ldy: number, work: number, i0: number, i1: number, j0: number, j1: number, act = 0): void {
  if (dtype === 'int8') h.k.gemm_q8_f32!(y, x, w, scales, bias, m, n, k, ldx, ldy, work, i0, i1, j0, j1, act);
  else if (dtype === 'f16') h.k.gemm_f16_f32!(y, x, w, bias, m, n, k, ldx, ldy, work, i0, i1, j0, j1, act);
  else h.k.gemm_bf16_f32!(y, x, w, bias, m, n, k, ldx, ldy, work, i0, i1, j0, j1, act);
}

function gemmTwin(dtype: QuantDType, y: Float32Array, x: Float32Array, w: Uint8Array, scales: Float32Array, bias: Float32Array | null,
  m: number, n: number, k: number, ldx: number, ldy: number): void {
  if (dtype === 'int8') gemmQ8F32(y, x, w, scales, bias, m, n, k, ldx, ldy, 0, m, 0, n);
  else if (dtype === 'f16') gemmF16F32(y, x, w, bias, m, n, k, ldx, ldy, 0, m, 0, n);
  else gemmBf16F32(y, x, w, bias, m, n, k, ldx, ldy, 0, m, 0, n);
}

/** One product problem: x (m, k) with row stride ldx = k + 3, op(W) (k, n) stored (k, n) or (n, k), y row stride n + 2. */
interface Problem { m: number; n: number; k: number; trans: boolean; bias: boolean; scale?: number }
interface Placed {
  p: Problem; key: string; x: Float32Array; w: Float32Array; bias: Float32Array | null; ldx: number; ldw: number; ldy: number;
  px: number; pw: number; pbias: number; work: number;
  packed: Record<QuantDType, { ptr: number; scales: number; bytes: Uint8Array; twinScales: Float32Array }>;
}

const SHAPES: [number, number, number, boolean][] = [
  [1, 13, 7, false], [2, 9, 130, true], [5, 37, 33, false], [17, 21, 1025, true], [1, 64, 768, false],
  [5, 8, 1, true], [17, 70, 96, false], [2, 3, 514, false], [4, 200, 768, false],
];

/** Places problem p in wasm memory (harness reset) and packs W in every format with the kernels. */
function place(h: Harness, p: Problem, key: string): Placed {
  const rnd = random(key), scale = p.scale ?? 1;
  const ldx = p.k + 3, ldw = (p.trans ? p.k : p.n) + 1, ldy = p.n + 2;
  const x = Float32Array.from({ length: p.m * ldx }, (_, i) => (i % ldx < p.k ? rnd() : NaN));
  const rows = p.trans ? p.n : p.k, cols = p.trans ? p.k : p.n;
  const w = Float32Array.from({ length: rows * ldw }, (_, i) => (i % ldw < cols ? rnd() * scale : NaN));
  const bias = p.bias ? Float32Array.from({ length: p.n }, rnd) : null;
  h.reset();
  const px = h.alloc(x.length, x), pw = h.alloc(w.length, w), pbias = bias ? h.alloc(bias.length, bias) : 0;
  const work = h.alloc(h.k.gemm_workspace_bytes!() / 4);
  const flags = p.trans ? GEMM_TRANS_B : 0;
  const packed = {} as Placed['packed'];
  for (const dtype of DTYPES) {
    const ptr = allocBytes(h, quantizedBytes(dtype, p.n, p.k)), scales = h.alloc(scalesLength(p.n));
    packKernel(h, dtype, ptr, scales, pw, p.n, p.k, ldw, flags, 0, Math.ceil(p.n / QUANT_NR));
    const twin = memo(`${key} pack ${dtype}`, () => packTwin(dtype, w, p.n, p.k, ldw, flags));
    packed[dtype] = { ptr, scales, bytes: twin.bytes, twinScales: twin.scales };
  }
  return { p, key, x, w, bias, ldx, ldw, ldy, px, pw, pbias, work, packed };
}

/** y (m, ldy) filled with sentinels; returns its pointer. */
const output = (h: Harness, s: Placed) => h.alloc(s.p.m * s.ldy, new Float32Array(s.p.m * s.ldy).fill(7777));

/** Runs the kernel over the whole of Y. */
function whole(h: Harness, s: Placed, dtype: QuantDType): number {
  const y = output(h, s), q = s.packed[dtype];
  gemmKernel(h, dtype, y, s.px, q.ptr, q.scales, s.pbias, s.p.m, s.p.n, s.p.k, s.ldx, s.ldy, s.work, 0, s.p.m, 0, s.p.n);
  return y;
}

/** The twin's Y (sentinels outside the logical block). */
function twinY(s: Placed, dtype: QuantDType): Float32Array {
  return memo(`${s.key} y ${dtype}`, () => twinYOnce(s, dtype));
}
function twinYOnce(s: Placed, dtype: QuantDType): Float32Array {
  const y = new Float32Array(s.p.m * s.ldy).fill(7777), q = s.packed[dtype];
  gemmTwin(dtype, y, s.x, q.bytes, q.twinScales, s.bias, s.p.m, s.p.n, s.p.k, s.ldx, s.ldy);
  return y;
}

/** op(W)(p, j) of the stored f32 weight. */
const wAt = (s: Placed, p: number, j: number) => s.w[s.p.trans ? j * s.ldw + p : p * s.ldw + j]!;

/** The f64 product x·W + b with the original f32 weight, and the error-model bound of `dtype` per element (0 outside the block). */
function againstF32(s: Placed, dtype: QuantDType): { y: Float64Array; tol: Float64Array; twinTol: Float64Array } {
  return memo(`${s.key} f32 ${dtype}`, () => againstF32Once(s, dtype));
}
function againstF32Once(s: Placed, dtype: QuantDType): { y: Float64Array; tol: Float64Array; twinTol: Float64Array } {
  const { m, n, k } = s.p;
  const y = new Float64Array(m * s.ldy).fill(7777), tol = new Float64Array(m * s.ldy), twinTol = new Float64Array(m * s.ldy);
  const sc = s.packed[dtype].twinScales, nb = Math.ceil(k / QUANT_KB);
  const [rho, sigma] = dtype === 'f16' ? [2 ** -11, 2 ** -25] : [2 ** -8, 2 ** -134];
  for (let i = 0; i < m; i++) {
    const row = s.x.subarray(i * s.ldx, i * s.ldx + k);
    const { sx } = quantizeRow(row, k);
    const amaxX = row.reduce((a, v) => Math.max(a, Math.abs(v)), 0), ex = sx / 2 + 4 * U * amaxX;
    for (let j = 0; j < n; j++) {
      let exact = s.bias ? s.bias[j]! : 0, quant = 0, mag = 0, amaxW = 0;
      for (let p = 0; p < k; p++) amaxW = Math.max(amaxW, Math.abs(wAt(s, p, j)));
      const ew = sc[j]! / 2 + 4 * U * amaxW;
      for (let p = 0; p < k; p++) {
        const xv = row[p]!, wv = wAt(s, p, j);
        exact += xv * wv;
        if (dtype === 'int8') {
          quant += ex * Math.abs(wv) + (Math.abs(xv) + ex) * ew;
          mag += (Math.abs(xv) + ex) * (Math.abs(wv) + ew);
        } else {
          quant += Math.abs(xv) * (rho * Math.abs(wv) + sigma);
          mag += Math.abs(xv) * (Math.abs(wv) * (1 + rho) + sigma);
        }
      }
      const b = s.bias ? Math.abs(s.bias[j]!) : 0, e = i * s.ldy + j;
      y[e] = exact;
      twinTol[e] = dtype === 'int8' ? 0 : (k + 3) * U * (mag + b) + k * 2 ** -77;
      tol[e] = quant + (dtype === 'int8' ? (2 * nb + 4) * U * (mag + b) : twinTol[e]!);
    }
  }
  return { y, tol, twinTol };
}

/** Throws unless the n floats at pointer a equal `b` bit for bit (NaN payloads included). */
function expectBits(h: Harness, a: number, b: Float32Array, what: string, ld: number): void {
  const got = new Uint32Array(h.memory.buffer, a, b.length), want = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < b.length; i++) {
    if (got[i] !== want[i]) throw new Error(`${what}: element ${i} (row ${Math.floor(i / ld)}, col ${i % ld}) ${h.f32(a, b.length)[i]} vs ${b[i]}`);
  }
}

// ---------------------------------------------------------------- tests

describe('f16 / bf16 conversions (twins against an independent reference)', () => {
  it('special values: ±0, subnormals, ties to even, the overflow threshold, ±inf and NaN', () => {
    for (const v of F16_SPECIAL) expect(f32ToF16(v), `f16 of ${v}`).toBe(refF16(f32(v)));
    for (const v of BF16_SPECIAL) expect(f32ToBf16(v), `bf16 of ${v}`).toBe(refBf16(f32(v)));
    // the policy, spelled out
    expect([f32ToF16(2 ** -25), f32ToF16(3 * 2 ** -25), f32ToF16(1 + 2 ** -11), f32ToF16(1 + 3 * 2 ** -11)]).toEqual([0, 2, 0x3c00, 0x3c02]);
    expect([f32ToF16(65519), f32ToF16(65520), f32ToF16(-Infinity), f32ToF16(NaN), f32ToF16(-0)]).toEqual([0x7bff, 0x7bff, 0xfbff, 0x7e00, 0x8000]);
    expect([f32ToBf16(1 + 2 ** -8), f32ToBf16(1 + 3 * 2 ** -8), f32ToBf16(Infinity), f32ToBf16(NaN), f32ToBf16(2 ** -133)]).toEqual([0x3f80, 0x3f82, 0x7f7f, 0x7fc0, 1]);
    expect([f16ToF32(0x0001), f16ToF32(0x03ff), f16ToF32(0x0400), f16ToF32(0x7bff), f16ToF32(0xfc00)]).toEqual([2 ** -24, 1023 * 2 ** -24, 2 ** -14, 65504, -Infinity]);
  });

  it('every 16-bit code round-trips; a random sweep over the exponent range matches the reference', () => {
    for (let h = 0; h < 65536; h++) {
      const v = f16ToF32(h), b = bf16ToF32(h);
      // finite codes come back; ±inf saturates to ±max finite; a NaN stays a NaN
      if (Number.isFinite(v)) expect(f32ToF16(v)).toBe(h); else if (Number.isNaN(v)) expect(f16ToF32(f32ToF16(v))).toBeNaN(); else expect(f32ToF16(v)).toBe((h & 0x8000) | 0x7bff);
      if (Number.isFinite(b)) expect(f32ToBf16(b)).toBe(h); else if (Number.isNaN(b)) expect(bf16ToF32(f32ToBf16(b))).toBeNaN(); else expect(f32ToBf16(b)).toBe((h & 0x8000) | 0x7f7f);
    }
    const rnd = random('sweep');
    for (let i = 0; i < 20000; i++) {
      const v = f32((rnd() < 0 ? -1 : 1) * (1 + rnd()) * 2 ** Math.floor(rnd() * 24 - 8));   // 2^-32 … 2^16
      expect(f32ToF16(v), `f16 of ${v}`).toBe(refF16(v));
      const b = f32((1 + rnd()) * 2 ** Math.floor(rnd() * 140));
      expect(f32ToBf16(b), `bf16 of ${b}`).toBe(refBf16(b));
    }
  });
});

describe.each(VARIANTS)('quantized weights %s', (variant) => {
  it('constants: 8 columns per sliver, exact int8 blocks of 512 k', () => {
    const h = harness(variant);
    expect(constant(h, 'QUANT_NR')).toBe(QUANT_NR);
    expect(constant(h, 'QUANT_KB')).toBe(QUANT_KB);
  });

  it('the pack kernels convert the special values as the twins do, byte for byte', () => {
    const h = harness(variant);
    for (const [dtype, values] of [['f16', F16_SPECIAL], ['bf16', BF16_SPECIAL]] as const) {
      const n = 11, k = values.length, w = specialWeight(values, n);
      const wt = Float32Array.from({ length: n * k }, (_, i) => w[(i % k) * n + Math.floor(i / k)]!);   // the same op(W) stored (N,K)
      for (const [stored, flags] of [[w, 0], [wt, GEMM_TRANS_B]] as const) {
        h.reset();
        const pw = h.alloc(stored.length, stored), dst = allocBytes(h, quantizedBytes(dtype, n, k)), ld = flags ? k : n;
        packKernel(h, dtype, dst, 0, pw, n, k, ld, flags, 0, 2);
        expectBytes(h, dst, packTwin(dtype, stored, n, k, ld, flags).bytes, `${dtype} special values, flags ${flags}`);
      }
    }
  });

  it('pack kernels = twins, byte for byte and scale for scale, either storage, any sliver ranges', () => {
    const h = harness(variant);
    for (const [n, k] of [[1, 1], [7, 3], [8, 5], [9, 17], [37, 130], [67, 9], [13, 1030]] as const) {
      for (const flags of [0, GEMM_TRANS_B]) {
        const rnd = random(`pack ${n} ${k} ${flags}`), ldw = (flags ? k : n) + 2;
        const w = Float32Array.from({ length: (flags ? n : k) * ldw }, () => rnd());
        for (let p = 0; p < k; p++) {     // column 2 all zero, column 5 tiny (scale 0), column 6 exact ties at scale 1
          const at = (j: number) => (flags ? j * ldw + p : p * ldw + j);
          if (n > 2) w[at(2)] = 0;
          if (n > 5) w[at(5)] = 1e-38 * rnd();
          if (n > 6) w[at(6)] = p === 0 ? 127 : Math.round(rnd() * 60) + 0.5;
        }
        h.reset();
        const pw = h.alloc(w.length, w), slivers = Math.ceil(n / QUANT_NR);
        for (const dtype of DTYPES) {
          const twin = packTwin(dtype, w, n, k, ldw, flags), size = quantizedBytes(dtype, n, k);
          for (const pieces of [1, 2, 3]) {
            const dst = allocBytes(h, size), sc = h.alloc(scalesLength(n), new Float32Array(scalesLength(n)).fill(NaN));
            const step = Math.max(1, Math.ceil(slivers / pieces));
            for (let s = Math.floor((slivers - 1) / step) * step; s >= 0; s -= step) packKernel(h, dtype, dst, sc, pw, n, k, ldw, flags, s, Math.min(slivers, s + step));
            const what = `${dtype} n${n} k${k} flags ${flags} pieces ${pieces}`;
            expectBytes(h, dst, twin.bytes, what);
            if (dtype === 'int8') expectBits(h, sc, twin.scales, `${what} scales`, n);
          }
        }
        if (n > 6) {   // the twin itself: zero and tiny columns have scale 0 and q 0; ties round to even
          const { bytes, scales } = packTwin('int8', w, n, k, ldw, flags);
          expect([scales[2], scales[5], scales[6]]).toEqual([0, 0, 1]);
          const q = (p: number, r: number) => (bytes[(p >> 1) * 16 + (r >> 2) * 8 + (r & 3) * 2 + (p & 1)]! << 24) >> 24;
          for (let p = 0; p < k; p++) {
            expect([q(p, 2), q(p, 5)]).toEqual([0, 0]);
            const v = w[flags ? 6 * ldw + p : p * ldw + 6]!;
            expect(q(p, 6)).toBe(p === 0 ? 127 : 2 * Math.round(v / 2) + 0);   // v = m + 0.5: the even neighbour
          }
        }
      }
    }
  });

  it('gather_quant: rows of a packed (V, K) table = the twin = dequantize\'s rows, bit for bit (every sliver lane, odd K, subnormal halves)', () => {
    const h = harness(variant);
    for (const [v, k] of [[19, 33], [8, 1], [300, 64], [13, 2]] as const) {
      const rnd = random(`gather ${v} ${k}`);
      // some tiny values: f16 subnormals (and bf16 ones far below), exact powers of two
      const w = Float32Array.from({ length: v * k }, () => rnd() * (rnd() < -0.8 ? 1e-6 : 1));
      const ids = Int32Array.from({ length: 2 * v + 3 }, (_, i) => (i < v ? i : Math.floor((rnd() + 1) / 2 * v) % v));
      h.reset();
      const pw = h.alloc(w.length, w);
      const pid = h.alloc(ids.length);
      new Int32Array(h.memory.buffer, pid, ids.length).set(ids);
      for (const dtype of DTYPES) {
        const size = quantizedBytes(dtype, v, k), dst = allocBytes(h, size), sc = h.alloc(scalesLength(v));
        packKernel(h, dtype, dst, sc, pw, v, k, k, GEMM_TRANS_B, 0, Math.ceil(v / QUANT_NR));
        const bytes = bytesAt(h, dst, size), scales = dtype === 'int8' ? h.f32(sc, scalesLength(v)).slice() : null;
        const table = new Float32Array(v * k);
        dequantize(table, dtype, bytes, scales, v, k, GEMM_TRANS_B);
        const want = new Float32Array(ids.length * k);
        ids.forEach((id, i) => want.set(table.subarray(id * k, (id + 1) * k), i * k));
        const twin = new Float32Array(ids.length * k);
        gatherQuant(twin, ids, bytes, scales, ids.length, k, GATHER_FORMATS.indexOf(dtype));
        expect(Array.from(twin)).toEqual(Array.from(want));
        const out = h.alloc(ids.length * k);
        h.k.gather_quant!(out, pid, dst, dtype === 'int8' ? sc : 0, ids.length, k, GATHER_FORMATS.indexOf(dtype));
        expectBits(h, out, want, `gather ${dtype} ${v}x${k}`, k);
      }
    }
  });

  it('dequantize(quantize(W)): int8 within scale/2 + 5u·amax per element, f16 and bf16 exactly the rounded values', () => {
    const h = harness(variant);
    for (const [n, k, flags] of [[37, 130, 0], [19, 33, GEMM_TRANS_B], [8, 1, 0]] as const) {
      const rnd = random(`round trip ${n} ${k}`), ldw = flags ? k : n;
      const w = Float32Array.from({ length: n * k }, () => rnd() * (rnd() < -0.9 ? 1e-6 : 1));
      h.reset();
      const pw = h.alloc(w.length, w);
      for (const dtype of DTYPES) {
        const size = quantizedBytes(dtype, n, k), dst = allocBytes(h, size), sc = h.alloc(scalesLength(n));
        packKernel(h, dtype, dst, sc, pw, n, k, ldw, flags, 0, Math.ceil(n / QUANT_NR));
        const back = new Float32Array(n * k), scales = h.f32(sc, scalesLength(n)).slice();
        dequantize(back, dtype, bytesAt(h, dst, size), scales, n, k, flags);
        for (let i = 0; i < w.length; i++) {
          const j = flags ? Math.floor(i / k) : i % n, v = w[i]!;
          if (dtype === 'int8') {
            let amax = 0;
            for (let p = 0; p < k; p++) amax = Math.max(amax, Math.abs(w[flags ? j * k + p : p * n + j]!));
            const bound = scales[j]! / 2 + 5 * U * amax;
            if (!(Math.abs(back[i]! - v) <= bound)) throw new Error(`int8 ${n}x${k} element ${i}: ${back[i]} vs ${v}, bound ${bound}`);
          } else {
            const want = dtype === 'f16' ? f16ToF32(refF16(v)) : bf16ToF32(refBf16(v));
            if (!Object.is(back[i], f32(want))) throw new Error(`${dtype} element ${i}: ${back[i]} vs ${want}`);
          }
        }
      }
    }
  });

  it.each(DTYPES)('%s products: the twin (int8 bit for bit, half within the f32 bound), the f32 product within the quantization bound', (dtype) => {
    const h = harness(variant);
    for (const [m, n, k, trans] of SHAPES) {
      for (const bias of [false, true]) {
        const key = `${dtype} m${m} n${n} k${k} ${trans} ${bias}`;
        const s = place(h, { m, n, k, trans, bias }, key);
        expectBytes(h, s.packed[dtype].ptr, s.packed[dtype].bytes, `${key}: packing`);
        const y = whole(h, s, dtype), twin = twinY(s, dtype), ref = againstF32(s, dtype);
        if (dtype === 'int8') expectBits(h, y, twin, `${key}: kernel vs twin`, s.ldy);
        else expectClose(h.f32(y, twin.length), twin, ref.twinTol, `${key}: kernel vs twin`, { cols: s.ldy });
        expectClose(h.f32(y, twin.length), ref.y, ref.tol, `${key}: kernel vs f32 product`, { cols: s.ldy });
      }
    }
  });

  it('half products on subnormal-heavy f16 weights, and K at the op\'s limit (rows in several chunks of the workspace)', () => {
    const h = harness(variant);
    for (const [p, key] of [[{ m: 5, n: 19, k: 257, trans: false, bias: true, scale: 2e-5 }, 'tiny'], [{ m: 17, n: 9, k: 40000, trans: true, bias: true }, 'long']] as const) {
      const s = place(h, p, key);
      for (const dtype of DTYPES) {
        const y = whole(h, s, dtype), twin = twinY(s, dtype), ref = againstF32(s, dtype);
        if (dtype === 'int8') expectBits(h, y, twin, `${key} int8: kernel vs twin`, s.ldy);
        else expectClose(h.f32(y, twin.length), twin, ref.twinTol, `${key} ${dtype}: kernel vs twin`, { cols: s.ldy });
        expectClose(h.f32(y, twin.length), ref.y, ref.tol, `${key} ${dtype}: kernel vs f32 product`, { cols: s.ldy });
      }
    }
  });

  it('any split of Y into blocks (columns on the sliver grid; rows anywhere, or on the tile grid) = the whole call, bit for bit', () => {
    const h = harness(variant);
    for (const [m, n, k, trans] of SHAPES) {
      const s = place(h, { m, n, k, trans, bias: true }, `blocks m${m} n${n} k${k}`);
      for (const dtype of DTYPES) {
        const y = whole(h, s, dtype), want = h.f32(y, s.p.m * s.ldy).slice();
        const split = output(h, s), q = s.packed[dtype], rnd = random(`cuts ${dtype} ${m} ${n}`);
        // half formats beyond GEMM_SMALL_M rows run gemm_packed_f32: rows on its tile grid
        const rows = cutsOn(rnd, m, dtype !== 'int8' && m > constant(h, 'GEMM_SMALL_M') ? constant(h, 'GEMM_MR') : 1), cols = cutsOn(rnd, n, QUANT_NR);
        for (let r = 1; r < rows.length; r++) {
          for (let c = 1; c < cols.length; c++) {
            gemmKernel(h, dtype, split, s.px, q.ptr, q.scales, s.pbias, m, n, k, s.ldx, s.ldy, s.work, rows[r - 1]!, rows[r]!, cols[c - 1]!, cols[c]!);
          }
        }
        expectBits(h, split, want, `${dtype} m${m} n${n} k${k}: blocks vs whole`, s.ldy);
      }
    }
  });

  it('GELU in the store (act 1) = the product, then gelu_forward, bit for bit, in any split of Y into blocks', () => {
    const h = harness(variant);
    for (const [m, n, k, trans] of [...SHAPES, [3, 11, 0, false] as [number, number, number, boolean]]) {
      const s = place(h, { m, n, k, trans, bias: true }, `gelu m${m} n${n} k${k}`);
      for (const dtype of DTYPES) {
        const y = whole(h, s, dtype);
        for (let i = 0; i < m; i++) h.k.gelu_forward!(y + 4 * i * s.ldy, y + 4 * i * s.ldy, n);   // the separate activation, in place
        const want = h.f32(y, m * s.ldy).slice();
        const fused = output(h, s), q = s.packed[dtype], rnd = random(`gelu cuts ${dtype} ${m} ${n}`);
        const rows = cutsOn(rnd, m, dtype !== 'int8' && m > constant(h, 'GEMM_SMALL_M') ? constant(h, 'GEMM_MR') : 1), cols = cutsOn(rnd, n, QUANT_NR);
        for (let r = 1; r < rows.length; r++) {
          for (let c = 1; c < cols.length; c++) {
            gemmKernel(h, dtype, fused, s.px, q.ptr, q.scales, s.pbias, m, n, k, s.ldx, s.ldy, s.work, rows[r - 1]!, rows[r]!, cols[c - 1]!, cols[c]!, QUANT_GELU);
          }
        }
        expectBits(h, fused, want, `${dtype} m${m} n${n} k${k}: GELU in the store vs product then gelu_forward`, s.ldy);
        // the twin alike: its product, then its GELU
        const twin = twinY(s, dtype).slice(), twinFused = new Float32Array(m * s.ldy).fill(7777);
        for (let i = 0; i < m; i++) geluForward(twin.subarray(i * s.ldy, i * s.ldy + n), twin.subarray(i * s.ldy, i * s.ldy + n), n);
        if (dtype === 'int8') gemmQ8F32(twinFused, s.x, q.bytes, q.twinScales, s.bias, m, n, k, s.ldx, s.ldy, 0, m, 0, n, QUANT_GELU);
        else (dtype === 'f16' ? gemmF16F32 : gemmBf16F32)(twinFused, s.x, q.bytes, s.bias, m, n, k, s.ldx, s.ldy, 0, m, 0, n, QUANT_GELU);
        for (let e = 0; e < twin.length; e++) if (!Object.is(twin[e], twinFused[e])) throw new Error(`${dtype} m${m} n${n} k${k}: twin GELU in the store, element ${e}: ${twinFused[e]} vs ${twin[e]}`);
      }
    }
  });

  it('int8 rows quantized once (quant_rows_q8 = its twin, byte for byte), then read by the product (pre) = quantized per block, bit for bit', () => {
    const h = harness(variant);
    for (const [m, n, k, trans] of [...SHAPES, [3, 11, 0, false] as [number, number, number, boolean], [6, 20, 5, false] as [number, number, number, boolean]]) {
      const s = place(h, { m, n, k, trans, bias: true }, `pre m${m} n${n} k${k}`);
      if (m >= 6) for (let p = 0; p < k; p++) s.x[5 * s.ldx + p] = 0;   // a zero row (sx 0) among them
      h.f32(s.px, s.x.length).set(s.x);
      const bytes = h.k.quant_rows_bytes!(m, k);
      expect(bytes).toBe(quantRowsBytes(m, k));
      const pre = allocBytes(h, bytes + 64);
      new Uint8Array(h.memory.buffer, pre, bytes + 64).fill(0xa5);
      h.k.quant_rows_q8!(pre, s.px, m, k, s.ldx);
      const twinPre = new Uint8Array(bytes + 64).fill(0xa5);
      quantRowsQ8(twinPre, s.x, m, k, s.ldx);
      const got = new Uint8Array(h.memory.buffer, pre, bytes + 64);
      const bad = got.findIndex((b, i) => b !== twinPre[i]);
      expect(bad, `m${m} k${k}: quant_rows_q8 byte ${bad}: ${got[bad]} vs twin ${twinPre[bad]}`).toBe(-1);
      const q = s.packed.int8, want = h.f32(whole(h, s, 'int8'), m * s.ldy).slice();
      const split = output(h, s), rnd = random(`pre cuts ${m} ${n}`);
      const rows = cutsOn(rnd, m, 1), cols = cutsOn(rnd, n, QUANT_NR);
      for (let r = 1; r < rows.length; r++) {
        for (let c = 1; c < cols.length; c++) {
          h.k.gemm_q8_f32!(split, s.px, q.ptr, q.scales, s.pbias, m, n, k, s.ldx, s.ldy, s.work, rows[r - 1]!, rows[r]!, cols[c - 1]!, cols[c]!, 0, pre);
        }
      }
      expectBits(h, split, want, `int8 m${m} n${n} k${k}: pre vs quantized per block`, s.ldy);
      // the twin with its own pre = the twin quantizing as it goes
      const a = new Float32Array(m * s.ldy).fill(7777), b = a.slice();
      gemmQ8F32(a, s.x, q.bytes, q.twinScales, s.bias, m, n, k, s.ldx, s.ldy, 0, m, 0, n);
      gemmQ8F32(b, s.x, q.bytes, q.twinScales, s.bias, m, n, k, s.ldx, s.ldy, 0, m, 0, n, 0, twinPre);
      expect(b.findIndex((v, i) => !Object.is(v, a[i]))).toBe(-1);
    }
  });

  it('each row alone = the same row in a batch (int8: any, f16 / bf16: up to GEMM_SMALL_M rows), bit for bit', () => {
    const h = harness(variant);
    for (const [n, k] of [[37, 130], [16, 7], [70, 1], [9, 1025]] as const) {
      const s = place(h, { m: 17, n, k, trans: false, bias: true }, `rows alone ${n} ${k}`);
      for (const dtype of DTYPES) {
        const q = s.packed[dtype], alone = output(h, s);
        for (let i = 0; i < 17; i++) {
          gemmKernel(h, dtype, alone + 4 * i * s.ldy, s.px + 4 * i * s.ldx, q.ptr, q.scales, s.pbias, 1, n, k, s.ldx, s.ldy, s.work, 0, 1, 0, n);
        }
        const want = h.f32(alone, 17 * s.ldy).slice();
        for (const m of dtype === 'int8' ? [2, 3, 5, 16, 17] : [2, 3, 5, 6, 7, 16]) {
          const together = output(h, s);
          gemmKernel(h, dtype, together, s.px, q.ptr, q.scales, s.pbias, m, n, k, s.ldx, s.ldy, s.work, 0, m, 0, n);
          expectBits(h, together, want.subarray(0, m * s.ldy), `${dtype} n${n} k${k} m${m}: batch vs rows alone`, s.ldy);
        }
      }
    }
  });

  it('f16 / bf16 beyond GEMM_SMALL_M rows = gemm_packed_f32 on the dequantized weight, bit for bit', () => {
    const h = harness(variant);
    for (const [m, n, k, trans] of [[17, 70, 96, false], [17, 21, 1025, true], [40, 37, 33, false]] as const) {
      const s = place(h, { m, n, k, trans, bias: true }, `prefill m${m} n${n} k${k}`);
      for (const dtype of ['f16', 'bf16'] as const) {
        const wf = new Float32Array(n * k);                        // op(W) (K,N), row-major
        dequantize(wf, dtype, s.packed[dtype].bytes, null, n, k, 0);
        const pwf = h.alloc(wf.length, wf), bp = h.alloc(Math.ceil(n / 8) * 8 * k);
        h.k.pack_weight_f32!(bp, pwf, n, k, n, 0, 0, Math.ceil(n / 8));
        const want = output(h, s);
        h.k.gemm_packed_f32!(want, s.px, bp, s.pbias, m, n, k, s.ldx, s.ldy, 0, 1, 0, s.work, 0, m, 0, n);
        const y = whole(h, s, dtype);
        expectBits(h, y, h.f32(want, m * s.ldy).slice(), `${dtype} m${m} n${n} k${k}: vs gemm_packed_f32`, s.ldy);
      }
    }
  });

  it('int8 rows: NaN or ±inf in a row gives NaN in its outputs, a zero or tiny row gives the bias; K = 0 gives the bias', () => {
    const h = harness(variant);
    const s = place(h, { m: 5, n: 11, k: 20, trans: false, bias: true }, 'int8 edge rows');
    const x = h.f32(s.px, s.x.length);
    x[0] = NaN; x[s.ldx + 3] = Infinity;
    for (let p = 0; p < 20; p++) { x[2 * s.ldx + p] = 0; x[3 * s.ldx + p] = 1e-30; }
    const y = whole(h, s, 'int8'), out = h.f32(y, 5 * s.ldy);
    for (let j = 0; j < 11; j++) {
      expect(out[j]).toBeNaN();
      expect(out[s.ldy + j]).toBeNaN();
      expect(out[2 * s.ldy + j]).toBe(s.bias![j]);
      expect(out[3 * s.ldy + j]).toBe(s.bias![j]);
      expect(Number.isFinite(out[4 * s.ldy + j])).toBe(true);
    }
    for (const dtype of DTYPES) {
      const y0 = output(h, s), q = s.packed[dtype];
      gemmKernel(h, dtype, y0, s.px, q.ptr, q.scales, s.pbias, 2, 11, 0, s.ldx, s.ldy, s.work, 0, 2, 0, 11);
      expect(Array.from(h.f32(y0 + 4 * s.ldy, 11)), `${dtype} K = 0`).toEqual(Array.from(s.bias!));
    }
  });
});

describe('quantized weights, threads', () => {
  it('products and packing split across the pool = the simd build, bit for bit (the workers ran tasks)', () => {
    const simd = harness('simd'), threads = harness('threads');
    expect(threads.rt.threads).toBeGreaterThan(1);
    for (const [m, n, k, trans] of [[1, 768, 768, false], [4, 300, 1030, true], [17, 64, 768, false]] as const) {
      const key = `threads m${m} n${n} k${k}`;
      const a = place(simd, { m, n, k, trans, bias: true }, key);
      const jobs = threads.rt.threadStats.jobs;
      const b = place(threads, { m, n, k, trans, bias: true }, key);
      for (const dtype of DTYPES) {
        expectBytes(threads, b.packed[dtype].ptr, b.packed[dtype].bytes, `${key} ${dtype}: packing`);
        const want = simd.f32(whole(simd, a, dtype), m * a.ldy).slice();
        expectBits(threads, whole(threads, b, dtype), want, `${key} ${dtype}: threads vs simd`, b.ldy);
      }
      expect(threads.rt.threadStats.jobs, `${key}: split calls`).toBeGreaterThanOrEqual(jobs + 3);   // at least the three products
    }
  });
});
