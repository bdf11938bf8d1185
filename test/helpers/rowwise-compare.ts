// Comparison, random-data and finite-difference helpers for the row-wise and elementwise
// kernel tests (softmax, layernorm, activation, elementwise). Failing comparisons print the
// first mismatches and the largest difference (through test/helpers/compare.ts), as llm.c's
// checks do; tolerances here are written as multiples of the f32 unit roundoff.
import { expectClose } from './compare';

/** Unit roundoff of f32: half an ulp of 1. Tolerances below are written as multiples of it. */
export const U32 = 2 ** -24;

/**
 * |actual − expected| ≤ atol + rtol·|expected| per element; equal infinities and equal NaNs pass.
 * `atol` may be one number or one bound per element (for errors that vary along the data).
 */
export interface Tol { atol: number | ArrayLike<number>; rtol: number }

/** Largest |x| over an array (0 for an empty one). */
export function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!));
  return m;
}

/**
 * Fails with the first mismatches and the max difference (through the shared expectClose) when
 * any element is out of tolerance. ROWWISE_TOL_REPORT=1 also prints the fraction of the tolerance
 * used, to keep tolerances honest (derived bounds, not numbers tuned until the tests pass).
 */
export function expectNear(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tol, label: string): void {
  const { atol, rtol } = tol;
  const allowed = (i: number) => (typeof atol === 'number' ? atol : atol[i]!) + rtol * Math.abs(expected[i]!);
  if (globalThis.process?.env.ROWWISE_TOL_REPORT) {
    let worst = 0;
    for (let i = 0; i < expected.length; i++) {
      const d = Math.abs(actual[i]! - expected[i]!), lim = allowed(i);
      if (d > 0) worst = Math.max(worst, lim > 0 ? d / lim : Infinity);
    }
    console.log(`${label}: ${(100 * worst).toFixed(1)}% of tolerance`);
  }
  expectClose(actual, expected, allowed, label);
}

/** A small seeded generator (mulberry32) so every run and variant sees the same data. */
export function rng(seed: number): { uniform(lo?: number, hi?: number): number; normal(): number } {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    uniform: (lo = 0, hi = 1) => lo + (hi - lo) * next(),
    normal: () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()),
  };
}

/** n f32-representable values from `gen` (so f32 and f64 copies hold the same numbers). */
export function randomF32(n: number, gen: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = gen();
  return a;
}

/**
 * Central finite difference d loss / d x[i] in f64 for each i in `indices`: (L(x+h) − L(x−h)) / 2h.
 * With h = 1e-5 and smooth unit-scale functions the truncation error h²·|L'''|/6 and the rounding
 * error ≈ 1e-16·|L|/h are both ≲ 1e-10, far below the 1e-6 the tests allow.
 */
export function finiteDiff(loss: () => number, x: Float64Array, indices: number[], h = 1e-5): number[] {
  return indices.map((i) => {
    const x0 = x[i]!;
    x[i] = x0 + h;
    const lp = loss();
    x[i] = x0 - h;
    const lm = loss();
    x[i] = x0;
    return (lp - lm) / (2 * h);
  });
}

/** Σ_i a[i]·b[i] in f64. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** A few indices spread over [0, n): the ends, the middle and some random ones. */
export function sampleIndices(n: number, count: number, seed = 7): number[] {
  const r = rng(seed), set = new Set<number>([0, n - 1, n >> 1]);
  while (set.size < Math.min(n, count)) set.add(Math.floor(r.uniform(0, n)));
  return [...set].sort((a, b) => a - b);
}
