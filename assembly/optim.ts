// Optimizer steps over flat f32 buffers (all parameters of a model carved from one allocation,
// so one call updates them all), and the squared gradient norm for clipping and NaN/Inf checks.
// Contract: any n ≥ 0; pointers need 4-byte alignment only; param, grad and the state buffers
// are disjoint. grad is only read. Bias corrections and grad_scale come from the host, so the
// kernels stay stateless: step t is wholly described by the arguments.
import { madd } from "./simd_math";

/**
 * One AdamW step (decoupled weight decay, as PyTorch's AdamW), elementwise over n:
 *   g = grad·grad_scale;  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
 *   param −= lr·(weight_decay·param + (m/bias_correction1) / (sqrt(v/bias_correction2) + eps))
 * with bias_correction_k = 1 − β_k^t. The divisions by the bias corrections are multiplications
 * by their f32 reciprocals. 1 − β_k comes from the host (one_minus_beta_k, computed in f64 and
 * rounded once, as PyTorch's scalar 1 − β): 1 − f32(β) would differ from it by up to 1.3e-5
 * relatively for β = 0.999, and every step would be that much off PyTorch's.
 */
export function adamw_f32(param: usize /* (n) */, grad: usize /* (n) */, m: usize /* (n) */, v: usize /* (n) */,
  n: i32, lr: f32, beta1: f32, beta2: f32, one_minus_beta1: f32, one_minus_beta2: f32, eps: f32, weight_decay: f32,
  bias_correction1: f32, bias_correction2: f32, grad_scale: f32): void {
  const ib1: f32 = 1 / bias_correction1, ib2: f32 = 1 / bias_correction2;
  const c1: f32 = one_minus_beta1, c2: f32 = one_minus_beta2;
  const gsv = f32x4.splat(grad_scale), b1v = f32x4.splat(beta1), b2v = f32x4.splat(beta2);
  const c1v = f32x4.splat(c1), c2v = f32x4.splat(c2), ib1v = f32x4.splat(ib1), ib2v = f32x4.splat(ib2);
  const epsv = f32x4.splat(eps), wdv = f32x4.splat(weight_decay), lrv = f32x4.splat(lr);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const g = f32x4.mul(v128.load(grad + o), gsv);
    const mi = madd(b1v, v128.load(m + o), f32x4.mul(c1v, g));
    const vi = madd(b2v, v128.load(v + o), f32x4.mul(c2v, f32x4.mul(g, g)));
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    const den = f32x4.add(f32x4.sqrt(f32x4.mul(vi, ib2v)), epsv);
    const step = f32x4.div(f32x4.mul(mi, ib1v), den);
    const p = v128.load(param + o);
    v128.store(param + o, f32x4.sub(p, f32x4.mul(lrv, madd(wdv, p, step))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(grad + o) * grad_scale;
    const mi = beta1 * load<f32>(m + o) + c1 * g;
    const vi = beta2 * load<f32>(v + o) + c2 * (g * g);
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    const step = (mi * ib1) / (Mathf.sqrt(vi * ib2) + eps);
    const p = load<f32>(param + o);
    store<f32>(param + o, p - lr * (weight_decay * p + step));
  }
}

/**
 * One SGD step with momentum (PyTorch's SGD with dampening 0), elementwise over n:
 *   g = grad·grad_scale + weight_decay·param;  buf = momentum·buf + g
 *   param −= lr·(nesterov ? g + momentum·buf : buf)
 * buf starting at zero makes the first step buf = g, as PyTorch's. With momentum == 0 this is
 * plain SGD, param −= lr·g, and momentum_buf is neither read nor written (it may be 0).
 */
export function sgd_f32(param: usize /* (n) */, grad: usize /* (n) */, momentum_buf: usize /* (n) */, n: i32,
  lr: f32, momentum: f32, weight_decay: f32, nesterov: i32, grad_scale: f32): void {
  const gsv = f32x4.splat(grad_scale), wdv = f32x4.splat(weight_decay), lrv = f32x4.splat(lr);
  const mv = f32x4.splat(momentum);
  const useBuf = momentum != 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const p = v128.load(param + o);
    const g = madd(wdv, p, f32x4.mul(v128.load(grad + o), gsv));
    let d = g;
    if (useBuf) {
      const b = madd(mv, v128.load(momentum_buf + o), g);
      v128.store(momentum_buf + o, b);
      d = nesterov ? madd(mv, b, g) : b;
    }
    v128.store(param + o, f32x4.sub(p, f32x4.mul(lrv, d)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const p = load<f32>(param + o);
    const g = weight_decay * p + load<f32>(grad + o) * grad_scale;
    let d = g;
    if (useBuf) {
      const b = momentum * load<f32>(momentum_buf + o) + g;
      store<f32>(momentum_buf + o, b);
      d = nesterov ? g + momentum * b : b;
    }
    store<f32>(param + o, p - lr * d);
  }
}

/**
 * out[0] = Σ_i x_i² over n f32, accumulated in f64 (each x_i² is exact in f64; only the sums
 * round, ≤ n·2^-53 relative), then rounded to f32 once. Any NaN in x gives NaN, any ±Inf gives
 * +Inf; a finite x whose sum exceeds the f32 range also gives +Inf (the true value is that large).
 */
export function sumsq_f32(out: usize /* (1) */, x: usize /* (n) */, n: i32): void {
  let s0 = f64x2.splat(0), s1 = s0, s2 = s0, s3 = s0;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = x + (<usize>i << 2);
    const q0 = v128.load(p), q1 = v128.load(p, 16);
    const lo0 = f64x2.promote_low_f32x4(q0), hi0 = f64x2.promote_low_f32x4(i32x4.shuffle(q0, q0, 2, 3, 0, 1));
    const lo1 = f64x2.promote_low_f32x4(q1), hi1 = f64x2.promote_low_f32x4(i32x4.shuffle(q1, q1, 2, 3, 0, 1));
    s0 = f64x2.add(s0, f64x2.mul(lo0, lo0)); s1 = f64x2.add(s1, f64x2.mul(hi0, hi0));
    s2 = f64x2.add(s2, f64x2.mul(lo1, lo1)); s3 = f64x2.add(s3, f64x2.mul(hi1, hi1));
  }
  const t = f64x2.add(f64x2.add(s0, s1), f64x2.add(s2, s3));
  let s = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
  for (; i < n; i++) {
    const xi = <f64>load<f32>(x + (<usize>i << 2));
    s += xi * xi;
  }
  store<f32>(out, <f32>s);
}
