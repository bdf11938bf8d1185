// Fused softmax cross-entropy of the output head, with PyTorch's label smoothing ε: the forward
// saves only lse = log Σ_j exp(z_j) per row, and the backward rebuilds p = exp(z − lse) from it.
// Contract: logits finite; targets[i] in [0, V) or == ignore_index (such rows get loss 0 and no
// gradient, though lse is still written); V ≥ 1; pointers need 4-byte alignment only; no overlaps.
// Rows are independent, so callers may split them across threads.
import { madd, hsum, hmax, exp4, exp1, exp4Nonpos, exp1Nonpos } from "./simd_math";

/** Largest of the c finite values x[0..c). */
function rowMax(x: usize, c: i32): f32 {
  let m0 = f32x4.splat(-Infinity), m1 = m0, m2 = m0, m3 = m0;
  let j = 0;
  for (; j + 16 <= c; j += 16) {
    const p = x + (<usize>j << 2);
    m0 = f32x4.pmax(m0, v128.load(p));      m1 = f32x4.pmax(m1, v128.load(p, 16));
    m2 = f32x4.pmax(m2, v128.load(p, 32));  m3 = f32x4.pmax(m3, v128.load(p, 48));
  }
  for (; j + 4 <= c; j += 4) m0 = f32x4.pmax(m0, v128.load(x + (<usize>j << 2)));
  let m = hmax(f32x4.max(f32x4.max(m0, m1), f32x4.max(m2, m3)));
  for (; j < c; j++) m = max<f32>(m, load<f32>(x + (<usize>j << 2)));
  return m;
}

/**
 * losses (N) and lse (N) from logits (N, V) and targets (N):
 *   lse[i]    = log Σ_j exp(z_ij)
 *   losses[i] = lse[i] − (1−ε)·z[i,t] − (ε/V)·Σ_j z_ij  = −(1−ε)·log p_t − (ε/V)·Σ_j log p_j
 * Evaluated shifted by the row max m, with a_j = z_j − m ≤ 0 and S = Σ_j exp(a_j) ∈ [1, V]:
 *   lse = m + log S,  loss = log S − (1−ε)·a_t − (ε/V)·Σ_j a_j
 * so no exponent is positive (huge logits cannot overflow) and the loss is a sum of three
 * non-negative terms (no cancellation, even when lse ≈ z_t ≈ 1e4). exp is simd_math's
 * exp4Nonpos (relative error ≤ 3.1·2^-24); S and Σ a_j are f32 sums of one sign (16 and 8
 * partial sums, so each term meets ≤ V/16 + 7 roundings); log S and the final combination are in f64.
 */
export function crossentropy_forward(losses: usize /* (N) */, lse: usize /* (N) */, logits: usize /* (N, V) */,
  targets: usize /* (N) i32 */, n: i32, v: i32, smoothing: f32, ignore_index: i32): void {
  for (let r = 0; r < n; r++) {
    const x = logits + (<usize>r * <usize>v << 2);
    const m = rowMax(x, v);
    const mv = f32x4.splat(m);
    let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;     // Σ exp(a_j)
    let a0 = s0, a1 = s0;                                     // Σ a_j
    let j = 0;
    for (; j + 16 <= v; j += 16) {
      const p = x + (<usize>j << 2);
      const d0 = f32x4.sub(v128.load(p), mv),     d1 = f32x4.sub(v128.load(p, 16), mv);
      const d2 = f32x4.sub(v128.load(p, 32), mv), d3 = f32x4.sub(v128.load(p, 48), mv);
      s0 = f32x4.add(s0, exp4Nonpos(d0)); s1 = f32x4.add(s1, exp4Nonpos(d1));
      s2 = f32x4.add(s2, exp4Nonpos(d2)); s3 = f32x4.add(s3, exp4Nonpos(d3));
      a0 = f32x4.add(a0, f32x4.add(d0, d1)); a1 = f32x4.add(a1, f32x4.add(d2, d3));
    }
    for (; j + 4 <= v; j += 4) {
      const d = f32x4.sub(v128.load(x + (<usize>j << 2)), mv);
      s0 = f32x4.add(s0, exp4Nonpos(d));
      a0 = f32x4.add(a0, d);
    }
    let s = hsum(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)));
    let a = hsum(f32x4.add(a0, a1));
    for (; j < v; j++) {
      const d = load<f32>(x + (<usize>j << 2)) - m;
      s += exp1Nonpos(d);
      a += d;
    }
    const logS = Math.log(<f64>s);
    store<f32>(lse + (<usize>r << 2), <f32>(<f64>m + logS));
    const t = load<i32>(targets + (<usize>r << 2));
    let loss: f64 = 0;
    if (t != ignore_index) {
      const eps = <f64>smoothing;
      const at = <f64>load<f32>(x + (<usize>t << 2)) - <f64>m;  // exact in f64
      loss = logS - (1 - eps) * at - (eps / <f64>v) * <f64>a;
    }
    store<f32>(losses + (<usize>r << 2), <f32>loss);
  }
}

/**
 * dlogits (N, V) += scale·(exp(z_ij − lse_i) − (1−ε)·[j == t] − ε/V), differentiating
 *   losses[i] = lse[i] − (1−ε)·z[i,t] − (ε/V)·Σ_j z_ij
 * (times `scale`, e.g. 1/N for a mean). Rows whose target is ignore_index are left untouched.
 * lse comes from the host, so exp is simd_math's full-range exp4 (≤ 1.05 ulp), which does not
 * rely on z ≤ lse. The target column is redone in scalar from its saved old value, so it gets
 * one expression (p − (1−ε)) − ε/V, in which p − (1−ε) is exact when p ≈ 1−ε.
 */
export function crossentropy_backward(dlogits: usize /* (N, V) */, logits: usize /* (N, V) */, lse: usize /* (N) */,
  targets: usize /* (N) i32 */, n: i32, v: i32, smoothing: f32, ignore_index: i32, scale: f32): void {
  const off = <f32>(<f64>smoothing / <f64>v);                // ε/V
  const onTarget = <f32>(1 - <f64>smoothing);                // 1 − ε
  const sv = f32x4.splat(scale), ov = f32x4.splat(off);
  for (let r = 0; r < n; r++) {
    const t = load<i32>(targets + (<usize>r << 2));
    if (t == ignore_index) continue;
    const x = logits + (<usize>r * <usize>v << 2);
    const d = dlogits + (<usize>r * <usize>v << 2);
    const l = load<f32>(lse + (<usize>r << 2));
    const lv = f32x4.splat(l);
    const dt = load<f32>(d + (<usize>t << 2));                // d[t] before this row's update
    let j = 0;
    for (; j + 8 <= v; j += 8) {
      const o = <usize>j << 2;
      const p0 = exp4(f32x4.sub(v128.load(x + o), lv)), p1 = exp4(f32x4.sub(v128.load(x + o, 16), lv));
      v128.store(d + o, madd(sv, f32x4.sub(p0, ov), v128.load(d + o)));
      v128.store(d + o, madd(sv, f32x4.sub(p1, ov), v128.load(d + o, 16)), 16);
    }
    for (; j + 4 <= v; j += 4) {
      const o = <usize>j << 2;
      const p = exp4(f32x4.sub(v128.load(x + o), lv));
      v128.store(d + o, madd(sv, f32x4.sub(p, ov), v128.load(d + o)));
    }
    for (; j < v; j++) {
      const o = <usize>j << 2;
      store<f32>(d + o, load<f32>(d + o) + scale * (exp1(load<f32>(x + o) - l) - off));
    }
    const pt = exp1(load<f32>(x + (<usize>t << 2)) - l);
    store<f32>(d + (<usize>t << 2), dt + scale * ((pt - onTarget) - off));
  }
}
