// Plain-JS twin of assembly/elementwise.ts: the oracle for its tests, the baseline for its
// benchmark and the fallback where a runtime has no wasm SIMD. Same arguments in the same
// order as the kernel; arrays are views starting where the kernel's pointers point.
import type { Floats } from './softmax.js';

/** out (n) = a + b; out may be a or b. */
export function addF32(out: Floats, a: Floats, b: Floats, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
}

/** out (n) = a ⊙ b; out may be a or b. */
export function mulF32(out: Floats, a: Floats, b: Floats, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i]! * b[i]!;
}

/** out (n) = s·a; out may be a. */
export function scaleF32(out: Floats, a: Floats, s: number, n: number): void {
  for (let i = 0; i < n; i++) out[i] = s * a[i]!;
}

/** y (n) += alpha·x. */
export function axpyF32(y: Floats, x: Floats, alpha: number, n: number): void {
  for (let i = 0; i < n; i++) y[i] = y[i]! + alpha * x[i]!;
}

/** out (n) = value. */
export function fillF32(out: Floats, value: number, n: number): void {
  for (let i = 0; i < n; i++) out[i] = value;
}

/** out (n) = src (n); overlap-safe when both are views of one buffer (copies backwards if needed). */
export function copyF32(out: Floats, src: Floats, n: number): void {
  if (out.buffer === src.buffer && out.byteOffset > src.byteOffset) {
    for (let i = n - 1; i >= 0; i--) out[i] = src[i]!;
  } else {
    for (let i = 0; i < n; i++) out[i] = src[i]!;
  }
}

/** out (cols) += Σ_i inp[i, :] over rows (bias gradients). */
export function colsumF32(out: Floats, inp: Floats, rows: number, cols: number, ld = cols): void {
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) out[j] = out[j]! + inp[r * ld + j]!;
  }
}

/** out = [the first index of x's largest element (0 when none exceeds −∞; NaN ignored), 1 if x holds a NaN else 0]. */
export function argmaxF32(out: Int32Array, x: Floats, n: number): void {
  let best = 0, top = -Infinity, bad = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    if (v > top) { top = v; best = i; }
    if (v !== v) bad = 1;
  }
  out[0] = best;
  out[1] = bad;
}
