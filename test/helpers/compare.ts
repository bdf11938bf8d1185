// Element-wise comparison of kernel output against a reference, for every kernel test.
// A failure reports how many elements missed, the largest difference and the first few
// mismatches (index, actual, expected, difference, allowed), as llm.c's check does.

/** Absolute + relative tolerance: |actual − expected| ≤ atol + rtol·|expected|. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Allowed |actual − expected| per element: an array, or a function of the flat index. */
export type PerElementTolerance = ArrayLike<number> | ((index: number) => number);

export interface CompareOptions {
  /** Row length, to print mismatches as (row, col) instead of flat indices. */
  cols?: number;
  /** How many mismatches to list (default 5). */
  show?: number;
}

/**
 * Throws unless every element of `actual` is within tolerance of `expected`.
 * NaN matches only NaN, and an infinity only the same infinity.
 * @example
 * expectClose(out, ref, { atol: 1e-6, rtol: 1e-5 }, 'softmax T=7');
 * expectClose(c, cRef, (i) => bound[i]!, 'gemm 5x8x3', { cols: 8 });
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>,
  tol: Tolerance | PerElementTolerance, label = '', opts: CompareOptions = {}): void {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length ${actual.length}, expected ${expected.length}`);
  }
  const allowed = toleranceFn(tol, expected);
  const show = opts.show ?? 5;
  const where = (i: number) => (opts.cols ? `(${Math.floor(i / opts.cols)},${i % opts.cols})` : `[${i}]`);
  const lines: string[] = [];
  let bad = 0, maxDiff = 0, maxAt = -1;
  for (let i = 0; i < actual.length; i++) {
    const x = actual[i]!, y = expected[i]!;
    if (x === y || (Number.isNaN(x) && Number.isNaN(y))) continue;
    const diff = Math.abs(x - y);
    if (!(diff <= maxDiff)) { maxDiff = diff; maxAt = i; }   // NaN differences count as the max
    const lim = allowed(i);
    if (diff <= lim) continue;
    bad++;
    if (lines.length < show) {
      lines.push(`  ${where(i)} actual ${x} expected ${y} diff ${diff.toExponential(3)} allowed ${lim.toExponential(3)}`);
    }
  }
  if (bad > 0) {
    throw new Error(`${label}: ${bad} of ${actual.length} elements out of tolerance; ` +
      `max |diff| ${maxDiff} at ${where(maxAt)}\n${lines.join('\n')}`);
  }
}

function toleranceFn(tol: Tolerance | PerElementTolerance, expected: ArrayLike<number>): (i: number) => number {
  if (typeof tol === 'function') return tol;
  if ('atol' in tol && 'rtol' in tol) {
    const { atol, rtol } = tol as Tolerance;
    return (i) => atol + rtol * Math.abs(expected[i]!);
  }
  const arr = tol as ArrayLike<number>;
  return (i) => arr[i]!;
}
