// Finite-difference gradient checks through the autograd tape. A check builds a scalar
// loss = Σ out ⊙ w (w fixed random weights, the sum in f64 in JS) from the op under test,
// back-propagates once, then compares sampled gradient entries with central differences
// (L(x + ε) − L(x − ε)) / 2ε evaluated without gradients.
//
// Tolerance: |analytic − numeric| ≤ rtol·|numeric| + atol·scale, where scale is the largest
// |numeric| seen for that input. Two errors enter the numeric side: truncation, O(ε²·L''')
// (≈ 1e-4 relative for ε = 1e-2 on O(1) inputs), and the f32 rounding of the op's outputs
// divided by 2ε: about u·√N·|out|·|w| / ε ≈ 6e-8·30/1e-2 ≈ 2e-4 of the gradient scale for
// N ≈ 1000 outputs. The defaults (rtol 1e-2, atol 3e-3) leave a 10× margin over both and
// still catch any real error (a wrong sign, a missing term, a dropped head: ≥ 10% off).
// Whole models are checked with `richardson`: (4·D(ε/2) − D(ε)) / 3 cancels the ε² term, so
// ε can stay large (1e-2) where the f32 loss's own rounding, ≈ 10·u·|L| per evaluation, would
// otherwise swamp a small ε; that rounding, divided by the step, is added to the tolerance.
import { expect } from 'vitest';
import { gradOf, Rng, type Runtime, type Tensor } from '../../src/index.js';

/** loss = Σ out ⊙ w (f64), differentiable: its backward adds w into out.grad. */
export function weightedSum(rt: Runtime, out: Tensor, w: Float64Array): Tensor {
  const loss = rt.tensor([weightedSumValue(out, w)], [1], { arena: 'step' });
  if (rt.tape.needsGrad(out)) {
    rt.tape.record('weightedSum', loss, () => {
      const g = gradOf(rt, out).f32();
      const scale = loss.grad!.item();
      for (let i = 0; i < g.length; i++) g[i] = g[i]! + scale * w[i]!;
    });
  }
  return loss;
}

/** f64 value of a scalar built by `f` (run without gradients, inside a step scope). */
function lossValue(rt: Runtime, f: () => Tensor, w: () => Float64Array): number {
  return rt.step.scope(() => rt.tape.noGrad(() => weightedSumValue(f(), w())));
}

/** Σ out ⊙ w in f64; with no weights, the value of a one-element `out` (an op that is already a loss). */
function weightedSumValue(out: Tensor, w: Float64Array): number {
  if (out.size === 1 && w.length === 0) return out.item();
  const d = out.f32();
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i]! * w[i]!;
  return s;
}

export interface GradcheckOptions {
  eps?: number;
  rtol?: number;
  atol?: number;
  /** Entries sampled per input (default 24, or all if fewer). */
  samples?: number;
  /** Use Richardson extrapolation of central differences at ε and ε/2 (whole models). */
  richardson?: boolean;
  /** The op's output is already the scalar loss (e.g. crossEntropy): no weighted sum. */
  scalar?: boolean;
  seed?: number;
}

/**
 * Checks d(loss)/d(input) for every tensor in `inputs` (each must have requiresGrad = true and
 * live in the persistent arena): `f` recomputes the op's output from the current input values.
 */
export function gradcheck(rt: Runtime, f: () => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): void {
  const eps = opts.eps ?? 1e-2;
  const rtol = opts.rtol ?? 1e-2;
  const atol = opts.atol ?? 3e-3;
  const rng = new Rng(opts.seed ?? 7);
  let weights = new Float64Array(0);
  const w = () => weights;
  // analytic
  rt.step.reset();
  rt.tape.clear();
  for (const x of inputs) {
    if (x.grad) x.grad.f32().fill(0);
    else x.grad = rt.zeros(x.shape);
  }
  const out = f();
  if (!opts.scalar) {
    weights = new Float64Array(out.size);
    for (let i = 0; i < weights.length; i++) weights[i] = rng.uniform() * 2 - 1;
  }
  const loss = opts.scalar ? out : weightedSum(rt, out, weights);
  rt.tape.backward(loss);
  const analytic = inputs.map((x) => Float64Array.from(x.grad!.f32()));
  rt.step.reset();
  // numeric
  inputs.forEach((x, which) => {
    const n = x.size;
    const count = Math.min(n, opts.samples ?? 24);
    const picks = count === n ? [...Array(n).keys()] : Array.from({ length: count }, () => rng.int(n));
    const rows: [number, number, number][] = [];
    let lossScale = 0;
    const central = (i: number, h: number): number => {
      const orig = x.f32()[i]!;
      x.f32()[i] = orig + h;
      const plus = lossValue(rt, f, w);
      x.f32()[i] = orig - h;
      const minus = lossValue(rt, f, w);
      x.f32()[i] = orig;
      lossScale = Math.max(lossScale, Math.abs(plus), Math.abs(minus));
      return (plus - minus) / (2 * h);
    };
    for (const i of picks) {
      const numeric = opts.richardson ? (4 * central(i, eps / 2) - central(i, eps)) / 3 : central(i, eps);
      rows.push([i, analytic[which]![i]!, numeric]);
    }
    const u = 2 ** -24;
    const noise = opts.richardson ? (10 * u * lossScale) / (eps / 2) * 2 : 0;
    const scale = Math.max(1e-6, ...rows.map((r) => Math.abs(r[2])));
    const bad = rows.filter(([, a, num]) => !(Math.abs(a - num) <= rtol * Math.abs(num) + atol * scale + noise));
    if (bad.length) {
      const show = bad.slice(0, 5).map(([i, a, num]) => `[${i}] analytic ${a.toExponential(4)} numeric ${num.toExponential(4)}`).join('; ');
      expect.fail(`gradient of input ${which} (${x.describe()}) differs at ${bad.length}/${rows.length} entries (scale ${scale.toExponential(2)}): ${show}`);
    }
  });
}

/** A persistent f32 tensor of N(0, std²) values that requires gradients. */
export function param(rt: Runtime, shape: number[], seed: number, std = 1): Tensor {
  const t = rt.randn(shape, { seed, std });
  t.requiresGrad = true;
  return t;
}
