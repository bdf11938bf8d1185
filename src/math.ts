// Small numeric helpers every layer may use, with no dependencies: logarithm and integer powers
// computed with IEEE-exact operations only (the same double in every JavaScript engine, which
// `Math.log` and `Math.pow` do not promise), and the argmax of a row of logits.
import { ShapeError, ValueError } from './errors.js';

const LN2 = 0.6931471805599453;

/**
 * Natural logarithm of x > 0 using only IEEE-exact operations: x = m·2^e with m in
 * [√½, √2), then ln m = 2·atanh(t), t = (m−1)/(m+1), |t| < 0.172, by its odd series.
 * Accurate to about 1 ulp of a double; identical in every engine.
 */
export function portableLog(x: number): number {
  let e = 0;
  let m = x;
  while (m >= 1.4142135623730951) { m *= 0.5; e++; }
  while (m < 0.7071067811865476) { m *= 2; e--; }
  const t = (m - 1) / (m + 1);
  const t2 = t * t;
  // atanh(t)/t = Σ t^(2k)/(2k+1); |t|^2 < 0.0295, so 14 terms reach below 2^-53.
  let sum = 0;
  for (let k = 14; k >= 1; k--) sum = sum * t2 + 1 / (2 * k + 1);
  sum = sum * t2 + 1;
  return 2 * t * sum + e * LN2;
}

/**
 * x^n for an integer n ≥ 0 by repeated squaring: only IEEE-exact multiplications, so the
 * same double in every engine (`Math.pow` is not required to be correctly rounded and
 * engines differ in the last bit). Used for Adam's bias corrections β^t.
 */
export function portablePowInt(x: number, n: number): number {
  let result = 1;
  let base = x;
  for (let k = n; k > 0; k = Math.floor(k / 2)) {
    if (k % 2 === 1) result *= base;
    base *= base;
  }
  return result;
}

/**
 * The id of the largest logit; ties go to the lowest id. A row of all −Infinity gives 0.
 * @throws ShapeError if `logits` is empty; ValueError if it holds a NaN (naming its index).
 * @example
 * ```ts
 * argmax(new Float32Array([0.5, 2, 2, -1])); // 1
 * ```
 */
export function argmax(logits: Float32Array): number {
  return scanLogits('argmax', logits).best;
}

/** The largest logit and its id (ties: the lowest id); throws ShapeError if empty, ValueError naming a NaN. */
export function scanLogits(op: string, logits: Float32Array): { best: number; max: number } {
  if (logits.length === 0) throw new ShapeError(`${op}: logits is empty (V = 0)`);
  let best = 0;
  let max = -Infinity;
  let nan = 0;
  // the NaN test without a branch (x !== x only for NaN): a vocabulary-long loop per token
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i]!;
    if (x > max) {
      max = x;
      best = i;
    }
    nan |= +(x !== x);
  }
  if (nan) throw new ValueError(`${op}: logit ${logits.findIndex(Number.isNaN)} of ${logits.length} is NaN`);
  return { best, max };
}

/**
 * x rounded to the nearest integer, ties to even (IEEE's default; Math.round sends ties up).
 * @example
 * ```ts
 * roundEven(2.5);   // 2
 * roundEven(-3.5);  // -4
 * ```
 */
export function roundEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
