// Packed weights (pack_weight_f32, gemm_packed_f32) on every wasm variant: the packing against
// its JS twin element for element; products on packed weights against the f64 reference within
// gemm's derived bound (test/helpers/gemm-cases.ts), every storage form and tail; bit for bit
// equal to gemm_f32 where they run the same arithmetic (more than GEMM_SMALL_M rows, either
// storage of B); up to GEMM_SMALL_M rows, each row's result independent of the other rows (a
// batch of decodes = each alone); any tile-aligned split of C equal to the whole product; GELU in
// the store (flags GEMM_GELU) = the product followed by gelu_forward, bit for bit.
import { describe, it, expect } from 'vitest';
import { harness, VARIANTS, type Harness } from '../helpers/harness';
import { expectClose } from '../helpers/compare';
import { GEMM_GELU, GEMM_TRANS_A, GEMM_TRANS_B, PACK_NR, packWeightF32, packedWeightSize } from '../../src/ref/gemm';
import { PACK_PANEL, PACK_PANEL_MAX } from '../../src/wasm/gemm-layout';
import { CONFIGS, FORMS, inputs, expected, constant, random, splitSetup, cutsOn, expectSameBits, type Problem } from '../helpers/gemm-cases';

/** Packs op(B) of problem p (stored at pb, row stride ldb) in `pieces` sliver ranges, last first; returns the packed pointer. */
function pack(h: Harness, p: Problem, pb: number, ldb: number, pieces = 1): number {
  const size = packedWeightSize(p.n, p.k), slivers = Math.ceil(p.n / PACK_NR);
  const bp = h.alloc(size, new Float32Array(size).fill(NaN));
  const step = Math.max(1, Math.ceil(slivers / pieces));
  for (let s = Math.floor((slivers - 1) / step) * step; s >= 0; s -= step) {
    h.k.pack_weight_f32!(bp, pb, p.n, p.k, ldb, p.flags & GEMM_TRANS_B, s, Math.min(slivers, s + step));
  }
  return bp;
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 9, 5], [1, 37, 130], [1, 67, 300], [1, 768, 257], [1, 3, 6], // one row: K tails, edge slivers
  [2, 13, 9], [3, 8, 70], [4, 17, 65], [5, 33, 129], [7, 5, 3], [16, 45, 70], [16, 3, 0],   // small M
  [17, 29, 9], [25, 41, 400], [97, 101, 103], [130, 520, 390], [20, 16, 0],                 // large M, K and N blocks
  [1, 37, 1537], [3, 20, 2305], [16, 9, 1100], [40, 70, 1800],   // K in panels (the last one row, odd, short)
];

describe.each(VARIANTS)('packed weights %s', (variant) => {
  it('pack_weight_f32 = its twin, element for element, in any sliver ranges', () => {
    const h = harness(variant);
    expect(constant(h, 'GEMM_NR')).toBe(PACK_NR);
    expect(constant(h, 'GEMM_PANEL')).toBe(PACK_PANEL);
    expect(constant(h, 'GEMM_PANEL_MAX')).toBe(PACK_PANEL_MAX);
    for (const flags of [0, GEMM_TRANS_B]) {
      for (const [n, k] of [[1, 1], [7, 3], [8, 5], [9, 17], [37, 130], [67, 9], [20, 1024], [20, 1025], [9, 2305], [17, 1600]] as const) {
        const p: Problem = { m: 1, n, k, flags, alpha: 1, beta: 0, bias: false, pad: 3 };
        const x = inputs(p, `pack n${n} k${k} f${flags}`);
        h.reset();
        const pb = h.alloc(x.b.length, x.b);
        const want = new Float32Array(packedWeightSize(n, k));
        packWeightF32(want, x.b, n, k, x.ldb, flags, 0, Math.ceil(n / PACK_NR));
        const twin = h.alloc(want.length, want);
        for (const pieces of [1, 2, 3]) expectSameBits(h, pack(h, p, pb, x.ldb, pieces), twin, want.length, `n${n} k${k} flags ${flags} pieces ${pieces}: kernel vs twin`);
      }
    }
  });

  describe.each(FORMS)('$name', ({ flags }) => {
    it.each(CONFIGS)('within the bound, and gemm_f32\'s bits where the arithmetic is the same: alpha $alpha beta $beta bias $bias pad $pad', (cfg) => {
      const h = harness(variant);
      const SMALL_M = constant(h, 'GEMM_SMALL_M');
      for (const [m, n, k] of SHAPES) {
        const p: Problem = { m, n, k, flags, ...cfg };
        const key = `packed m${m} n${n} k${k} f${flags} ${JSON.stringify(cfg)}`;
        const { x, pa, pb, pbias, split, work, sameBits } = splitSetup(h, p, key);
        const bp = pack(h, p, pb, x.ldb, 2);
        h.k.gemm_packed_f32!(split, pa, bp, pbias, m, n, k, x.lda, x.ldc, flags, p.alpha, p.beta, work, 0, m, 0, n);
        const want = expected(p, x);
        expectClose(h.f32(split, x.c0.length), want.c, want.tol, key, { cols: x.ldc });
        if (m > SMALL_M) sameBits();
      }
    });
  });

  it.each(FORMS)('tile-aligned blocks = the whole packed product, bit for bit ($name)', ({ flags }) => {
    blocksAgree(harness(variant), SHAPES, flags, false);
  });
});

describe.each(VARIANTS)('packed weights, GELU in the store %s', (variant) => {
  it.each(FORMS)('flags GEMM_GELU = the product, then gelu_forward, bit for bit, in any tile-aligned blocks ($name)', ({ flags }) => {
    blocksAgree(harness(variant), [[1, 37, 130], [1, 67, 1537], [1, 3, 6], [3, 20, 300], [16, 45, 70], [5, 9, 0], [17, 29, 9], [40, 70, 1800], [130, 520, 390]], flags, true);
  });
});

/**
 * For each shape: the packed product in tile-aligned blocks (rows whole up to GEMM_SMALL_M) = the
 * whole call, bit for bit; with `gelu` the blocks apply GELU in their store (flags GEMM_GELU) and
 * the whole call is the plain product followed by gelu_forward on each row.
 */
function blocksAgree(h: Harness, shapes: readonly (readonly [number, number, number])[], flags: number, gelu: boolean): void {
  const MR = constant(h, 'GEMM_MR'), NR = constant(h, 'GEMM_NR'), SMALL_M = constant(h, 'GEMM_SMALL_M');
  for (const [m, n, k] of shapes) {
    for (const cfg of [CONFIGS[1]!, CONFIGS[4]!]) {
      const p: Problem = { m, n, k, flags, ...cfg };
      const key = `packed blocks${gelu ? ' gelu' : ''} m${m} n${n} k${k} f${flags} ${JSON.stringify(cfg)}`;
      let bp = 0;
      const { x, pa, pbias, split, work, sameBits } = splitSetup(h, p, key, (whole, at) => {
        bp = pack(h, p, at.pb, at.x.ldb);
        h.k.gemm_packed_f32!(whole, at.pa, bp, at.pbias, m, n, k, at.x.lda, at.x.ldc, flags, p.alpha, p.beta, at.work, 0, m, 0, n);
        if (gelu) for (let i = 0; i < m; i++) h.k.gelu_forward!(whole + 4 * i * at.x.ldc, whole + 4 * i * at.x.ldc, n);   // the separate activation
      });
      const rnd = random(key + ' cuts');
      const rows = m <= SMALL_M ? [0, m] : cutsOn(rnd, m, MR), cols = cutsOn(rnd, n, NR);
      for (let r = 1; r < rows.length; r++) {
        for (let c = 1; c < cols.length; c++) {
          h.k.gemm_packed_f32!(split, pa, bp, pbias, m, n, k, x.lda, x.ldc, gelu ? flags | GEMM_GELU : flags, p.alpha, p.beta, work,
            rows[r - 1]!, rows[r]!, cols[c - 1]!, cols[c]!);
        }
      }
      sameBits();
    }
  }
}

describe.each(VARIANTS)('packed weights, small M %s', (variant) => {
  it.each(FORMS)('each row the same bits as that row alone, up to GEMM_SMALL_M rows ($name)', ({ flags }) => {
    const h = harness(variant);
    const SMALL_M = constant(h, 'GEMM_SMALL_M');
    for (const [n, k] of [[37, 130], [16, 7], [70, 1], [37, 1800]] as const) {
      const p: Problem = { m: SMALL_M, n, k, flags, ...CONFIGS[3]! };
      const key = `rows alone n${n} k${k} f${flags}`;
      const x = inputs(p, key);
      h.reset();
      const pa = h.alloc(x.a.length, x.a), pb = h.alloc(x.b.length, x.b);
      const pbias = x.bias ? h.alloc(x.bias.length, x.bias) : 0;
      const work = h.alloc(h.k.gemm_workspace_bytes!() / 4);
      const bp = pack(h, p, pb, x.ldb);
      const alone = h.alloc(x.c0.length, x.c0), together = h.alloc(x.c0.length, x.c0);
      const trans = (flags & GEMM_TRANS_A) !== 0;
      for (let i = 0; i < SMALL_M; i++) {   // row i alone: A's row i, C's row i
        h.k.gemm_packed_f32!(alone + 4 * i * x.ldc, pa + 4 * (trans ? i : i * x.lda), bp, pbias, 1, n, k, x.lda, x.ldc, flags, p.alpha, p.beta, work, 0, 1, 0, n);
      }
      for (const m of [2, 3, 5, SMALL_M]) {
        h.f32(together, x.c0.length).set(x.c0);
        h.k.gemm_packed_f32!(together, pa, bp, pbias, m, n, k, x.lda, x.ldc, flags, p.alpha, p.beta, work, 0, m, 0, n);
        const a = h.f32(alone, m * x.ldc), b = h.f32(together, m * x.ldc);
        for (let e = 0; e < m * x.ldc; e++) {   // the logical columns (the padding keeps its NaN)
          if (e % x.ldc < n && !Object.is(a[e], b[e])) throw new Error(`${key} m${m}: row ${Math.floor(e / x.ldc)} col ${e % x.ldc} alone ${a[e]} vs in the batch ${b[e]}`);
        }
      }
    }
  });
});

describe('packed weights, wide and in panels', () => {
  // Up to GEMM_SMALL_M rows on a weight in panels, each sliver's sums wait in the workspace between
  // panels; a weight too wide for all of them at once goes in runs of columns (here 16 rows: 6.9k
  // columns a run, relaxed and simd alike). Column ranges narrower than a run give the same bits.
  it.each(['relaxed', 'simd'] as const)('%s: all columns at once = narrow column ranges, bit for bit', (variant) => {
    const h = harness(variant);
    const m = constant(h, 'GEMM_SMALL_M'), n = 7300, k = 1025;
    const p: Problem = { m, n, k, flags: GEMM_TRANS_B, ...CONFIGS[4]! };
    const key = `wide panels ${variant}`;
    const x = inputs(p, key);
    h.reset();
    const pa = h.alloc(x.a.length, x.a), pb = h.alloc(x.b.length, x.b);
    const pbias = x.bias ? h.alloc(x.bias.length, x.bias) : 0;
    const work = h.alloc(h.k.gemm_workspace_bytes!() / 4);
    const bp = pack(h, p, pb, x.ldb, 3);
    const whole = h.alloc(x.c0.length, x.c0), parts = h.alloc(x.c0.length, x.c0);
    h.k.gemm_packed_f32!(whole, pa, bp, pbias, m, n, k, x.lda, x.ldc, p.flags, p.alpha, p.beta, work, 0, m, 0, n);
    for (let j = 0; j < n; j += 800) h.k.gemm_packed_f32!(parts, pa, bp, pbias, m, n, k, x.lda, x.ldc, p.flags, p.alpha, p.beta, work, 0, m, j, Math.min(n, j + 800));
    expectSameBits(h, whole, parts, x.c0.length, key);
    const want = expected(p, x);
    expectClose(h.f32(whole, x.c0.length), want.c, want.tol, key, { cols: x.ldc });
  });
});

describe('packed weights, JS twin', () => {
  it('gemmPackedF32 on packWeightF32 = gemmF32 within the bound', async () => {
    const { gemmPackedF32 } = await import('../../src/ref/gemm');
    for (const flags of [0, GEMM_TRANS_A, GEMM_TRANS_B, GEMM_TRANS_A | GEMM_TRANS_B]) for (const k of [11, 1537]) {
      const p: Problem = { m: 5, n: 19, k, flags, ...CONFIGS[4]! };
      const x = inputs(p, `twin f${flags} k${k}`);
      const bp = new Float32Array(packedWeightSize(p.n, p.k));
      packWeightF32(bp, x.b, p.n, p.k, x.ldb, flags, 0, 3);
      const c = x.c0.slice();
      gemmPackedF32(c, x.a, bp, x.bias, p.m, p.n, p.k, x.lda, x.ldc, flags, p.alpha, p.beta, 0, p.m, 0, p.n);
      const want = expected(p, x);
      expectClose(c, want.c, want.tol, `twin f${flags}`, { cols: x.ldc });
    }
  });
});
