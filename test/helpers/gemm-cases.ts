// The GEMM test cases shared by the kernel tests (gemm.test.ts, gemm-packed.test.ts): problems,
// their random inputs with NaN padding and sentinels, the f64 reference with its derived bound,
// and the whole-vs-split comparison of a worker pool's blocks.
import { gemmF32, gemmBatchedF32, GEMM_TRANS_A, GEMM_TRANS_B } from '../../src/ref/gemm';
import type { Harness } from './harness';

// Tolerance. Each element is a dot product of K f32 terms, then alpha·s + beta·c + bias.
// Worst-case rounding (Higham, recursive summation): mul+add rounds each product and each
// partial sum, so |fl(s) − s| ≤ γ_{K+1}·Σ|a||b| with γ_n ≈ n·u, u = 2^-24; blocking over K or
// fusing (relaxed fma) only removes roundings. The epilogue adds at most 4 more roundings and
// storing the f64 reference as f32 one more: so, per element,
//   |Δ| ≤ (K + 6)·u·(|alpha|·Σ_p |a_ip||b_pj| + |beta·c_ij| + |bias_j|)
// (second-order terms (K·u)² are negligible for the K used here). The bound is rigorous, not
// tuned: a wrong index or a lost term gives O(1) errors and fails it by orders of magnitude.
export const U = 2 ** -24;
export const SENTINEL = 7777;      // C elements outside the logical (M,N) block: must be left untouched
export const GUARD = 19;           // sentinel elements after the last row of C

export const FORMS = [
  { name: 'A·B', flags: 0 },
  { name: 'A·Bᵀ', flags: GEMM_TRANS_B },
  { name: 'Aᵀ·B', flags: GEMM_TRANS_A },
  { name: 'Aᵀ·Bᵀ', flags: GEMM_TRANS_A | GEMM_TRANS_B },
];
// beta ∈ {0, 1} with and without bias, non-trivial alpha, one general beta; leading dimensions
// larger than the logical width (pad > 0) in most of them.
export const CONFIGS = [
  { alpha: 1, beta: 0, bias: false, pad: 0 },
  { alpha: 1.5, beta: 0, bias: true, pad: 3 },
  { alpha: 1, beta: 1, bias: false, pad: 5 },
  { alpha: -0.75, beta: 1, bias: true, pad: 0 },
  { alpha: 0.5, beta: -2, bias: true, pad: 2 },
];

export interface Problem { m: number; n: number; k: number; flags: number; alpha: number; beta: number; bias: boolean; pad: number }

/** Deterministic uniform [-1, 1) from a string key (mulberry32 over a string hash). */
export function random(key: string): () => number {
  let s = 2166136261;
  for (let i = 0; i < key.length; i++) s = Math.imul(s ^ key.charCodeAt(i), 16777619);
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  };
}

/** A stored matrix (rows, cols) with row stride ld: random inside, NaN in the padding. */
export function matrix(rnd: () => number, rows: number, cols: number, ld: number, fill = NaN): Float32Array {
  const x = new Float32Array(rows * ld).fill(fill);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) x[i * ld + j] = rnd();
  return x;
}

/** Where each matrix of a batch starts: `count` of them `stride` apart, in `outer` groups `outerStride` apart. */
export function starts(count: number, stride: number, outer = 1, outerStride = 0): number[] {
  const at: number[] = [];
  for (let o = 0; o < outer; o++) for (let t = 0; t < count; t++) at.push(o * outerStride + t * stride);
  return at;
}

/** C (count blocks of (m,n), row stride ld, at `at`): `inside` values in the blocks, sentinels elsewhere. */
export function cMatrix(rnd: () => number, m: number, n: number, ld: number, beta: number, at: number[] = [0]): Float32Array {
  const c = new Float32Array(Math.max(...at) + m * ld + GUARD).fill(SENTINEL);
  for (const s of at) {
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) c[s + i * ld + j] = beta === 0 ? NaN : rnd();
  }
  return c;
}

export interface Inputs { a: Float32Array; b: Float32Array; c0: Float32Array; bias: Float32Array | null; lda: number; ldb: number; ldc: number }

/** A second batch level: `count` groups, their A, B, C `a`, `b`, `c` elements apart. */
export interface Outer { count: number; a: number; b: number; c: number }
const ONE: Outer = { count: 1, a: 0, b: 0, c: 0 };

export function inputs(p: Problem, key: string, batch = 1, strides = [0, 0, 0], outer: Outer = ONE): Inputs {
  const rnd = random(key);
  const tA = (p.flags & GEMM_TRANS_A) !== 0, tB = (p.flags & GEMM_TRANS_B) !== 0;
  const [aRows, aCols] = tA ? [p.k, p.m] : [p.m, p.k];
  const [bRows, bCols] = tB ? [p.n, p.k] : [p.k, p.n];
  const lda = aCols + p.pad, ldb = bCols + p.pad, ldc = p.n + p.pad;
  const [sA, sB, sC] = strides;
  const stack = (rows: number, cols: number, ld: number, s: number, os: number) => {
    const at = [...new Set(starts(batch, s, outer.count, os))];      // a shared operand (stride 0) once
    const x = new Float32Array(Math.max(...at) + rows * ld).fill(NaN);
    for (const o of at) x.set(matrix(rnd, rows, cols, ld), o);
    return x;
  };
  return {
    a: stack(aRows, aCols, lda, sA!, outer.a), b: stack(bRows, bCols, ldb, sB!, outer.b),
    c0: cMatrix(rnd, p.m, p.n, ldc, p.beta, starts(batch, sC!, outer.count, outer.c)),
    bias: p.bias ? Float32Array.from({ length: p.n }, rnd) : null, lda, ldb, ldc,
  };
}

/** Expected C and the per-element bound above (0 outside the blocks: sentinels compare exactly). */
export function expected(p: Problem, x: Inputs, batch = 1, strides = [0, 0, 0], outer: Outer = ONE): { c: Float32Array; tol: Float64Array } {
  const c = x.c0.slice(), s = new Float32Array(x.c0.length);
  const absA = x.a.map(Math.abs), absB = x.b.map(Math.abs);
  const [sA, sB, sC] = strides as [number, number, number];
  const o = [outer.count, outer.a, outer.b, outer.c] as const;
  gemmBatchedF32(c, x.a, x.b, x.bias, p.m, p.n, p.k, x.lda, x.ldb, x.ldc, p.flags, p.alpha, p.beta, batch, sA, sB, sC, ...o);
  gemmBatchedF32(s, absA, absB, null, p.m, p.n, p.k, x.lda, x.ldb, x.ldc, p.flags, Math.abs(p.alpha), 0, batch, sA, sB, sC, ...o);
  const tol = new Float64Array(c.length);
  for (const at of starts(batch, sC, outer.count, outer.c)) {
    for (let i = 0; i < p.m; i++) {
      for (let j = 0; j < p.n; j++) {
        const e = at + i * x.ldc + j;
        const cTerm = p.beta === 0 ? 0 : Math.abs(p.beta * x.c0[e]!);
        tol[e] = (p.k + 6) * U * (s[e]! + cTerm + (x.bias ? Math.abs(x.bias[j]!) : 0));
      }
    }
  }
  return { c, tol };
}


/** Reads an exported i32 constant (a WebAssembly.Global). */
export function constant(h: Harness, name: string): number {
  const g = (h.k as unknown as Record<string, WebAssembly.Global | undefined>)[name];
  if (!g) throw new Error(`missing export ${name}`);
  return Number(g.value);
}

export const uniq = (xs: number[]) => [...new Set(xs)].filter((x) => x > 0).sort((a, b) => a - b);

/** Pointers of problem p's operands in wasm memory (the harness reset first), and a `work` area. */
export interface Placed { x: Inputs; pa: number; pb: number; pbias: number; work: number }

/**
 * The whole product of problem p — by gemm_f32, or by `whole` when given — and a second C (same
 * start) for a split run to fill: the pool's kernels must reproduce the first bit for bit (`sameBits`).
 */
export function splitSetup(h: Harness, p: Problem, key: string, whole?: (c: number, at: Placed) => void) {
  const x = inputs(p, key);
  h.reset();
  const pa = h.alloc(x.a.length, x.a), pb = h.alloc(x.b.length, x.b);
  const c = h.alloc(x.c0.length, x.c0), split = h.alloc(x.c0.length, x.c0);
  const pbias = x.bias ? h.alloc(x.bias.length, x.bias) : 0;
  const work = h.alloc(h.k.gemm_workspace_bytes!() / 4);
  if (whole) whole(c, { x, pa, pb, pbias, work });
  else h.k.gemm_f32!(c, pa, pb, pbias, p.m, p.n, p.k, x.lda, x.ldb, x.ldc, p.flags, p.alpha, p.beta, work);
  const sameBits = () => expectSameBits(h, c, split, x.c0.length, `${key}: whole vs split`, x.ldc);
  return { x, pa, pb, pbias, split, work, sameBits };
}

/** Throws unless the n floats at x and y have the same bits, naming the first that differs (row and column for a row stride). */
export function expectSameBits(h: Harness, x: number, y: number, n: number, what: string, ld = n): void {
  const a = h.f32(x, n), b = h.f32(y, n);
  for (let i = 0; i < n; i++) {
    if (!Object.is(a[i], b[i])) throw new Error(`${what}: element ${i} (row ${Math.floor(i / ld)}, col ${i % ld}) ${a[i]} vs ${b[i]}`);
  }
}

/** Cut points from 0 to size on a grid, 1 to 3 grid steps apart, drawn from rnd: a split of C as a pool might make it. */
export function cutsOn(rnd: () => number, size: number, grid: number): number[] {
  const at = [0];
  while (at.at(-1)! < size) at.push(Math.min(size, at.at(-1)! + grid * (1 + Math.floor((rnd() + 1) * 1.5))));
  return at;
}
