// concatSeq and selectSeq (src/fn/concat.ts): values against a plain-JS reference, gradients by
// finite differences (including a part broadcast over the batch and a tensor joined twice),
// on every backend, and ShapeErrors that name the shapes.
import { describe, expect, it } from 'vitest';
import { createRuntime, ShapeError, type Runtime, type Tensor } from '../../src/index.js';
import { concatSeq, selectSeq } from '../../src/fn/concat.js';
import { gradcheck, param } from '../helpers/gradcheck.js';

const runtimes: [string, Runtime][] = [
  ['simd', await createRuntime({ variant: 'simd' })],
  ['relaxed', await createRuntime({ variant: 'relaxed' })],
  ['js', await createRuntime({ variant: 'js' })],
];

/** Reference: out[b, t, c] from the part that holds position t (row b, or row 0 when broadcast). */
function concatRef(parts: Tensor[], B: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    for (const p of parts) {
      const [Bp, T, C] = p.shape as [number, number, number];
      const d = p.f32();
      const row = Bp === 1 ? 0 : b;
      for (let i = 0; i < T * C; i++) out.push(d[row * T * C + i]!);
    }
  }
  return out;
}

describe.each(runtimes)('concatSeq and selectSeq (%s)', (_name, rt) => {
  it('joins along the sequence: [CLS] (1, 1, C) before patches (B, N, C), and three parts with a broadcast one inside', () => {
    const cls = param(rt, [1, 1, 5], 1);
    const patches = param(rt, [3, 4, 5], 2);
    const out = rt.step.scope(() => {
      const y = concatSeq(rt, [cls, patches]);
      expect(y.shape).toEqual([3, 5, 5]);
      return y.toArray();
    });
    expect(out).toEqual(concatRef([cls, patches], 3).map((v) => Math.fround(v)));
    const mid = param(rt, [1, 2, 5], 3);
    const tail = param(rt, [3, 1, 5], 4);
    const out3 = rt.step.scope(() => concatSeq(rt, [patches, mid, tail]).toArray());
    expect(out3).toEqual(concatRef([patches, mid, tail], 3));
  });

  it('gradients by finite differences: broadcast parts sum over B, a part used twice gets both', () => {
    // the op is linear: central differences are exact up to f32 rounding, so the default tolerances hold easily
    const cls = param(rt, [1, 1, 6], 5);
    const x = param(rt, [2, 3, 6], 6);
    const mid = param(rt, [1, 2, 6], 7);
    gradcheck(rt, () => concatSeq(rt, [cls, x, mid]), [cls, x, mid], { samples: 40 });
    gradcheck(rt, () => concatSeq(rt, [x, cls, x]), [x, cls], { samples: 40 });
  });

  it('selectSeq reads one position of each sequence; its gradient lands on that row only', () => {
    const x = param(rt, [3, 4, 5], 8);
    const got = rt.step.scope(() => selectSeq(rt, x, 2).toArray());
    const d = x.f32();
    const want: number[] = [];
    for (let b = 0; b < 3; b++) for (let c = 0; c < 5; c++) want.push(d[(b * 4 + 2) * 5 + c]!);
    expect(got).toEqual(want);
    gradcheck(rt, () => selectSeq(rt, x, 2), [x], { samples: 60 });
    // selecting through a concat: the [CLS] row of a joined sequence is the cls parameter itself
    const cls = param(rt, [1, 1, 5], 9);
    gradcheck(rt, () => selectSeq(rt, concatSeq(rt, [cls, x]), 0), [cls, x], { samples: 60 });
  });

  it('bad shapes throw ShapeError naming the shapes', () => {
    const a = rt.zeros([2, 3, 4]);
    expect(() => concatSeq(rt, [a, rt.zeros([2, 3, 5])])).toThrow(ShapeError);
    expect(() => concatSeq(rt, [a, rt.zeros([2, 3, 5])])).toThrow(/parts\[1\] has width 5, parts\[0\] has 4; shapes \[2, 3, 4\], \[2, 3, 5\]/);
    expect(() => concatSeq(rt, [a, rt.zeros([3, 1, 4])])).toThrow(/parts\[0\] holds 2 sequences, expected 3 or 1 \(broadcast\); shapes \[2, 3, 4\], \[3, 1, 4\]/);
    expect(() => concatSeq(rt, [a, rt.zeros([3, 4])])).toThrow(/parts\[1\] has shape \[3, 4\], expected \(B, T, C\)/);
    expect(() => concatSeq(rt, [])).toThrow(/no tensors/);
    expect(() => concatSeq(rt, [a, rt.zeros([2, 1, 4], { dtype: 'i32' })])).toThrow(/expected dtype f32/);
    expect(() => selectSeq(rt, a, 3)).toThrow(/position 3 is outside 0 … 2 of x \[2, 3, 4\]/);
    expect(() => selectSeq(rt, rt.zeros([3, 4]), 0)).toThrow(/x has shape \[3, 4\], expected \(B, T, C\)/);
  });
});
