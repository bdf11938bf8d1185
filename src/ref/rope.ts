// Plain-JS twin of assembly/rope.ts (oracle, baseline, fallback): rotary position embeddings in
// the GPT-NeoX / Llama "rotate half" layout over the same cos/sin table the kernels read.
// Arithmetic in f64.
import type { Floats } from './softmax.js';

/**
 * out (n, nHead·hs) = inp (n rows ld apart) with the first rd elements of each head rotated:
 * pair (i, i + rd/2) by the angle in row positions[r] − p0 of table ([cos | sin], rd per row).
 * @example ropeForward(out, qkv, table, positions, 0, 8, 4, 16, 16, 192) // Q of a fused (8, 192)
 */
export function ropeForward(out: Floats, inp: Floats, table: Floats, positions: Int32Array, p0: number,
  n: number, nHead: number, hs: number, rd: number, ld: number): void {
  const half = rd / 2;
  for (let r = 0; r < n; r++) {
    const t = (positions[r]! - p0) * rd;
    for (let h = 0; h < nHead; h++) {
      const x = r * ld + h * hs, y = r * nHead * hs + h * hs;
      for (let i = 0; i < half; i++) {
        const c = table[t + i]!, s = table[t + half + i]!, x1 = inp[x + i]!, x2 = inp[x + half + i]!;
        out[y + i] = x1 * c - x2 * s;
        out[y + half + i] = x2 * c + x1 * s;
      }
      for (let j = rd; j < hs; j++) out[y + j] = inp[x + j]!;
    }
  }
}

/** dinp (n rows ld apart) += the inverse rotation of dout (n, nHead·hs): dx1 += dy1·cos + dy2·sin, dx2 += dy2·cos − dy1·sin. */
export function ropeBackward(dinp: Floats, dout: Floats, table: Floats, positions: Int32Array, p0: number,
  n: number, nHead: number, hs: number, rd: number, ld: number): void {
  const half = rd / 2;
  for (let r = 0; r < n; r++) {
    const t = (positions[r]! - p0) * rd;
    for (let h = 0; h < nHead; h++) {
      const d = r * ld + h * hs, g = r * nHead * hs + h * hs;
      for (let i = 0; i < half; i++) {
        const c = table[t + i]!, s = table[t + half + i]!, g1 = dout[g + i]!, g2 = dout[g + half + i]!;
        dinp[d + i] = dinp[d + i]! + (g1 * c + g2 * s);
        dinp[d + half + i] = dinp[d + half + i]! + (g2 * c - g1 * s);
      }
      for (let j = rd; j < hs; j++) dinp[d + j] = dinp[d + j]! + dout[g + j]!;
    }
  }
}

/**
 * Rows [p0, p0 + count) of the rotary table for rd rotary dims: row p holds cos(p·θ_i) for
 * i < rd/2, then sin(p·θ_i), θ_i = base^(−2i/rd), the angle and both functions in f64, each
 * rounded once to f32 — so an entry is within u·|value| + p·2^-51 of the exact one (the angle's
 * f64 error is ≤ p·θ_i·2^-51), whatever the position (no f32 angle p·θ_i, which at p = 8192 would
 * be off by up to 2^-11 rad).
 * @example ropeTable(0, 1024, 64, 10000) // (1024, 64)
 */
export function ropeTable(p0: number, count: number, rd: number, base: number): Float32Array {
  const half = rd / 2, out = new Float32Array(count * rd);
  const theta = Array.from({ length: half }, (_, i) => Math.pow(base, (-2 * i) / rd));
  for (let k = 0; k < count; k++) {
    const p = p0 + k;
    for (let i = 0; i < half; i++) {
      const angle = p * theta[i]!;
      out[k * rd + i] = Math.cos(angle);
      out[k * rd + half + i] = Math.sin(angle);
    }
  }
  return out;
}
