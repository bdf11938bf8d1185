// adamw_f32 / sgd_f32 / sumsq_f32 on every wasm variant: several steps of each optimizer against
// an f64 reference written here the way PyTorch states it (AdamW: decay param, then the Adam step
// with lr/bc1 and sqrt(v)/sqrt(bc2); SGD: buf = g on the first step), with error bounds carried
// from step to step; sizes around the 4-wide step and {768, 769}; unaligned views; weight decay on
// and off, grad_scale ≠ 1, nesterov on and off, momentum 0. The twins (src/ref/optim.ts) are
// checked against the same references. sumsq: f64 accuracy on 3M elements, NaN/Inf detection.
import { describe, it, expect } from 'vitest';
import { harness, VARIANTS, type Harness } from '../helpers/harness';
import { adamwF32, sgdF32, sumsqF32 } from '../../src/ref/optim';
import { expectNear, rng, randomF32, U32 } from '../helpers/rowwise-compare';

const SIZES = [0, 1, 3, 4, 5, 7, 8, 768, 769];
const STEPS = 5;
const f = Math.fround;
const u = U32;

/** Copies `data` into wasm memory at a 64-byte boundary + 4·shift bytes (shift 1 = unaligned view). */
function put(h: Harness, data: ArrayLike<number>, shift = 0): number {
  const p = h.alloc(data.length + shift) + 4 * shift;
  h.f32(p, data.length).set(data);
  return p;
}

// β as users write them (not f32 values): the kernel takes β and 1 − β each rounded once from f64,
// as PyTorch's scalars are; 1 − f32(β) instead would be 1.3e-5 relatively off for β = 0.999.
const ADAM = [
  { lr: f(1e-3), beta1: 0.9, beta2: 0.999, eps: f(1e-8), wd: f(0.1), gs: 1 },
  { lr: f(3e-4), beta1: 0.9, beta2: 0.95, eps: f(1e-8), wd: 0, gs: f(0.37) },
  { lr: f(1e-2), beta1: 0.8, beta2: 0.99, eps: f(1e-6), wd: f(0.01), gs: 4 },
];

// AdamW error bounds, carried per element from step to step (ep, em absolute; rv relative, v > 0):
//   β and 1−β reach the kernel rounded to f32 (relative u each), one more u on every term below.
//   g = grad·gs: u|g| (0 when gs = 1);  m = β1·m + (1−β1)·g: β1·em + (1−β1)·eg + 4u(β1|m| + (1−β1)|g|)
//   v = β2·v + (1−β2)·g², all terms ≥ 0: rv ← max(rv, 4u) + 4u (g² ≤ 3u, β's rounding, then a product and a sum)
//   mh = m·fl(1/bc1): em/bc1 + 2u|mh|;  den = sqrt(v·fl(1/bc2)) + eps: relative (rv + 2u)/2 + 2u
//   r = mh/den: e_mh/den + |r|·(rden + u);  param ← param − lr·(wd·param + r) with four roundings:
//   ep·(1 + lr·wd) + lr·e_r + 3u·lr(wd|param| + |r|) + u|param'|.
function adamReference(p: Float64Array, m: Float64Array, v: Float64Array, grads: Float32Array[], c: (typeof ADAM)[number]) {
  const n = p.length, ep = new Float64Array(n), em = new Float64Array(n), rv = new Float64Array(n);
  grads.forEach((G, s) => {
    const bc1 = f(1 - c.beta1 ** (s + 1)), bc2 = f(1 - c.beta2 ** (s + 1));
    for (let i = 0; i < n; i++) {
      const g = G[i]! * c.gs, eg = c.gs === 1 ? 0 : u * Math.abs(g);
      em[i] = c.beta1 * em[i]! + (1 - c.beta1) * eg + 4 * u * (c.beta1 * Math.abs(m[i]!) + (1 - c.beta1) * Math.abs(g));
      rv[i] = Math.max(rv[i]!, 4 * u) + 4 * u;
      m[i] = c.beta1 * m[i]! + (1 - c.beta1) * g;
      v[i] = c.beta2 * v[i]! + (1 - c.beta2) * g * g;
      // PyTorch's AdamW: param ·= 1 − lr·wd; param −= (lr/bc1)·m / (sqrt(v)/sqrt(bc2) + eps)
      const den = Math.sqrt(v[i]!) / Math.sqrt(bc2) + c.eps, r = (m[i]! / bc1) / den;
      const er = (em[i]! / bc1 + 2 * u * Math.abs(m[i]! / bc1)) / den + Math.abs(r) * ((rv[i]! + 2 * u) / 2 + 3 * u);
      const p0 = p[i]!;
      p[i] = p0 * (1 - c.lr * c.wd) - (c.lr / bc1) * m[i]! / den;
      ep[i] = ep[i]! * (1 + c.lr * c.wd) + c.lr * er + 3 * u * c.lr * (c.wd * Math.abs(p0) + Math.abs(r)) + u * Math.abs(p[i]!);
    }
  });
  return { ep, em, rv };
}

const SGD = [
  { lr: f(0.1), momentum: f(0.9), wd: f(1e-2), nesterov: 0, gs: 1 },
  { lr: f(0.05), momentum: f(0.9), wd: f(1e-2), nesterov: 1, gs: f(0.37) },
  { lr: f(0.1), momentum: f(0.5), wd: 0, nesterov: 1, gs: 1 },
  { lr: f(0.1), momentum: 0, wd: f(1e-3), nesterov: 0, gs: 2 },
];

// SGD error bounds per element, carried across steps:
//   g = grad·gs + wd·param (3 roundings): wd·ep + 2u(|grad·gs| + wd|param|)
//   buf = μ·buf + g: μ·eb + eg + 2u(μ|buf| + |g|);  d = g + μ·buf (nesterov): eg + μ·eb + 2u(|g| + μ|buf|), else buf
//   param −= lr·d: ep + lr·ed + u(lr|d| + |param'|)
function sgdReference(p: Float64Array, grads: Float32Array[], c: (typeof SGD)[number]) {
  const n = p.length, buf = new Float64Array(n), ep = new Float64Array(n), eb = new Float64Array(n);
  grads.forEach((G, s) => {
    for (let i = 0; i < n; i++) {
      const g = G[i]! * c.gs + c.wd * p[i]!;
      const eg = c.wd * ep[i]! + 2 * u * (Math.abs(G[i]! * c.gs) + c.wd * Math.abs(p[i]!));
      let d = g, ed = eg;
      if (c.momentum !== 0) {
        eb[i] = c.momentum * eb[i]! + eg + 2 * u * (c.momentum * Math.abs(buf[i]!) + Math.abs(g));
        buf[i] = s === 0 ? g : c.momentum * buf[i]! + g;          // PyTorch: the first step sets buf = g
        d = c.nesterov ? g + c.momentum * buf[i]! : buf[i]!;
        ed = c.nesterov ? eg + c.momentum * eb[i]! + 2 * u * (Math.abs(g) + c.momentum * Math.abs(buf[i]!)) : eb[i]!;
      }
      p[i] = p[i]! - c.lr * d;
      ep[i] = ep[i]! + c.lr * ed + u * (c.lr * Math.abs(d) + Math.abs(p[i]!));
    }
  });
  return { buf, ep };
}

describe.each(VARIANTS)('optim %s', (variant) => {
  const h = harness(variant);
  const r = rng(31);

  it('adamw_f32: several steps against the f64 PyTorch formula; grad untouched', () => {
    for (const n of SIZES) for (const [k, c] of ADAM.entries()) {
      h.reset();
      const shift = (n + k) % 2;
      const p0 = randomF32(n, () => r.normal()), grads = Array.from({ length: STEPS }, () => randomF32(n, () => 0.1 * r.normal()));
      if (n > 2) grads.forEach((G) => { G[1] = 0; });                   // a zero gradient: v = 0, den = eps
      const pp = put(h, p0, shift), pg = put(h, new Float32Array(n), shift);
      const pm = put(h, new Float32Array(n), 1 - shift), pv = put(h, new Float32Array(n), shift);
      const twin = { p: Float64Array.from(p0), m: new Float64Array(n), v: new Float64Array(n) };
      grads.forEach((G, s) => {
        h.f32(pg, n).set(G);
        const bc1 = f(1 - c.beta1 ** (s + 1)), bc2 = f(1 - c.beta2 ** (s + 1));
        h.k.adamw_f32!(pp, pg, pm, pv, n, c.lr, c.beta1, c.beta2, 1 - c.beta1, 1 - c.beta2, c.eps, c.wd, bc1, bc2, c.gs);
        adamwF32(twin.p, G, twin.m, twin.v, n, c.lr, c.beta1, c.beta2, 1 - c.beta1, 1 - c.beta2, c.eps, c.wd, bc1, bc2, c.gs);
        expectNear(h.f32(pg, n), G, { atol: 0, rtol: 0 }, `${variant} adamw grad untouched`);
      });
      const p = Float64Array.from(p0), m = new Float64Array(n), v = new Float64Array(n);
      const { ep, em, rv } = adamReference(p, m, v, grads, c);
      const label = `${variant} adamw n ${n} config ${k}`;
      expectNear(h.f32(pp, n), p, { atol: ep, rtol: 0 }, `${label} param`);
      expectNear(h.f32(pm, n), m, { atol: em, rtol: 0 }, `${label} m`);
      expectNear(h.f32(pv, n), v, { atol: 0, rtol: Math.max(...rv, 0) }, `${label} v`);
      // The f64 twin is the same formula in another arrangement: equal to f64 rounding.
      expectNear(twin.p, p, { atol: 1e-14, rtol: 1e-12 }, `${label} twin`);
    }
  });

  it('sgd_f32: several steps against the f64 PyTorch formula (momentum, nesterov, weight decay)', () => {
    for (const n of SIZES) for (const [k, c] of SGD.entries()) {
      h.reset();
      const shift = (n + k) % 2;
      const p0 = randomF32(n, () => r.normal()), grads = Array.from({ length: STEPS }, () => randomF32(n, () => r.normal()));
      const pp = put(h, p0, shift), pg = put(h, new Float32Array(n), 1 - shift);
      const pb = put(h, new Float32Array(n).fill(c.momentum === 0 ? NaN : 0), shift);   // momentum 0: never read
      const twin = { p: Float64Array.from(p0), buf: new Float64Array(n) };
      for (const G of grads) {
        h.f32(pg, n).set(G);
        h.k.sgd_f32!(pp, pg, pb, n, c.lr, c.momentum, c.wd, c.nesterov, c.gs);
        sgdF32(twin.p, G, c.momentum === 0 ? null : twin.buf, n, c.lr, c.momentum, c.wd, c.nesterov, c.gs);
        expectNear(h.f32(pg, n), G, { atol: 0, rtol: 0 }, `${variant} sgd grad untouched`);
      }
      const p = Float64Array.from(p0);
      const { buf, ep } = sgdReference(p, grads, c);
      const label = `${variant} sgd n ${n} config ${k}`;
      expectNear(h.f32(pp, n), p, { atol: ep, rtol: 0 }, `${label} param`);
      expectNear(twin.p, p, { atol: 1e-14, rtol: 1e-12 }, `${label} twin`);
      if (c.momentum === 0) for (const b of h.f32(pb, n)) expect(b).toBeNaN();
      else expectNear(twin.buf, buf, { atol: 1e-14, rtol: 1e-12 }, `${label} twin buf`);
    }
  });

  it('sgd_f32 with momentum 0 never touches momentum_buf, even at address 0', () => {
    h.reset();
    const n = 769, before = new Uint8Array(h.memory.buffer, 0, 4 * n).slice();
    const pp = put(h, randomF32(n, () => r.normal())), pg = put(h, randomF32(n, () => r.normal()));
    h.k.sgd_f32!(pp, pg, 0, n, 0.1, 0, 0.01, 1, 1);
    expect(new Uint8Array(h.memory.buffer, 0, 4 * n)).toEqual(before);
  });

  // sumsq: every x² is exact in f64 (24-bit mantissas), so the only errors are the f64 sums
  // (≤ n·2^-53 relative, in the kernel and in the twin alike) and the final rounding to f32 (u).
  const sumsqTol = (n: number) => ({ atol: 0, rtol: u + 2 * n * 2 ** -53 });

  it('sumsq_f32: Σx² in f64, every size and alignment, 3M elements to f32 accuracy', () => {
    for (const n of [...SIZES, 9, 15, 16, 17, 3_000_001]) for (const shift of [0, 1]) {
      h.reset();
      const x = randomF32(n, () => r.normal() * (1 + 100 * r.uniform()));
      const px = put(h, x, shift), po = put(h, [NaN]);
      h.k.sumsq_f32!(po, px, n);
      const want = new Float64Array(1);
      sumsqF32(want, x, n);
      expectNear(h.f32(po, 1), want, sumsqTol(n), `${variant} sumsq n ${n} shift ${shift}`);
    }
  });

  it('sumsq_f32: any NaN or ±Inf gives a non-finite result, wherever it sits', () => {
    for (const n of [1, 5, 8, 17, 769]) for (const bad of [NaN, Infinity, -Infinity]) for (const at of [0, n >> 1, n - 1]) {
      h.reset();
      const x = randomF32(n, () => r.normal());
      x[at] = bad;
      const px = put(h, x, 1), po = put(h, [0]);
      h.k.sumsq_f32!(po, px, n);
      const got = h.f32(po, 1)[0]!;
      expect(Number.isFinite(got), `${variant} n ${n} ${bad} at ${at}: ${got}`).toBe(false);
      if (Number.isNaN(bad)) expect(got).toBeNaN(); else expect(got).toBe(Infinity);
    }
  });

  it('sumsq_f32: large finite values do not overflow before the end; beyond f32 range gives +Inf', () => {
    h.reset();
    const big = new Float32Array(100).fill(1e18);                      // Σ = 1e38 < f32 max 3.4e38
    const po = put(h, [0]);
    h.k.sumsq_f32!(po, put(h, big), 100);
    expectNear(h.f32(po, 1), [1e38], sumsqTol(100), `${variant} sumsq 1e38`);
    h.k.sumsq_f32!(po, put(h, [2e19, 1]), 2);                           // 4e38 exceeds f32
    expect(h.f32(po, 1)[0]).toBe(Infinity);
  });
});
