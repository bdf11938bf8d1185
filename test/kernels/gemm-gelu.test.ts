// gemm_gelu_f32, GELU fused into the GEMM store, on every wasm variant: forward (pre = product +
// bias, C = gelu(pre)) and backward (C = product ⊙ gelu'(pre)) must give, bit for bit, what
// gemm_f32 followed by the separate activation kernel gives (gelu_forward; gelu_backward into
// zeros), on every path (small M, packed panels with the epilogue per MC×NC block, K blocks) and
// for any tile-aligned split of C; and the JS twin must agree with the JS twins of the two steps.
import { describe, it, expect } from 'vitest';
import { harness, VARIANTS } from '../helpers/harness';
import { GEMM_GELU_GRAD, gemmBlockF32, gemmGeluF32 } from '../../src/ref/gemm';
import { geluBackward, geluForward } from '../../src/ref/activation';
import { CONFIGS, FORMS, inputs, constant, random, expectSameBits, type Problem } from '../helpers/gemm-cases';

const SHAPES: [number, number, number][] = [[1, 9, 5], [3, 37, 130], [16, 45, 70], [17, 29, 9], [25, 41, 400], [130, 520, 390], [7, 5, 0]];

describe.each(VARIANTS)('gemm_gelu_f32 %s', (variant) => {
  it.each(FORMS)('= gemm_f32 then the activation kernel, bit for bit, whole and split ($name)', ({ flags }) => {
    const h = harness(variant);
    const MR = constant(h, 'GEMM_MR'), NR = constant(h, 'GEMM_NR');
    for (const [m, n, k] of SHAPES) {
      for (const grad of [false, true]) {
        const p: Problem = { m, n, k, flags, ...CONFIGS[1]! };   // bias, pad 3
        const key = `gelu m${m} n${n} k${k} f${flags} grad ${grad}`;
        const x = inputs(p, key);
        h.reset();
        const size = x.c0.length;
        const rnd = random(key + ' pre');
        const preVals = Float32Array.from({ length: size }, () => 4 * rnd());
        const pa = h.alloc(x.a.length, x.a), pb = h.alloc(x.b.length, x.b), pbias = h.alloc(x.bias!.length, x.bias!);
        const work = h.alloc(h.k.gemm_workspace_bytes!() / 4);
        // separate: C = product + bias; then gelu_forward(out ← C) or gelu_backward(zeros += gelu'(pre)·C)
        const sep = h.alloc(size, x.c0), sepOut = h.alloc(size, new Float32Array(size)), pre0 = h.alloc(size, preVals);
        h.k.gemm_f32!(sep, pa, pb, pbias, m, n, k, x.lda, x.ldb, x.ldc, flags, 1, 0, work);
        for (let i = 0; i < m; i++) {
          const o = 4 * i * x.ldc;
          if (grad) h.k.gelu_backward!(sepOut + o, sep + o, pre0 + o, n);
          else h.k.gelu_forward!(sepOut + o, sep + o, n);
        }
        const f = grad ? flags | GEMM_GELU_GRAD : flags;
        for (const split of [false, true]) {
          const fused = h.alloc(size, x.c0), pre = h.alloc(size, preVals);
          if (!split || m <= 16) {
            h.k.gemm_gelu_f32!(fused, pre, pa, pb, pbias, m, n, k, x.lda, x.ldb, x.ldc, f, work, 0, m, 0, n);
          } else {
            for (let i0 = 0; i0 < m; i0 += 2 * MR) for (let j0 = 0; j0 < n; j0 += 3 * NR) {
              h.k.gemm_gelu_f32!(fused, pre, pa, pb, pbias, m, n, k, x.lda, x.ldb, x.ldc, f, work, i0, Math.min(m, i0 + 2 * MR), j0, Math.min(n, j0 + 3 * NR));
            }
          }
          // the logical (m, n) block of each row: both leave the padding as it was
          for (let i = 0; i < m; i++) {
            expectSameBits(h, fused + 4 * i * x.ldc, sepOut + 4 * i * x.ldc, n, `${key} split ${split} row ${i} C: fused vs separate`);
            if (!grad) expectSameBits(h, pre + 4 * i * x.ldc, sep + 4 * i * x.ldc, n, `${key} split ${split} row ${i} pre: fused vs separate`);
          }
        }
      }
    }
  });
});

describe('gemm_gelu_f32, JS twin', () => {
  it('= gemmBlockF32 then geluForward / geluBackward', () => {
    for (const grad of [false, true]) {
      const p: Problem = { m: 4, n: 6, k: 5, flags: 0, ...CONFIGS[1]! };
      const x = inputs(p, `twin gelu ${grad}`);
      const pre = Float32Array.from({ length: x.c0.length }, (_, i) => Math.sin(i));
      const c = x.c0.slice(), pre1 = pre.slice();
      gemmGeluF32(c, pre1, x.a, x.b, x.bias, p.m, p.n, p.k, x.lda, x.ldb, x.ldc, grad ? GEMM_GELU_GRAD : 0, 0, p.m, 0, p.n);
      const want = x.c0.slice(), out = new Float32Array(x.c0.length);
      gemmBlockF32(want, x.a, x.b, x.bias, p.m, p.n, p.k, x.lda, x.ldb, x.ldc, 0, 1, 0, 0, p.m, 0, p.n);
      for (let i = 0; i < p.m; i++) {
        const o = i * x.ldc;
        if (grad) geluBackward(out.subarray(o), want.subarray(o), pre.subarray(o), p.n);
        else geluForward(out.subarray(o), want.subarray(o), p.n);
        expect(Array.from(c.subarray(o, o + p.n))).toEqual(Array.from(out.subarray(o, o + p.n)));
        if (!grad) expect(Array.from(pre1.subarray(o, o + p.n))).toEqual(Array.from(want.subarray(o, o + p.n)));
      }
    }
  });
});
