// Row-wise softmax, forward and backward, for attention scores and output heads.
// A row is `cols` contiguous f32; with causal masking only a prefix of each row is visible
// (the rule below covers T×T causal attention and KV-cache decoding alike). Rows are
// independent, so callers may split them across threads. Pointers need 4-byte alignment only.
import { madd, hsum, hmax, exp4Nonpos, exp1Nonpos } from "./simd_math";

/** How many leading columns of row r are visible: all, or (r % block) + cols − block + 1 clamped to [0, cols]. */
// @ts-ignore: decorator
@inline function visibleCols(r: i32, cols: i32, block: i32, causal: i32): i32 {
  if (causal == 0) return cols;
  return min(cols, max(0, (r % block) + cols - block + 1));
}

/** Largest of x[0..v) when s ≥ 0, smallest when s < 0: the x at which s·x is largest. pmax/pmin
 *  (one instruction each) skip NaN here; a NaN input still turns its row to NaN through the sum. */
function rowExtreme(x: usize, v: i32, s: f32): f32 {
  const neg = s < 0;
  let m0 = f32x4.splat(neg ? Infinity : -Infinity);
  let m1 = m0, m2 = m0, m3 = m0;
  let i = 0;
  for (; i + 16 <= v; i += 16) {
    const p = x + (<usize>i << 2);
    if (neg) {
      m0 = f32x4.pmin(m0, v128.load(p));      m1 = f32x4.pmin(m1, v128.load(p, 16));
      m2 = f32x4.pmin(m2, v128.load(p, 32));  m3 = f32x4.pmin(m3, v128.load(p, 48));
    } else {
      m0 = f32x4.pmax(m0, v128.load(p));      m1 = f32x4.pmax(m1, v128.load(p, 16));
      m2 = f32x4.pmax(m2, v128.load(p, 32));  m3 = f32x4.pmax(m3, v128.load(p, 48));
    }
  }
  for (; i + 4 <= v; i += 4) {
    const q = v128.load(x + (<usize>i << 2));
    if (neg) m0 = f32x4.pmin(m0, q); else m0 = f32x4.pmax(m0, q);
  }
  if (neg) {
    let m = -hmax(f32x4.neg(f32x4.min(f32x4.min(m0, m1), f32x4.min(m2, m3))));
    for (; i < v; i++) m = min<f32>(m, load<f32>(x + (<usize>i << 2)));
    return m;
  }
  let m = hmax(f32x4.max(f32x4.max(m0, m1), f32x4.max(m2, m3)));
  for (; i < v; i++) m = max<f32>(m, load<f32>(x + (<usize>i << 2)));
  return m;
}

/**
 * out (rows, cols) = softmax over each row of scale·inp (rows, cols); with causal ≠ 0 only the
 * columns j ≤ (r % block) + cols − block are visible and the others are set to 0. A row with
 * nothing visible, or whose visible inputs are all −Infinity, becomes all zeros.
 * The exponent is computed as scale·(x − x*) with x* the row's arg-max of scale·x, so it is
 * ≤ 0 and never overflows, even for huge equal logits (3e38) or large scales; hence exp4Nonpos.
 * In-place (out == inp) is allowed. With causal ≠ 0, block must be ≥ 1.
 */
export function softmax_forward(out: usize /* (rows, cols) */, inp: usize /* (rows, cols) */,
  rows: i32, cols: i32, block: i32, scale: f32, causal: i32): void {
  const sv = f32x4.splat(scale);
  for (let r = 0; r < rows; r++) {
    const x = inp + (<usize>r * <usize>cols << 2);
    const y = out + (<usize>r * <usize>cols << 2);
    let v = visibleCols(r, cols, block, causal);
    const xm = v > 0 ? rowExtreme(x, v, scale) : <f32>NaN;
    if (scale * xm == -Infinity) v = 0;             // all visible inputs −Inf: nothing to weigh
    let inv: f32 = 0;
    let i = 0;
    if (v > 0) {
      const mv = f32x4.splat(xm);
      let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
      for (; i + 16 <= v; i += 16) {
        const o = <usize>i << 2;
        const e0 = exp4Nonpos(f32x4.mul(f32x4.sub(v128.load(x + o), mv), sv));
        const e1 = exp4Nonpos(f32x4.mul(f32x4.sub(v128.load(x + o, 16), mv), sv));
        const e2 = exp4Nonpos(f32x4.mul(f32x4.sub(v128.load(x + o, 32), mv), sv));
        const e3 = exp4Nonpos(f32x4.mul(f32x4.sub(v128.load(x + o, 48), mv), sv));
        v128.store(y + o, e0); v128.store(y + o, e1, 16); v128.store(y + o, e2, 32); v128.store(y + o, e3, 48);
        s0 = f32x4.add(s0, e0); s1 = f32x4.add(s1, e1); s2 = f32x4.add(s2, e2); s3 = f32x4.add(s3, e3);
      }
      for (; i + 4 <= v; i += 4) {
        const o = <usize>i << 2;
        const e = exp4Nonpos(f32x4.mul(f32x4.sub(v128.load(x + o), mv), sv));
        v128.store(y + o, e);
        s0 = f32x4.add(s0, e);
      }
      let sum = hsum(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)));
      for (; i < v; i++) {
        const e = exp1Nonpos((load<f32>(x + (<usize>i << 2)) - xm) * scale);
        store<f32>(y + (<usize>i << 2), e);
        sum += e;
      }
      inv = 1.0 / sum;
    }
    // out[0..v) *= 1/sum; masked columns v..cols (all of an empty row) get 0.
    const iv = f32x4.splat(inv);
    let j = 0;
    for (; j + 4 <= v; j += 4) {
      const o = <usize>j << 2;
      v128.store(y + o, f32x4.mul(v128.load(y + o), iv));
    }
    for (; j < v; j++) store<f32>(y + (<usize>j << 2), load<f32>(y + (<usize>j << 2)) * inv);
    for (; j < cols; j++) store<f32>(y + (<usize>j << 2), 0);
  }
}

/**
 * dinp (rows, cols) += scale · out ⊙ (dout − Σ_j dout·out), per row. Differentiates
 *   out = softmax(scale·inp)
 * masked columns have out = 0, so they receive nothing. dinp may equal dout (in place); no other overlap.
 */
export function softmax_backward(dinp: usize /* (rows, cols) */, dout: usize /* (rows, cols) */,
  out: usize /* (rows, cols) */, rows: i32, cols: i32, scale: f32): void {
  const sv = f32x4.splat(scale);
  for (let r = 0; r < rows; r++) {
    const rb = <usize>r * <usize>cols << 2;
    const g = dout + rb, y = out + rb, d = dinp + rb;
    // dot = Σ_j dout[j]·out[j]
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    let i = 0;
    for (; i + 16 <= cols; i += 16) {
      const o = <usize>i << 2;
      a0 = madd(v128.load(g + o), v128.load(y + o), a0);
      a1 = madd(v128.load(g + o, 16), v128.load(y + o, 16), a1);
      a2 = madd(v128.load(g + o, 32), v128.load(y + o, 32), a2);
      a3 = madd(v128.load(g + o, 48), v128.load(y + o, 48), a3);
    }
    for (; i + 4 <= cols; i += 4) {
      const o = <usize>i << 2;
      a0 = madd(v128.load(g + o), v128.load(y + o), a0);
    }
    let dot = hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
    for (; i < cols; i++) dot += load<f32>(g + (<usize>i << 2)) * load<f32>(y + (<usize>i << 2));
    // dinp[j] += (scale·out[j]) · (dout[j] − dot)
    const dv = f32x4.splat(dot);
    let j = 0;
    for (; j + 8 <= cols; j += 8) {
      const o = <usize>j << 2;
      const t0 = f32x4.sub(v128.load(g + o), dv), t1 = f32x4.sub(v128.load(g + o, 16), dv);
      v128.store(d + o, madd(f32x4.mul(v128.load(y + o), sv), t0, v128.load(d + o)));
      v128.store(d + o, madd(f32x4.mul(v128.load(y + o, 16), sv), t1, v128.load(d + o, 16)), 16);
    }
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      const t = f32x4.sub(v128.load(g + o), dv);
      v128.store(d + o, madd(f32x4.mul(v128.load(y + o), sv), t, v128.load(d + o)));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(d + o, load<f32>(d + o) + load<f32>(y + o) * scale * (load<f32>(g + o) - dot));
    }
  }
}

/**
 * Key padding mask for attention scores (rows, cols): row r reads mask row ⌊r / group⌋ (i32,
 * maskLd elements apart); where the mask is 0 the score becomes −Infinity, which softmax_forward
 * turns into probability exactly 0 (a row with no key left becomes all zeros). Scores of
 * (B, NH, Tq, Tk) with a (B, Tk) mask: rows = B·NH·Tq, cols = Tk, group = NH·Tq.
 */
export function attention_mask_f32(scores: usize /* (rows, cols) */, mask: usize /* i32 (rows/group, maskLd) */,
  rows: i32, cols: i32, group: i32, maskLd: i32): void {
  const ninf = f32x4.splat(-Infinity);
  const zero = i32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const s = scores + (<usize>r * <usize>cols << 2);
    const m = mask + (<usize>(r / group) * <usize>maskLd << 2);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      const off = i32x4.eq(v128.load(m + o), zero);          // lanes to hide: all ones
      v128.store(s + o, v128.bitselect(ninf, v128.load(s + o), off));
    }
    for (; j < cols; j++) {
      if (load<i32>(m + (<usize>j << 2)) == 0) store<f32>(s + (<usize>j << 2), -Infinity);
    }
  }
}
