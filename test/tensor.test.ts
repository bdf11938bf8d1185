import { describe, expect, it } from 'vitest';
import { createRuntime, DTypeError, Rng, ShapeError, portableLog } from '../src/index.js';

describe('tensors', () => {
  it('are created from arrays, read back, and carry shape and dtype', async () => {
    const rt = await createRuntime({ variant: 'simd' });
    const x = rt.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(x.shape).toEqual([2, 3]);
    expect(x.size).toBe(6);
    expect(x.dtype).toBe('f32');
    expect(x.describe()).toBe('f32[2, 3]');
    expect(x.toArray()).toEqual([1, 2, 3, 4, 5, 6]);
    const ids = rt.tensor([0, -5, 2147483647], [3], { dtype: 'i32' });
    expect(ids.i32()).toEqual(new Int32Array([0, -5, 2147483647]));
    expect(rt.zeros([3, 2]).toArray()).toEqual([0, 0, 0, 0, 0, 0]);
    expect(x.ptr % 64).toBe(0);
  });

  it('reject bad shapes and values with the numbers at fault', async () => {
    const rt = await createRuntime({ variant: 'simd' });
    expect(() => rt.tensor([1, 2, 3], [2, 2])).toThrow(/3 values do not fill shape \[2, 2\] \(4 elements\)/);
    expect(() => rt.zeros([2, 0])).toThrow(ShapeError);
    expect(() => rt.zeros([-1])).toThrow(/dimension -1/);
    expect(() => rt.zeros([1.5])).toThrow(/dimension 1.5/);
    expect(() => rt.tensor([1.5], [1], { dtype: 'i32' })).toThrow(/value 1.5 at index 0 is not a 32-bit integer/);
    expect(() => rt.tensor([1], [1], { dtype: 'i32' }).f32()).toThrow(DTypeError);
    expect(() => rt.tensor([1, 2]).set([1])).toThrow(/set\(\) got 1 values, expected 2/);
  });

  it('random initialisation is seeded and the same in every runtime', async () => {
    const rt = await createRuntime({ variant: 'simd' });
    const a = rt.randn([1000], { seed: 7 });
    const b = rt.randn([1000], { seed: 7 });
    expect(a.toArray()).toEqual(b.toArray());
    expect(rt.randn([1000], { seed: 8 }).toArray()).not.toEqual(a.toArray());
    // Golden values: integer xoshiro128** and our own log make these bit-identical in every
    // JavaScript engine; a change here breaks reproducibility of every seeded run.
    const r = new Rng(42);
    expect([r.nextU32(), r.nextU32(), r.nextU32(), r.nextU32()]).toEqual([2837322924, 544945897, 479756282, 3500138142]);
    expect(rt.randn([4], { seed: 42 }).toArray()).toEqual([0.3187578618526459, -0.7706159949302673, 0.15178267657756805, -0.12624146044254303]);
    const u = rt.uniform([10000], { seed: 3, low: -2, high: 3 }).toArray();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u)).toBeLessThan(3);
  });

  it('normal and uniform draws have the right moments (5-sigma bounds over 200k draws)', async () => {
    const rt = await createRuntime({ variant: 'simd' });
    const n = 200_000;
    const z = rt.randn([n], { seed: 11, mean: 2, std: 3 }).f32();
    let s = 0, s2 = 0;
    for (const v of z) { s += v; s2 += v * v; }
    const mean = s / n, variance = s2 / n - mean * mean;
    expect(Math.abs(mean - 2)).toBeLessThan(5 * 3 / Math.sqrt(n));
    expect(Math.abs(variance - 9)).toBeLessThan(5 * 9 * Math.sqrt(2 / n));
    const rng = new Rng(5);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70000; i++) counts[rng.int(7)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(5 * Math.sqrt(10000));
  });

  it('portableLog matches Math.log to within 2 ulp over the whole range', () => {
    for (const x of [1e-300, 3e-20, 0.001, 0.3, 0.5, 0.7071, 0.99999, 1, 1.000001, 1.5, 2, 10, 12345.678, 1e30, 1.7e308]) {
      const want = Math.log(x);
      const ulp = Math.max(Number.EPSILON * Math.abs(want), Number.MIN_VALUE);
      expect(Math.abs(portableLog(x) - want)).toBeLessThanOrEqual(2 * ulp);
    }
  });
});
