// AdamW through the optimizer class, on each wasm build and the JS backend, against PyTorch 1.13's
// torch.optim.AdamW on the same start, gradients and hyper-parameters (test/fixtures/make-adamw.py:
// a decayed (6, 5) matrix and an undecayed (7) vector, 10 steps, β = (0.9, 0.999)).
// Parameters are ~1e-3, so the updates (~1e-3 each) dominate what is compared, not p's rounding.
// Bound per element, summed over the steps s: both sides round p once per step (u·|p_s| each)
// and compute the step r_s = m̂/(√v̂ + eps) to a relative 45u (the kernel test's carried bound
// after 10 steps: v to 44u, so √v to 22u; m to 4u per step; the divisions and products 10u),
// so |ours − torch| ≤ Σ_s (2u·|p_s| + 2·45u·lr·|r_s|), r_s from an f64 replay of PyTorch's formula.
// Taking 1 − β from f32(β) (the old kernel) moved every step by 6.5e-6 ≈ 109u relatively and the
// sums by up to 10·109u·lr·|r|: the kernel test (test/kernels/optim.test.ts) pins that exactly;
// here the whole path (ParameterSet, groups, bias corrections, the backends) is checked.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdamW, createRuntime, ParameterSet, type Backend } from '../../src/index.js';

interface Fixture {
  hyper: { lr: number; betas: [number, number]; eps: number; weight_decay: number };
  start: { w: number[]; b: number[] };
  grads: { w: number[]; b: number[] }[];
  end: { w: number[]; b: number[] };
}
const F = JSON.parse(readFileSync(join(__dirname, '../fixtures/adamw-pytorch.json'), 'utf8')) as Fixture;
const u = 2 ** -24;

/** PyTorch's AdamW in f64 on one element; returns the bound's per-step terms summed. */
function bound(p0: number, grads: number[], wd: number): number {
  const { lr, betas: [b1, b2], eps } = F.hyper;
  let p = p0, m = 0, v = 0, e = 0;
  grads.forEach((g, s) => {
    const t = s + 1;
    p *= 1 - lr * wd;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const r = (m / (1 - b1 ** t)) / (Math.sqrt(v / (1 - b2 ** t)) + eps);
    p -= lr * r;
    e += 2 * u * Math.abs(p) + 2 * 45 * u * lr * Math.abs(r);
  });
  return e;
}

describe.each(['simd', 'relaxed', 'js'] as Backend[])('AdamW (%s) against PyTorch', (variant) => {
  it('10 steps over a decayed and an undecayed group agree to f32 rounding', async () => {
    const rt = await createRuntime({ variant, threads: 1 });
    try {
      const ps = new ParameterSet();
      const w = ps.declare('w', [6, 5], 'zeros', true), b = ps.declare('b', [7], 'zeros', false);
      ps.allocate(rt, 1);
      w.value.set(F.start.w);
      b.value.set(F.start.b);
      const { lr, betas, eps, weight_decay } = F.hyper;
      const opt = new AdamW(ps, { betas, eps, weightDecay: weight_decay });
      for (const g of F.grads) {
        w.value.grad!.set(g.w);
        b.value.grad!.set(g.b);
        opt.step({ lr });
      }
      for (const [name, p, wd] of [['w', w, weight_decay], ['b', b, 0]] as const) {
        const ours = p.value.f32(), theirs = F.end[name];
        for (let i = 0; i < theirs.length; i++) {
          const e = bound(F.start[name][i]!, F.grads.map((g) => g[name][i]!), wd);
          expect(Math.abs(ours[i]! - theirs[i]!), `${variant} ${name}[${i}]: ${ours[i]} vs PyTorch ${theirs[i]} (bound ${e.toExponential(2)})`).toBeLessThanOrEqual(e);
        }
      }
    } finally {
      rt.dispose();
    }
  });
});
