// Plain-JS twin of assembly/softmax.ts: the oracle for its tests, the baseline for its
// benchmark and the fallback where a runtime has no wasm SIMD. Same arguments in the same
// order as the kernel; arrays are views starting where the kernel's pointers point.
// Arithmetic is in f64 (JS numbers); Float64Array arguments keep it f64 end to end (gradchecks).

/** A float buffer: f32 as the kernels store it, or f64 for finite-difference checks. */
export type Floats = Float32Array | Float64Array;

/**
 * out (rows, cols) = softmax over each row of scale·inp; with causal ≠ 0 only the columns
 * j ≤ (r % block) + cols − block are visible, the others get 0. Rows with nothing visible, or
 * with all visible inputs −Infinity, become all zeros.
 * @example softmaxForward(out, inp, 4, 4, 4, 1, 1) // 4×4 causal attention weights
 */
export function softmaxForward(out: Floats, inp: Floats, rows: number, cols: number,
  block: number, scale: number, causal: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const visible = causal ? Math.min(cols, Math.max(0, (r % block) + cols - block + 1)) : cols;
    let max = -Infinity;
    for (let j = 0; j < visible; j++) max = Math.max(max, scale * inp[o + j]!);
    let sum = 0;
    for (let j = 0; j < visible; j++) {
      const e = max === -Infinity ? 0 : Math.exp(scale * inp[o + j]! - max);
      out[o + j] = e;
      sum += e;
    }
    for (let j = 0; j < cols; j++) out[o + j] = j < visible && sum > 0 ? out[o + j]! / sum : 0;
  }
}

/**
 * dinp (rows, cols) += scale · out ⊙ (dout − Σ_j dout·out), per row; differentiates
 * `out = softmax(scale·inp)`.
 */
export function softmaxBackward(dinp: Floats, dout: Floats, out: Floats, rows: number, cols: number,
  scale: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let dot = 0;
    for (let j = 0; j < cols; j++) dot += dout[o + j]! * out[o + j]!;
    for (let j = 0; j < cols; j++) dinp[o + j] = dinp[o + j]! + scale * out[o + j]! * (dout[o + j]! - dot);
  }
}

/**
 * Key padding mask: row r of scores (rows, cols) reads mask row ⌊r / group⌋ (maskLd apart);
 * where the mask is 0 the score becomes −Infinity (softmax then gives it probability 0).
 * @example attentionMask(scores, mask, 2 * 4 * 5, 5, 4 * 5, 5) // (B=2, NH=4, Tq=5, Tk=5) with mask (2, 5)
 */
export function attentionMask(scores: Floats, mask: Int32Array, rows: number, cols: number, group: number, maskLd: number): void {
  for (let r = 0; r < rows; r++) {
    const m = Math.floor(r / group) * maskLd;
    for (let j = 0; j < cols; j++) if (mask[m + j] === 0) scores[r * cols + j] = -Infinity;
  }
}
