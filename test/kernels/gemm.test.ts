// gemm_f32 / gemm_batched_f32 on every wasm variant against the JS twin (src/ref/gemm.ts):
// all four storage forms, alpha/beta/bias epilogues, strided submatrices (NaN in the padding,
// sentinels around C that must survive), and sizes enumerated from the kernel's own tile and
// block constants so every tail and block edge of the micro-kernel, packing and driver runs.
import { describe, it, expect, beforeAll } from 'vitest';
import { harness, VARIANTS, type Harness } from '../helpers/harness';
import { expectClose } from '../helpers/compare';
import { gemmF32, gemmBatchedF32, GEMM_TRANS_A, GEMM_TRANS_B, GEMV_KC } from '../../src/ref/gemm';

// Tolerance. Each element is a dot product of K f32 terms, then alpha·s + beta·c + bias.
// Worst-case rounding (Higham, recursive summation): mul+add rounds each product and each
// partial sum, so |fl(s) − s| ≤ γ_{K+1}·Σ|a||b| with γ_n ≈ n·u, u = 2^-24; blocking over K or
// fusing (relaxed fma) only removes roundings. The epilogue adds at most 4 more roundings and
// storing the f64 reference as f32 one more: so, per element,
//   |Δ| ≤ (K + 6)·u·(|alpha|·Σ_p |a_ip||b_pj| + |beta·c_ij| + |bias_j|)
// (second-order terms (K·u)² are negligible for the K used here). The bound is rigorous, not
// tuned: a wrong index or a lost term gives O(1) errors and fails it by orders of magnitude.
const U = 2 ** -24;
const SENTINEL = 7777;      // C elements outside the logical (M,N) block: must be left untouched
const GUARD = 19;           // sentinel elements after the last row of C

const FORMS = [
  { name: 'A·B', flags: 0 },
  { name: 'A·Bᵀ', flags: GEMM_TRANS_B },
  { name: 'Aᵀ·B', flags: GEMM_TRANS_A },
  { name: 'Aᵀ·Bᵀ', flags: GEMM_TRANS_A | GEMM_TRANS_B },
];
// beta ∈ {0, 1} with and without bias, non-trivial alpha, one general beta; leading dimensions
// larger than the logical width (pad > 0) in most of them.
const CONFIGS = [
  { alpha: 1, beta: 0, bias: false, pad: 0 },
  { alpha: 1.5, beta: 0, bias: true, pad: 3 },
  { alpha: 1, beta: 1, bias: false, pad: 5 },
  { alpha: -0.75, beta: 1, bias: true, pad: 0 },
  { alpha: 0.5, beta: -2, bias: true, pad: 2 },
];

interface Problem { m: number; n: number; k: number; flags: number; alpha: number; beta: number; bias: boolean; pad: number }

/** Deterministic uniform [-1, 1) from a string key (mulberry32 over a string hash). */
function random(key: string): () => number {
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
function matrix(rnd: () => number, rows: number, cols: number, ld: number, fill = NaN): Float32Array {
  const x = new Float32Array(rows * ld).fill(fill);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) x[i * ld + j] = rnd();
  return x;
}

/** C (count blocks of (m,n), row stride ld, `stride` apart): `inside` values in the blocks, sentinels elsewhere. */
function cMatrix(rnd: () => number, m: number, n: number, ld: number, beta: number, count = 1, stride = 0): Float32Array {
  const c = new Float32Array((count - 1) * stride + m * ld + GUARD).fill(SENTINEL);
  for (let t = 0; t < count; t++) {
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) c[t * stride + i * ld + j] = beta === 0 ? NaN : rnd();
  }
  return c;
}

interface Inputs { a: Float32Array; b: Float32Array; c0: Float32Array; bias: Float32Array | null; lda: number; ldb: number; ldc: number }

function inputs(p: Problem, key: string, batch = 1, strides = [0, 0, 0]): Inputs {
  const rnd = random(key);
  const tA = (p.flags & GEMM_TRANS_A) !== 0, tB = (p.flags & GEMM_TRANS_B) !== 0;
  const [aRows, aCols] = tA ? [p.k, p.m] : [p.m, p.k];
  const [bRows, bCols] = tB ? [p.n, p.k] : [p.k, p.n];
  const lda = aCols + p.pad, ldb = bCols + p.pad, ldc = p.n + p.pad;
  const [sA, sB, sC] = strides;
  const stack = (rows: number, cols: number, ld: number, s: number) => {
    const one = rows * ld, x = new Float32Array((batch - 1) * s + one).fill(NaN);
    for (let t = 0; t < batch; t++) if (t === 0 || s !== 0) x.set(matrix(rnd, rows, cols, ld), t * s);
    return x;
  };
  return {
    a: stack(aRows, aCols, lda, sA!), b: stack(bRows, bCols, ldb, sB!),
    c0: cMatrix(rnd, p.m, p.n, ldc, p.beta, batch, sC!),
    bias: p.bias ? Float32Array.from({ length: p.n }, rnd) : null, lda, ldb, ldc,
  };
}

/** Expected C and the per-element bound above (0 outside the blocks: sentinels compare exactly). */
function expected(p: Problem, x: Inputs, batch = 1, strides = [0, 0, 0]): { c: Float32Array; tol: Float64Array } {
  const c = x.c0.slice(), s = new Float32Array(x.c0.length);
  const absA = x.a.map(Math.abs), absB = x.b.map(Math.abs);
  const [sA, sB, sC] = strides as [number, number, number];
  gemmBatchedF32(c, x.a, x.b, x.bias, p.m, p.n, p.k, x.lda, x.ldb, x.ldc, p.flags, p.alpha, p.beta, batch, sA, sB, sC);
  gemmBatchedF32(s, absA, absB, null, p.m, p.n, p.k, x.lda, x.ldb, x.ldc, p.flags, Math.abs(p.alpha), 0, batch, sA, sB, sC);
  const tol = new Float64Array(c.length);
  for (let t = 0; t < batch; t++) {
    for (let i = 0; i < p.m; i++) {
      for (let j = 0; j < p.n; j++) {
        const e = t * sC + i * x.ldc + j;
        const cTerm = p.beta === 0 ? 0 : Math.abs(p.beta * x.c0[e]!);
        tol[e] = (p.k + 6) * U * (s[e]! + cTerm + (x.bias ? Math.abs(x.bias[j]!) : 0));
      }
    }
  }
  return { c, tol };
}

const refCache = new Map<string, { c: Float32Array; tol: Float64Array }>();   // shared by the variants

function check(h: Harness, p: Problem, label: string, batch = 0, strides = [0, 0, 0]): void {
  const key = `${label} m${p.m} n${p.n} k${p.k} f${p.flags} a${p.alpha} b${p.beta} bias${p.bias} pad${p.pad} batch${batch} s${strides}`;
  const x = inputs(p, key, Math.max(batch, 1), strides);
  let want = refCache.get(key);
  if (!want) refCache.set(key, (want = expected(p, x, Math.max(batch, 1), strides)));
  h.reset();
  const pa = h.alloc(x.a.length, x.a), pb = h.alloc(x.b.length, x.b), pc = h.alloc(x.c0.length, x.c0);
  const pbias = x.bias ? h.alloc(x.bias.length, x.bias) : 0;
  const work = h.alloc(h.k.gemm_workspace_bytes!() / 4);
  if (batch === 0) {
    h.k.gemm_f32!(pc, pa, pb, pbias, p.m, p.n, p.k, x.lda, x.ldb, x.ldc, p.flags, p.alpha, p.beta, work);
  } else {
    h.k.gemm_batched_f32!(pc, pa, pb, pbias, p.m, p.n, p.k, x.lda, x.ldb, x.ldc, p.flags, p.alpha, p.beta, work,
      batch, strides[0]!, strides[1]!, strides[2]!);
  }
  expectClose(h.f32(pc, x.c0.length), want.c, want.tol, key, { cols: x.ldc });
}

/** Reads an exported i32 constant (a WebAssembly.Global). */
function constant(h: Harness, name: string): number {
  const g = (h.k as unknown as Record<string, WebAssembly.Global | undefined>)[name];
  if (!g) throw new Error(`missing export ${name}`);
  return Number(g.value);
}

const uniq = (xs: number[]) => [...new Set(xs)].filter((x) => x > 0).sort((a, b) => a - b);

describe.each(VARIANTS)('gemm %s', (variant) => {
  let h: Harness;
  let T: Record<'MR' | 'NR' | 'KC' | 'MC' | 'NC' | 'SMALL_M' | 'SMALL_R' | 'SMALL_KC' | 'GEMV_NB' | 'WORK', number>;
  beforeAll(() => {
    h = harness(variant);
    T = {
      MR: constant(h, 'GEMM_MR'), NR: constant(h, 'GEMM_NR'), KC: constant(h, 'GEMM_KC'),
      MC: constant(h, 'GEMM_MC'), NC: constant(h, 'GEMM_NC'), SMALL_M: constant(h, 'GEMM_SMALL_M'),
      SMALL_R: constant(h, 'GEMM_SMALL_R'), SMALL_KC: constant(h, 'GEMM_SMALL_KC'), GEMV_NB: constant(h, 'GEMM_GEMV_NB'),
      WORK: h.k.gemm_workspace_bytes!(),
    };
  });

  it('has consistent tile and block constants', () => {
    expect(T.MC % T.MR).toBe(0);
    expect(T.NC % T.NR).toBe(0);
    expect(T.WORK).toBeGreaterThanOrEqual(4 * (T.KC * T.NC + T.KC * T.MC + T.MR * T.NR));
    expect(T.WORK).toBeGreaterThanOrEqual(8 * T.GEMV_NB);   // gemv_n's total and chunk rows
  });

  describe.each(FORMS)('$name', ({ flags }) => {
    it.each(CONFIGS)('tails: alpha $alpha beta $beta bias $bias pad $pad', (cfg) => {
      // every tile tail: M, N, K below/at/above MR, NR and the k-unrolls, and the small-M path
      for (const m of uniq([1, 2, T.MR - 1, T.MR, T.MR + 1, 2 * T.MR + 1, T.SMALL_M, T.SMALL_M + 1])) {
        for (const n of uniq([1, 3, T.NR - 1, T.NR, T.NR + 1, 2 * T.NR + 3, 33])) {
          for (const k of uniq([1, 3, 4, 5, 8, 9, 17])) check(h, { m, n, k, flags, ...cfg }, 'tails');
        }
      }
    });

    it.each(CONFIGS)('small-M rows: alpha $alpha beta $beta bias $bias pad $pad', (cfg) => {
      // the multi-row small-M kernels: row groups (SR for A·B, pairs for A·Bᵀ) full and short,
      // column strips (NR) and blocks of four rows of B full, short and absent, odd K, K blocks
      const { NR, SMALL_M, SMALL_R, SMALL_KC } = T;
      for (const m of uniq([2, 3, SMALL_R - 1, SMALL_R, SMALL_R + 1, 2 * SMALL_R + 1, SMALL_M - 1, SMALL_M])) {
        if (m > SMALL_M) continue;
        for (const n of uniq([1, 3, 4, 5, NR - 1, NR, NR + 1, 2 * NR + 3])) {
          for (const k of uniq([1, 2, 3, 4, 5, 8, 9, SMALL_KC, SMALL_KC + 1, 2 * SMALL_KC + 3])) {
            check(h, { m, n, k, flags, ...cfg }, 'small');
          }
        }
      }
    });

    it.each(CONFIGS)('blocks, primes, K=0: alpha $alpha beta $beta bias $bias pad $pad', (cfg) => {
      const { MR, NR, KC, MC, NC, SMALL_M, GEMV_NB, WORK } = T;
      const shapes: [number, number, number][] = [
        [MC, NC, KC], [MC + 1, NC + 1, KC + 1], [MC - 1, NC - 1, KC - 1],
        [2 * MC + MR + 1, NR + 3, 2 * KC + 1], [MR + 1, NC + NR + 5, 3],
        [13, 17, 19], [97, 101, 103], [MR + 1, NR + 1, 0],
        [SMALL_M, 1009, 263], [SMALL_M, 37, 2 * KC + 7], [SMALL_M, 5, 0], [SMALL_M + 1, 45, 33],
        [SMALL_M, GEMV_NB, 9], [SMALL_M, GEMV_NB + 5, 7], [SMALL_M, 2 * GEMV_NB + 1, 2],
        [1, 3, WORK / 4 + 1],   // Aᵀ·Bᵀ, M = 1: the row of A no longer fits in work
        [2, 5, WORK / 8 + 1],   // Aᵀ·Bᵀ, M = 2: the rows of A no longer fit in work
        [SMALL_M, 24 * T.NR + 5, 3 * T.SMALL_KC + 7], [2, 4 * T.NR + 3, 0],
      ];
      for (const [m, n, k] of shapes) check(h, { m, n, k, flags, ...cfg }, 'blocks');
    });

    it.each([
      { alpha: 1, beta: 0, bias: true, pad: 1, shareB: false },
      { alpha: 1, beta: 1, bias: false, pad: 0, shareB: true },
      { alpha: 0.5, beta: 1, bias: true, pad: 2, shareB: false },
    ])('batched: beta $beta bias $bias shared B $shareB', ({ shareB, ...cfg }) => {
      for (const [m, n, k] of [[T.MR + 1, T.NR + 3, 9], [1, 37, 20], [2 * T.MR, 2 * T.NR, T.KC + 3]] as const) {
        const p = { m, n, k, flags, ...cfg };
        const tA = (flags & GEMM_TRANS_A) !== 0, tB = (flags & GEMM_TRANS_B) !== 0;
        const strideA = (tA ? k * (m + cfg.pad) : m * (k + cfg.pad)) + 5;
        const strideB = shareB ? 0 : (tB ? n * (k + cfg.pad) : k * (n + cfg.pad)) + 3;
        const strideC = m * (n + cfg.pad) + 7;
        check(h, p, 'batched', 3, [strideA, strideB, strideC]);
      }
    });
  });
});

/**
 * The whole product of problem p by gemm_f32, and a second C (same start) for a split run to
 * fill: the pool's kernels must reproduce the first bit for bit (`sameBits`).
 */
function splitSetup(h: Harness, p: Problem, key: string) {
  const x = inputs(p, key);
  h.reset();
  const pa = h.alloc(x.a.length, x.a), pb = h.alloc(x.b.length, x.b);
  const whole = h.alloc(x.c0.length, x.c0), split = h.alloc(x.c0.length, x.c0);
  const pbias = x.bias ? h.alloc(x.bias.length, x.bias) : 0;
  const work = h.alloc(h.k.gemm_workspace_bytes!() / 4);
  h.k.gemm_f32!(whole, pa, pb, pbias, p.m, p.n, p.k, x.lda, x.ldb, x.ldc, p.flags, p.alpha, p.beta, work);
  const sameBits = () => {
    const a = h.f32(whole, x.c0.length), b = h.f32(split, x.c0.length);
    for (let i = 0; i < a.length; i++) {
      if (!Object.is(a[i], b[i])) throw new Error(`${key}: element ${i} (row ${Math.floor(i / x.ldc)}, col ${i % x.ldc}) whole ${a[i]} vs split ${b[i]}`);
    }
  };
  return { x, pa, pb, pbias, split, work, sameBits };
}

// gemm_block_f32 is what a worker pool runs: any split of C on the tile grid (rows at multiples
// of MR, columns at multiples of NR; whole rows on the small-M path) must reproduce gemm_f32's
// product bit for bit, so results do not depend on the number of threads.
describe.each(VARIANTS)('gemm_block_f32 %s', (variant) => {
  it.each(FORMS)('tile-aligned blocks = the whole product, bit for bit ($name)', ({ flags }) => {
    const h = harness(variant);
    const MR = constant(h, 'GEMM_MR'), NR = constant(h, 'GEMM_NR'), KC = constant(h, 'GEMM_KC'), MC = constant(h, 'GEMM_MC');
    const shapes: [number, number, number][] = [[1, 37, 20], [5, 67, 33], [16, 45, 70], [17, 29, 9],
      [2 * MR + 3, 5 * NR + 1, KC + 5], [MC + MR + 2, 3 * NR, 2 * KC + 9], [97, 101, 103]];
    for (const [m, n, k] of shapes) {
      for (const cfg of CONFIGS) {
        const p: Problem = { m, n, k, flags, ...cfg };
        const key = `block m${m} n${n} k${k} f${flags} ${JSON.stringify(cfg)}`;
        const { x, pa, pb, pbias, split: parts, work, sameBits } = splitSetup(h, p, key);
        const small = h.k.gemm_small_path!(m, k, flags) === 1;
        const rnd = random(key + ' cuts');
        const cuts = (size: number, grid: number) => {
          const at = [0];
          while (at.at(-1)! < size) at.push(Math.min(size, at.at(-1)! + grid * (1 + Math.floor((rnd() + 1) * 1.5))));
          return at;
        };
        const rows = small ? [0, m] : cuts(m, MR), cols = cuts(n, NR);
        for (let r = 1; r < rows.length; r++) {
          for (let c = 1; c < cols.length; c++) {
            h.k.gemm_block_f32!(parts, pa, pb, pbias, m, n, k, x.lda, x.ldb, x.ldc, flags, p.alpha, p.beta, work,
              rows[r - 1]!, rows[r]!, cols[c - 1]!, cols[c]!);
          }
        }
        sameBits();
      }
    }
  });
});

// gemv_chunks_f32 + gemv_sum_f32 are how a worker pool runs a one-row A·B: chunks of GEMV_KC rows
// of B in any order and by any thread, then their sum by bands of columns. They must give
// gemm_f32's bits for that row (gemv_n sums the same chunks in the same order).
describe.each(VARIANTS)('gemv chunks %s', (variant) => {
  it('chunks of rows + their sum by bands of columns = the one-row product, bit for bit', () => {
    const h = harness(variant);
    const KC = constant(h, 'GEMM_GEMV_KC');
    expect(KC).toBe(GEMV_KC);
    for (const [n, k] of [[5, 1], [37, KC - 1], [64, KC], [67, KC + 1], [300, 3 * KC + 5], [768, 768]] as const) {
      for (const cfg of CONFIGS) for (const transA of [false, true]) {
        const flags = transA ? GEMM_TRANS_A : 0;
        const p: Problem = { m: 1, n, k, flags, ...cfg };
        const key = `gemv m1 n${n} k${k} ${JSON.stringify(cfg)} ${transA}`;
        const { x, pa, pb, pbias, split, sameBits } = splitSetup(h, p, key);
        const chunks = Math.max(1, Math.ceil(k / KC)), ldp = n + 3;
        const parts = h.alloc(chunks * ldp);
        for (let q = chunks - 1; q >= 0; q--) h.k.gemv_chunks_f32!(parts, pa, pb, n, k, transA ? x.lda : 1, x.ldb, ldp, q, q + 1);
        for (let j0 = 0; j0 < n; j0 += 64) {
          h.k.gemv_sum_f32!(split + 4 * j0, parts + 4 * j0, pbias ? pbias + 4 * j0 : 0, Math.min(64, n - j0), chunks, ldp, p.alpha, p.beta);
        }
        sameBits();
      }
    }
  });
});

