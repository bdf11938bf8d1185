// Compares a runtime's suite report with the report of the same suite run in Node.
//
// Tolerances: the simd and threads builds contain no operation whose result the WebAssembly
// spec leaves open (NaN bit patterns aside, which no check reads), and the library's JS side
// uses only correctly rounded arithmetic where results feed the numbers (Rng, β^t), so every
// kernel fingerprint, every training loss and every generated token must equal Node's bit
// for bit. The relaxed build's f32x4.relaxed_madd may be fused or not, at the engine's
// choice: the losses may then differ by rounding. Measured on this machine in Node, the
// fused (relaxed) and unfused (simd) runs of the tiny GPT differ by at most 9.0e-7 relative
// over the 40 steps; RELAXED_RTOL allows about 11× that.
import { expect } from 'vitest';
import type { SuiteReport, VariantReport } from './suite.js';

export const RELAXED_RTOL = 1e-5;

function sameBits(what: string, got: VariantReport, want: VariantReport): void {
  const differing = Object.keys(want.kernelDigests).filter((k) => got.kernelDigests[k] !== want.kernelDigests[k]);
  expect(differing, `${what}: kernels whose outputs differ from Node's in some bit`).toEqual([]);
  expect(got.lossBits, `${what}: training losses (f32 bits) vs Node`).toEqual(want.lossBits);
  expect(got.greedy, `${what}: greedy continuation vs Node`).toEqual(want.greedy);
  expect(got.sampled, `${what}: seeded sampled continuation vs Node`).toEqual(want.sampled);
}

/** What a comparison found, for the test's log. */
export interface Comparison {
  variants: string[];
  /** How relaxed compared: bits of Node's relaxed run (fused like V8), bits of Node's simd run (not fused), or only within tolerance. */
  relaxed: 'bit-identical' | 'unfused: bits of the simd run' | `within ${number}` | 'absent';
}

/**
 * Asserts `report` (from another runtime) agrees with `node`: every check passed, simd (and
 * threads, same code on a shared memory) bit-identical to Node's simd, relaxed within
 * RELAXED_RTOL of Node's relaxed (and its generation identical whenever its losses are).
 */
export function expectLikeNode(report: SuiteReport, node: SuiteReport): Comparison {
  const failed = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
  expect(failed, `${report.runtime}: failed checks`).toEqual([]);
  const nodeSimd = node.variants.simd!;
  expect(report.variants.simd, `${report.runtime}: the simd build did not run`).toBeDefined();
  sameBits(`${report.runtime} simd`, report.variants.simd!, nodeSimd);
  if (report.variants.threads) sameBits(`${report.runtime} threads`, report.variants.threads, nodeSimd);
  const got = report.variants.relaxed;
  const want = node.variants.relaxed;
  let relaxed: Comparison['relaxed'] = 'absent';
  if (got && want) {
    let worst = 0;
    got.losses.forEach((l, i) => { worst = Math.max(worst, Math.abs(l - want.losses[i]!) / Math.abs(want.losses[i]!)); });
    expect(worst, `${report.runtime} relaxed: largest relative loss difference from Node's relaxed run`).toBeLessThanOrEqual(RELAXED_RTOL);
    if (got.lossBits.join() === want.lossBits.join()) {
      expect(got.greedy).toEqual(want.greedy);
      expect(got.sampled).toEqual(want.sampled);
      relaxed = 'bit-identical';
    } else if (got.lossBits.join() === nodeSimd.lossBits.join()) {
      relaxed = 'unfused: bits of the simd run';
    } else {
      relaxed = `within ${worst}`;
    }
  }
  return { variants: Object.keys(report.variants), relaxed };
}
