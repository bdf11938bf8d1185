// gemm_f32 / gemm_batched_f32 on every wasm variant against the JS twin (src/ref/gemm.ts):
// all four storage forms, alpha/beta/bias epilogues, strided submatrices (NaN in the padding,
// sentinels around C that must survive), and sizes enumerated from the kernel's own tile and
// block constants so every tail and block edge of the micro-kernel, packing and driver runs.
import { describe, it, expect, beforeAll } from 'vitest';
import { harness, VARIANTS, type Harness } from '../helpers/harness';
import { expectClose } from '../helpers/compare';
import { gemmBatchedF32, GEMM_TRANS_A, GEMM_TRANS_B, GEMV_KC } from '../../src/ref/gemm';
import { CONFIGS, FORMS, inputs, expected, constant, uniq, splitSetup, random, cutsOn, type Problem, type Outer } from '../helpers/gemm-cases';

const refCache = new Map<string, { c: Float32Array; tol: Float64Array }>();   // shared by the variants

function check(h: Harness, p: Problem, label: string, batch = 0, strides = [0, 0, 0], outer: Outer = { count: 1, a: 0, b: 0, c: 0 }): void {
  const key = `${label} m${p.m} n${p.n} k${p.k} f${p.flags} a${p.alpha} b${p.beta} bias${p.bias} pad${p.pad} batch${batch} s${strides} o${JSON.stringify(outer)}`;
  const x = inputs(p, key, Math.max(batch, 1), strides, outer);
  let want = refCache.get(key);
  if (!want) refCache.set(key, (want = expected(p, x, Math.max(batch, 1), strides, outer)));
  h.reset();
  const pa = h.alloc(x.a.length, x.a), pb = h.alloc(x.b.length, x.b), pc = h.alloc(x.c0.length, x.c0);
  const pbias = x.bias ? h.alloc(x.bias.length, x.bias) : 0;
  const work = h.alloc(h.k.gemm_workspace_bytes!() / 4);
  if (batch === 0) {
    h.k.gemm_f32!(pc, pa, pb, pbias, p.m, p.n, p.k, x.lda, x.ldb, x.ldc, p.flags, p.alpha, p.beta, work);
  } else {
    h.k.gemm_batched_f32!(pc, pa, pb, pbias, p.m, p.n, p.k, x.lda, x.ldb, x.ldc, p.flags, p.alpha, p.beta, work,
      batch, strides[0]!, strides[1]!, strides[2]!, outer.count, outer.a, outer.b, outer.c);
  }
  expectClose(h.f32(pc, x.c0.length), want.c, want.tol, key, { cols: x.ldc });
}



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
        // two levels (attention's sequences × heads): 2 groups of 3, the groups past each other with a gap
        check(h, p, 'batched', 3, [strideA, strideB, strideC], { count: 2, a: 3 * strideA + 11, b: shareB ? 0 : 3 * strideB + 13, c: 3 * strideC + 17 });
      }
    });
  });
});


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
        const rows = small ? [0, m] : cutsOn(rnd, m, MR), cols = cutsOn(rnd, n, NR);
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

