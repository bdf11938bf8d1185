// Every differentiable op's backward against central finite differences (test/helpers/gradcheck.ts
// states the tolerance), on the simd build and on the relaxed build.
import { describe, it } from 'vitest';
import { createRuntime, Rng, type Runtime } from '../../src/index.js';
import { linear } from '../../src/fn/linear.js';
import { embedding } from '../../src/fn/embedding.js';
import { layerNorm } from '../../src/fn/layernorm.js';
import { activation } from '../../src/fn/activation.js';
import { residual } from '../../src/fn/residual.js';
import { dropout } from '../../src/fn/dropout.js';
import { attention, attend } from '../../src/fn/attention.js';
import { crossEntropy } from '../../src/fn/crossentropy.js';
import { gradcheck, param } from '../helpers/gradcheck.js';

const runtimes: [string, Runtime][] = [
  ['simd', await createRuntime({ variant: 'simd' })],
  ['relaxed', await createRuntime({ variant: 'relaxed' })],
];

describe.each(runtimes)('gradients by finite differences (%s)', (_name, rt) => {
  it('linear, (in, out) layout with bias, 3-D input', () => {
    const x = param(rt, [2, 3, 5], 1);
    const w = param(rt, [5, 7], 2, 0.5);
    const b = param(rt, [7], 3);
    gradcheck(rt, () => linear(rt, x, w, b), [x, w, b]);
  });

  it('linear, (out, in) layout without bias (tied output head)', () => {
    const x = param(rt, [6, 5], 4);
    const w = param(rt, [9, 5], 5, 0.5);
    gradcheck(rt, () => linear(rt, x, w, null, 'out,in'), [x, w]);
  });

  it('embedding with repeated ids', () => {
    const w = param(rt, [6, 5], 6);
    const ids = rt.tensor([0, 3, 3, 5, 1, 3], [2, 3], { dtype: 'i32' });
    gradcheck(rt, () => embedding(rt, ids, w), [w], { samples: 30 });
  });

  it('layerNorm (x, weight, bias), rows of 5 and of 33', () => {
    for (const c of [5, 33]) {
      const x = param(rt, [4, c], 7 + c);
      const w = param(rt, [c], 8 + c);
      const b = param(rt, [c], 9 + c);
      gradcheck(rt, () => layerNorm(rt, x, w, b), [x, w, b]);
    }
  });

  it('gelu and relu (inputs kept away from relu\'s kink)', () => {
    const x = param(rt, [3, 11], 10);
    gradcheck(rt, () => activation(rt, 'gelu', x), [x]);
    const d = x.f32();
    for (let i = 0; i < d.length; i++) if (Math.abs(d[i]!) < 0.05) d[i] = 0.3;
    gradcheck(rt, () => activation(rt, 'relu', x), [x]);
  });

  it('residual, including a + a', () => {
    const a = param(rt, [4, 6], 11);
    const b = param(rt, [4, 6], 12);
    gradcheck(rt, () => residual(rt, a, b), [a, b]);
    gradcheck(rt, () => residual(rt, a, a), [a]);
    // a chain where the handed-over gradient is accumulated into afterwards
    const w = param(rt, [6, 6], 16, 0.5);
    gradcheck(rt, () => {
      const y = residual(rt, a, b);
      return residual(rt, y, linear(rt, y, w, null));
    }, [a, b, w]);
  });

  it('dropout (same seed for every evaluation)', () => {
    const x = param(rt, [5, 8], 13);
    gradcheck(rt, () => dropout(rt, x, 0.3, new Rng(99), true), [x], { samples: 40 });
  });

  // every attention check runs on both paths: the fused kernels (default) and the dense one
  const PATHS = ['fused', 'dense'] as const;

  it('attention: causal and bidirectional, several heads', () => {
    for (const causal of [true, false]) for (const path of PATHS) {
      const qkv = param(rt, [2, 5, 3 * 8], 14, 0.7); // B 2, T 5, C 8, 2 heads of 4
      gradcheck(rt, () => attention(rt, qkv, 2, { causal, path }).y, [qkv], { samples: 60 });
    }
  });

  it('cross-attention: q (B, Tq, C) over a fused kv (B, Tk, 2C) with Tq ≠ Tk, with and without a key padding mask', () => {
    const q = param(rt, [2, 3, 8], 17, 0.7);        // decoder queries: B 2, Tq 3, C 8, 2 heads
    const kv = param(rt, [2, 5, 16], 18, 0.7);      // encoder keys | values: Tk 5
    const mask = rt.tensor([1, 1, 1, 1, 1, 1, 1, 0, 0, 0], [2, 5], { dtype: 'i32' }); // second source has 2 real tokens
    for (const keyMask of [null, mask]) for (const path of PATHS) {
      gradcheck(rt, () => attend(rt, q, { t: kv, col: 0, width: 8 }, { t: kv, col: 8, width: 8 }, 2, { keyMask, path }).y, [q, kv], { samples: 60 });
    }
  });

  it('self-attention with padding masks (causal and bidirectional, a fully masked row included)', () => {
    const qkv = param(rt, [3, 4, 3 * 8], 19, 0.7);
    const mask = rt.tensor([1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0], [3, 4], { dtype: 'i32' }); // 3rd: left pad + right pad
    for (const causal of [true, false]) for (const path of PATHS) {
      // causal: query 0 of sequence 3 sees only key 0, which is masked → zero output row
      gradcheck(rt, () => attention(rt, qkv, 2, { causal, keyMask: mask, path }).y, [qkv], { samples: 60 });
    }
  });

  it('attention with q, k, v in three separate tensors, one of them shared (k = v)', () => {
    const q = param(rt, [1, 4, 6], 20, 0.7);
    const k = param(rt, [1, 3, 6], 21, 0.7);
    for (const path of PATHS) gradcheck(rt, () => attend(rt, q, k, k, 3, { path }).y, [q, k], { samples: 40 });
  });

  it('crossEntropy: plain, label smoothing 0.1, ignore index', () => {
    const logits = param(rt, [2, 4, 7], 15, 2);
    const targets = rt.tensor([0, 6, 3, 3, 1, -100, 2, 5], [2, 4], { dtype: 'i32' });
    for (const smoothing of [0, 0.1]) {
      gradcheck(rt, () => crossEntropy(rt, logits, targets, { smoothing }), [logits], { scalar: true, samples: 56 });
    }
  });
});
